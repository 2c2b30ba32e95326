import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type Tracker } from '../../src/index';
import { INTENT_TIMEOUT_MS } from '../../src/capture/merge';

let tracker: Tracker | undefined;
const win = window as unknown as Record<string, unknown>;

async function setup(html = '', options: Record<string, unknown> = {}): Promise<Tracker> {
  document.body.innerHTML = html;
  tracker = createTracker({ allowAutomation: true, ...options });
  await tracker.flush();
  return tracker;
}
async function signals(): Promise<Record<string, number>> {
  return (await tracker!.getState()).signals;
}
/** Lets the post-dispatch check (setTimeout 0) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
function click(selector: string, prevent = false): Event {
  const element = document.querySelector(selector)!;
  const event = new MouseEvent('click', { bubbles: true, cancelable: true });
  if (prevent) element.addEventListener('click', (e) => e.preventDefault(), { once: true });
  element.dispatchEvent(event);
  return event;
}
function submit(selector: string, { prevent = false, submitter }: { prevent?: boolean; submitter?: string } = {}): void {
  const form = document.querySelector(selector) as HTMLFormElement;
  if (prevent) form.addEventListener('submit', (e) => e.preventDefault(), { once: true });
  const init: SubmitEventInit = { bubbles: true, cancelable: true, submitter: submitter ? (document.querySelector(submitter) as HTMLElement) : null };
  form.dispatchEvent(new SubmitEvent('submit', init));
}

/**
 * The page is left and the next page of this tab (at `path`, showing `html`) loads a new tracker,
 * which decides the provisional cart adds once it has rendered. Returns that page's signals.
 */
async function nextPage(html: string, path = '/'): Promise<Record<string, number>> {
  window.dispatchEvent(new PageTransitionEvent('pagehide'));
  tracker!.destroy();
  history.replaceState(null, '', path);
  document.body.innerHTML = html;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  tracker = createTracker({ allowAutomation: true });
  await tracker.flush();
  await vi.advanceTimersByTimeAsync(2000);
  return signals();
}

/**
 * Resource Timing as a browser reports it (happy-dom has none): `performanceEntry(path, status)`
 * delivers one fetch entry to the page's observers. Call before setup().
 */
const observers = new Set<(list: { getEntries(): unknown[] }) => void>();
/** `responseStatus: false`: an engine without it (WebKit). */
function fakeResourceTiming({ responseStatus = true } = {}): void {
  vi.stubGlobal('PerformanceResourceTiming', responseStatus ? class { responseStatus = 0; static { Object.defineProperty(this.prototype, 'responseStatus', { value: 0 }); } } : class {});
  vi.stubGlobal(
    'PerformanceObserver',
    class {
      static supportedEntryTypes = ['resource'];
      constructor(private callback: (list: { getEntries(): unknown[] }) => void) {}
      observe(): void {
        observers.add(this.callback);
      }
      disconnect(): void {
        observers.delete(this.callback);
      }
    },
  );
}
function performanceEntry(path: string, status: number | undefined): void {
  const entry = { name: location.origin + path, initiatorType: 'fetch', responseStatus: status };
  for (const callback of observers) callback({ getEntries: () => [entry] });
}

/** A stand-in for the page's jQuery: `.on/.off/.trigger` on document, as jQuery's own event system does. */
function installJQuery(name = 'jQuery'): (event: string, ...args: unknown[]) => void {
  const handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  const $ = Object.assign(
    () => ({
      on: (events: string, handler: (...args: unknown[]) => void) => {
        for (const name of events.split(' ')) handlers.set(name, [...(handlers.get(name) ?? []), handler]);
      },
      off: (events: string) => handlers.delete(events),
    }),
    { fn: { jquery: '3.7.1' } },
  );
  win[name] = $;
  return (event, ...args) => handlers.get(event)?.forEach((handler) => handler({ type: event }, ...args));
}

beforeEach(() => {
  history.replaceState(null, '', '/');
  for (const key of ['jQuery', '$', 'prestashop', 'dataLayer', 'ShopifyAnalytics']) delete win[key];
});
afterEach(async () => {
  if (tracker) {
    await tracker.reset();
    tracker.destroy();
    tracker = undefined;
  }
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  observers.clear();
});

describe('page views', () => {
  it('counts the load, then each single-page-app navigation to a new path once', async () => {
    await setup();
    history.pushState(null, '', '/products/mug');
    history.replaceState(null, '', '/products/mug');
    history.pushState(null, '', '/products/mug');
    history.pushState(null, '', '/products/mug?color=blue');
    history.pushState(null, '', '/cart');
    expect((await signals()).page_view).toBe(3);
    // Back to the product: a real navigation to another path.
    history.back();
    window.dispatchEvent(new PopStateEvent('popstate'));
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect((await signals()).page_view).toBe(4);
  });

  it('counts replaceState only when the path changes', async () => {
    await setup();
    history.replaceState(null, '', '/?sort=price');
    history.replaceState(null, '', '/pricing');
    expect((await signals()).page_view).toBe(2);
  });

  it('scores high-value page views through the page_view rules', async () => {
    await setup();
    history.pushState(null, '', '/pricing');
    const state = await tracker!.getState();
    expect(state.rules.high_value_page).toEqual({ count: 1, points: 12 });
  });

  it('counts hash changes only when configured', async () => {
    await setup('', { hashChange: true });
    location.hash = '#/products';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect((await signals()).page_view).toBe(2);
  });

  it('ignores hash changes by default', async () => {
    await setup();
    location.hash = '#section';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect((await signals()).page_view).toBe(1);
  });

  it('is not doubled by host patches of history before and after the snippet', async () => {
    const calls: string[] = [];
    const original = history.pushState;
    history.pushState = function (...args: Parameters<History['pushState']>) {
      calls.push('before');
      return original.apply(this, args);
    };
    await setup();
    const ours = history.pushState;
    history.pushState = function (...args: Parameters<History['pushState']>) {
      calls.push('after');
      // A sloppy host wrapper that calls through twice.
      ours.apply(this, args);
      return ours.apply(this, args);
    };
    history.pushState(null, '', '/a');
    history.pushState(null, '', '/b');
    expect((await signals()).page_view).toBe(3);
    expect(calls).toEqual(['after', 'before', 'before', 'after', 'before', 'before']);
    history.pushState = original;
  });

  it('counts a back/forward cache restore as a page view', async () => {
    await setup();
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    expect((await signals()).page_view).toBe(2);
  });

  it('counts nothing in a prerendered page until it is activated', async () => {
    Object.defineProperty(document, 'prerendering', { configurable: true, get: () => true });
    try {
      await setup();
      expect((await signals()).page_view).toBeUndefined();
      Object.defineProperty(document, 'prerendering', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('prerenderingchange'));
      expect((await signals()).page_view).toBe(1);
    } finally {
      delete (document as { prerendering?: boolean }).prerendering;
    }
  });
});

describe('cart adds', () => {
  const SHOPIFY_FORM = `<form method="post" action="/cart/add" data-type="add-to-cart-form"><input type="hidden" name="id" value="4242">
      <input name="quantity" value="2"><button type="submit" name="add">Add to cart</button></form>`;
  it('Shopify: a product form that posts and navigates is provisional; the cart page it leads to counts it', async () => {
    await setup(SHOPIFY_FORM);
    submit('form');
    await settle();
    expect((await signals()).add_to_cart).toBeUndefined();
    expect(await nextPage('<h1>Your cart</h1>', '/cart')).toMatchObject({ add_to_cart: 1 });
    expect((await tracker!.getState()).rules.add_to_cart).toBeDefined();
  });

  it("Shopify: a classic post the store refuses (rendered at /cart/add) is not counted", async () => {
    await setup(SHOPIFY_FORM);
    submit('form');
    await settle();
    expect((await nextPage('<p>Cart error: sold out</p>', '/cart/add')).add_to_cart).toBeUndefined();
  });

  it('a provisional add on a page that is not left is decided by that page', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    await setup(SHOPIFY_FORM);
    submit('form');
    await vi.advanceTimersByTimeAsync(10);
    expect((await signals()).add_to_cart).toBeUndefined();
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('Shopify: an AJAX add waits for its outcome and is dropped without one from a failed request', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    await setup(`<form method="post" action="/cart/add"><button type="submit">Add to cart</button></form>`);
    submit('form', { prevent: true });
    await vi.advanceTimersByTimeAsync(10);
    expect((await signals()).add_to_cart).toBeUndefined();
    await vi.advanceTimersByTimeAsync(INTENT_TIMEOUT_MS);
    // A known platform control with no visible outcome counts at the deadline.
    expect((await signals()).add_to_cart).toBe(1);
  });

  it("an engine without responseStatus (WebKit): a sold-out add is not counted; the page's own fetch tells the status, unchanged", async () => {
    fakeResourceTiming({ responseStatus: false });
    const statuses = [422, 200];
    const pageFetch = vi.fn(async () => new Response('{}', { status: statuses.shift() }));
    vi.stubGlobal('fetch', pageFetch);
    await setup(`<form method="post" action="/cart/add" id="f"><input type="hidden" name="id" value="1"><button type="submit">Add to cart</button></form>`);
    const form = document.querySelector('form')!;
    const seen: number[] = [];
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void window.fetch('/cart/add', { method: 'POST', body: new FormData(form) }).then((response) => seen.push(response.status));
    });
    submit('form');
    await settle();
    performanceEntry('/cart/add', undefined); // Resource Timing says nothing about the status
    await new Promise((resolve) => setTimeout(resolve, 3100)); // a new action for the next click
    submit('form');
    await settle();
    performanceEntry('/cart/add', undefined);
    expect(seen).toEqual([422, 200]); // the page got its responses
    expect(pageFetch).toHaveBeenCalledTimes(2);
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('WooCommerce: an AJAX archive button and the jQuery added_to_cart event are one add', async () => {
    const trigger = installJQuery();
    await setup(`<a href="?add-to-cart=77" class="button product_type_simple add_to_cart_button ajax_add_to_cart" data-product_id="77" data-quantity="1">Add to cart</a>`);
    click('a', true);
    await settle();
    trigger('added_to_cart', {}, 'hash', { attr: (name: string) => (name === 'data-product_id' ? '77' : undefined) });
    document.body.dispatchEvent(new CustomEvent('wc-blocks_added_to_cart', { bubbles: true }));
    expect((await signals()).add_to_cart).toBe(1);
  });

  it.each([
    ['counts when the next page confirms it', '<div class="woocommerce-message" role="alert">“Mug” has been added to your cart.</div>', 1],
    ['is not counted when the next page shows the error notice', '<ul class="woocommerce-error" role="alert"><li>Sorry, “Mug” is out of stock.</li></ul>', undefined],
    ['is not counted when the next page shows the Blocks error banner', '<div class="wc-block-components-notice-banner is-error">Out of stock</div>', undefined],
  ])('WooCommerce: a classic single-product form post %s', async (_, next, expected) => {
    await setup(`<form class="cart" method="post" action="/product/mug"><input name="quantity" value="1"><button type="submit" name="add-to-cart" value="15">Add to cart</button></form>`);
    submit('form');
    await settle();
    expect((await nextPage(next, '/product/mug')).add_to_cart).toBe(expected);
  });

  it("WooCommerce: an AJAX add the store refuses (200 with an error, then a redirect to the product) is not counted", async () => {
    const trigger = installJQuery();
    fakeResourceTiming();
    await setup(`<a href="?add-to-cart=15" class="button add_to_cart_button ajax_add_to_cart" data-product_id="15">Add to cart</a>`);
    click('a', true);
    await settle();
    // The 200 of ?wc-ajax=add_to_cart, as Resource Timing reports it, proves nothing; no added_to_cart follows.
    performanceEntry('/?wc-ajax=add_to_cart', 200);
    void trigger;
    expect((await nextPage('<ul class="woocommerce-error"><li>Please choose product options.</li></ul>', '/product/variable')).add_to_cart).toBeUndefined();
  });

  it("Shopify standard storefront events: shopify:cart:lines-update with action 'add' counts, others do not", async () => {
    await setup();
    document.dispatchEvent(Object.assign(new CustomEvent('shopify:cart:lines-update', { detail: { action: 'update' } })));
    document.dispatchEvent(Object.assign(new CustomEvent('shopify:cart:lines-update', { detail: { action: 'add' } })));
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('WooCommerce Blocks: the DOM event alone counts', async () => {
    await setup();
    document.body.dispatchEvent(new CustomEvent('wc-blocks_added_to_cart', { bubbles: true }));
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('Magento: ajax:addToCart through a jQuery that loads late', async () => {
    await setup(`<form id="product_addtocart_form" action="/checkout/cart/add/product/5/" method="post"><input name="product" value="5"><button type="submit">Add to Cart</button></form>`);
    const trigger = installJQuery();
    window.dispatchEvent(new Event('load'));
    submit('form', { prevent: true });
    await settle();
    trigger('ajax:addToCart', { sku: 'MUG-1', productIds: ['5'] });
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('BigCommerce: an add link that navigates counts on the next page', async () => {
    installJQuery('$');
    await setup(`<a href="/cart.php?action=add&product_id=88" data-button-type="add-cart">Add to Cart</a>`);
    click('a');
    await settle();
    expect((await nextPage('<h1>Your Cart (1 item)</h1>', '/cart.php')).add_to_cart).toBe(1);
  });

  it.each([
    ['its error message', () => void (document.body.innerHTML = '<div class="message-error error message">Out of stock</div>'), undefined],
    ['its mage-messages cookie', () => void (document.cookie = 'mage-messages=' + encodeURIComponent(JSON.stringify([{ type: 'error', text: 'Out of stock' }]))), undefined],
    ['nothing wrong', () => undefined, 1],
  ])('Magento: an add answered with backUrl is decided by the page it leads to (%s)', async (_, show, expected) => {
    await setup(`<form id="product_addtocart_form" action="/checkout/cart/add/product/5/" method="post"><input name="product" value="5"><button type="submit">Add to Cart</button></form>`);
    const trigger = installJQuery();
    window.dispatchEvent(new Event('load'));
    submit('form', { prevent: true });
    await settle();
    trigger('ajax:addToCart', { sku: 'MUG-1', productIds: ['5'], response: { backUrl: '/mug.html' } });
    expect((await signals()).add_to_cart).toBeUndefined();
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    show();
    try {
      expect((await nextPage(document.body.innerHTML, '/mug.html')).add_to_cart).toBe(expected);
    } finally {
      document.cookie = 'mage-messages=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
    }
  });

  it('BigCommerce: an AJAX add counts on the cart counter update, not on its 200 (which may carry an error)', async () => {
    const trigger = installJQuery('$');
    fakeResourceTiming();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    await setup(`<form method="post" action="/cart.php" data-cart-item-add><input name="product_id" value="88"><input type="submit" value="Add to Cart"></form>`);
    window.dispatchEvent(new Event('load'));
    submit('form', { prevent: true });
    performanceEntry('/remote/v1/cart/add', 200);
    await vi.advanceTimersByTimeAsync(INTENT_TIMEOUT_MS + 100);
    expect((await signals()).add_to_cart).toBeUndefined();
    submit('form', { prevent: true });
    performanceEntry('/remote/v1/cart/add', 200);
    trigger('cart-quantity-update', 1);
    await vi.advanceTimersByTimeAsync(10);
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('PrestaShop: updateCart with linkAction add-to-cart counts, other cart updates do not', async () => {
    const listeners: ((event: unknown) => void)[] = [];
    win.prestashop = { on: (_: string, handler: (event: unknown) => void) => listeners.push(handler) };
    await setup(`<button data-button-action="add-to-cart" type="button">Add to cart</button>`);
    click('button', true);
    await settle();
    listeners.forEach((listener) => listener({ reason: { linkAction: 'add-to-cart', idProduct: 3, idProductAttribute: 9 } }));
    listeners.forEach((listener) => listener({ reason: { linkAction: 'delete-from-cart', idProduct: 3 } }));
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('GA4 dataLayer: entries pushed before the snippet loaded and after, objects and gtag arguments', async () => {
    const dataLayer: unknown[] = [{ event: 'gtm.js' }, { event: 'add_to_cart', ecommerce: { items: [{ item_id: 'a' }] } }];
    win.dataLayer = dataLayer;
    await setup();
    dataLayer.push({ ecommerce: null });
    // eslint-disable-next-line prefer-rest-params
    (function gtag(..._: unknown[]) { dataLayer.push(arguments); })('event', 'add_to_cart', { items: [{ item_id: 'b' }] });
    dataLayer.push({ event: 'addToCart', ecommerce: { add: { products: [{ id: 'c' }] } } });
    dataLayer.push({ event: 'add_to_wishlist', ecommerce: { items: [{ item_id: 'd' }] } });
    expect(dataLayer.length).toBe(6);
    const state = await signals();
    expect(state.add_to_cart).toBe(3);
    expect(state.add_to_wishlist).toBe(1);
  });

  it('GA4 dataLayer: keeps a host wrapper of push working and never double-wraps', async () => {
    const dataLayer: unknown[] = [];
    win.dataLayer = dataLayer;
    await setup();
    const seenByHost: unknown[] = [];
    const ours = dataLayer.push;
    dataLayer.push = function (...items: unknown[]) {
      seenByHost.push(...items);
      return ours.apply(this, items);
    };
    click('body');
    click('body');
    expect(dataLayer.push({ event: 'add_to_cart' })).toBe(1);
    expect(seenByHost).toHaveLength(1);
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('markup: data-leadscore-event with data-leadscore-* props', async () => {
    await setup(`<div data-leadscore-event="add_to_cart" data-leadscore-item-id="sku-9"><span>Buy</span></div>`);
    const props: unknown[] = [];
    tracker!.on('signal', (event) => event.name === 'add_to_cart' && props.push(event.props));
    click('span');
    expect((await signals()).add_to_cart).toBe(1);
    expect(props).toEqual([{ item_id: 'sku-9' }]);
  });

  it('de-duplicates one add seen by markup, platform event and dataLayer', async () => {
    const dataLayer: unknown[] = [];
    win.dataLayer = dataLayer;
    await setup(`<button data-leadscore-event="add_to_cart">Add</button>`);
    click('button');
    document.body.dispatchEvent(new CustomEvent('wc-blocks_added_to_cart', { bubbles: true }));
    dataLayer.push({ event: 'add_to_cart' });
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('plain store: an add-to-cart button counts once a navigation (and the page it leads to) confirms it', async () => {
    await setup(`<form action="/basket" method="post"><button type="submit">Add to basket</button></form>`);
    submit('form', { submitter: 'button' });
    await settle();
    expect((await nextPage('<h1>Basket</h1>', '/basket')).add_to_cart).toBe(1);
  });

  it("plain store: our own beacon request to the site's origin does not confirm an add", async () => {
    fakeResourceTiming();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    await setup(`<button type="button" id="bag">Add to bag</button>`, { endpoint: '/collect' });
    click('#bag', true);
    performanceEntry('/collect', 204); // a beacon of ours, sent meanwhile
    await vi.advanceTimersByTimeAsync(INTENT_TIMEOUT_MS + 100);
    expect((await signals()).add_to_cart).toBeUndefined();
    click('#bag', true);
    performanceEntry('/api/bag', 200); // the store's own request does
    await vi.advanceTimersByTimeAsync(10);
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('plain store: a JavaScript-only button with no confirmation never counts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    await setup(`<button type="button">Add to cart</button>`);
    click('button', true);
    await vi.advanceTimersByTimeAsync(INTENT_TIMEOUT_MS + 100);
    expect((await signals()).add_to_cart).toBeUndefined();
  });

  it.each([
    ['a wishlist button', '<button type="button">Add to wishlist</button>'],
    ['a compare button', '<button type="button" class="compare">Add to compare</button>'],
    ['a quantity stepper', '<button type="button" name="plus">+</button>'],
    ['a paragraph mentioning add to cart', '<p id="p">Click add to cart to buy</p>'],
    ['a variable product link', '<a href="/product/x" class="add_to_cart_button product_type_variable">Select options</a>'],
    ['a disabled sold-out button', '<form action="/cart/add"><button type="button" disabled>Add to cart</button></form>'],
    ['a choose-options opener', '<button type="button" data-product-url="/products/x">Choose options</button>'],
  ])('never counts %s as a cart add', async (_, html) => {
    await setup(html);
    const target = document.querySelector('button, a, p')!;
    target.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
    await settle();
    tracker!.destroy();
    expect((await signals()).add_to_cart).toBeUndefined();
  });
});

describe('other signals', () => {
  it('counts a wishlist click as add_to_wishlist once its outcome is settled', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    await setup('<button type="button" class="add_to_wishlist">♡</button>');
    click('button');
    await vi.advanceTimersByTimeAsync(10);
    expect((await signals()).add_to_wishlist).toBeUndefined();
    await vi.advanceTimersByTimeAsync(INTENT_TIMEOUT_MS);
    expect((await signals()).add_to_wishlist).toBe(1);
  });

  it('counts begin_checkout from a checkout link', async () => {
    await setup('<a href="/checkout">Check out</a>');
    click('a');
    await settle();
    expect((await signals()).begin_checkout).toBe(1);
  });

  it.each([
    ['"Buy it now"', '<form method="post" action="/cart/add"><div class="shopify-payment-button"><button type="button" class="shopify-payment-button__button shopify-payment-button__button--unbranded">Buy it now</button></div></form>', 'button'],
    ['an accelerated checkout button', '<shopify-accelerated-checkout recommended="shop_pay"></shopify-accelerated-checkout>', 'shopify-accelerated-checkout'],
  ])("Shopify's dynamic checkout: %s is a begin_checkout, not a cart add", async (_, html, selector) => {
    await setup(html);
    // A click inside a shadow root reaches the document with the host as its target (happy-dom does
    // not retarget, so the host is clicked here; the browser tests click inside the shadow root).
    document.querySelector(selector)!.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, composed: true }));
    window.dispatchEvent(new PageTransitionEvent('pagehide')); // the checkout opens
    expect(await signals()).toMatchObject({ begin_checkout: 1 });
    expect((await signals()).add_to_cart).toBeUndefined();
  });

  it('counts file downloads of documents, without the query', async () => {
    await setup('<a href="/files/catalog-2026.pdf?token=secret">Catalogue</a><a href="/about">About</a>');
    const props: unknown[] = [];
    tracker!.on('signal', (event) => event.name === 'file_download' && props.push(event.props));
    click('a[href*=pdf]');
    click('a[href="/about"]');
    expect((await signals()).file_download).toBe(1);
    expect(props).toEqual([{ path: '/files/catalog-2026.pdf', ext: 'pdf' }]);
  });

  it.each([
    ['newsletter', '<form><input type="email" name="email"><button>Subscribe</button></form>', 'sign_up', { form: 'newsletter' }],
    ['contact', '<form><input name="name"><input type="email"><textarea name="message"></textarea><button>Send</button></form>', 'generate_lead', { form: 'contact' }],
    ['registration', '<form><input type="email"><input type="password"><input type="password"><button>Create</button></form>', 'sign_up', { form: 'account' }],
    ['login', '<form><input type="email"><input type="password"><button>Log in</button></form>', 'form_submit', { form: 'login' }],
    ['search', '<form role="search"><input type="search" name="q"></form>', 'form_submit', { form: 'search' }],
    ['other', '<form><input name="zip"><button>Go</button></form>', 'form_submit', { form: 'other' }],
  ])('classifies a %s form without reading its values', async (_, html, signal, props) => {
    await setup(html);
    for (const input of Array.from(document.querySelectorAll('input,textarea'))) (input as HTMLInputElement).value = 'typed@secret.example';
    const seen: { name: string; props: unknown }[] = [];
    tracker!.on('signal', (event) => seen.push(event));
    submit('form');
    await settle();
    await tracker!.flush();
    expect(seen.filter((event) => event.name !== 'session_start' && event.name !== 'page_view')).toEqual([
      expect.objectContaining({ name: signal, props }),
    ]);
    expect(JSON.stringify(await tracker!.getState())).not.toContain('secret');
  });

  it('counts a declarative form on submit', async () => {
    await setup('<form data-leadscore-event="demo_request" data-leadscore-plan="pro"><button>Book</button></form>');
    submit('form', { prevent: true });
    expect((await signals()).demo_request).toBe(1);
  });

  it('detects a product page from JSON-LD (view_item) with price and currency', async () => {
    const props: unknown[] = [];
    document.head.innerHTML = `<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},{"@type":"Product","sku":"MUG-1","offers":{"@type":"Offer","price":"24.00","priceCurrency":"EUR"}}]}</script>`;
    try {
      document.body.innerHTML = '';
      tracker = createTracker({ allowAutomation: true });
      tracker.on('signal', (event) => event.name === 'view_item' && props.push(event.props));
      expect((await signals()).view_item).toBe(1);
      expect(props).toEqual([{ item_id: 'MUG-1', price: 24, currency: 'EUR' }]);
    } finally {
      document.head.innerHTML = '';
    }
  });

  it('merges a dataLayer view_item with the structured-data one', async () => {
    win.dataLayer = [{ event: 'view_item', ecommerce: { items: [{ item_id: 'MUG-1' }] } }];
    document.head.innerHTML = `<script type="application/ld+json">{"@type":"Product","sku":"MUG-1"}</script>`;
    try {
      await setup();
      expect((await signals()).view_item).toBe(1);
    } finally {
      document.head.innerHTML = '';
    }
  });

  it('detects an ad landing from click ids and paid utm_medium', async () => {
    history.replaceState(null, '', '/?gclid=abc&utm_source=google');
    await setup();
    expect((await signals()).ad_click).toBe(1);
  });

  it('does not count organic utm traffic as an ad click', async () => {
    history.replaceState(null, '', '/?utm_source=newsletter&utm_medium=email');
    await setup();
    expect((await signals()).ad_click).toBeUndefined();
  });

  it('counts a purchase on an order confirmation page', async () => {
    history.replaceState(null, '', '/checkout/order-received/123/');
    await setup();
    expect((await signals()).purchase).toBe(1);
  });
});

describe('cart views, removals, lists and searches', () => {
  it('counts a search results page without its terms', async () => {
    history.replaceState(null, '', '/search?q=blue+mug&type=product');
    const props: unknown[] = [];
    await setup();
    tracker!.on('signal', (event) => event.name === 'search' && props.push(event.props));
    (win.dataLayer as unknown[] | undefined) ?? (win.dataLayer = []);
    (win.dataLayer as unknown[]).push({ event: 'search', search_term: 'red mug' });
    expect((await signals()).search).toBeGreaterThanOrEqual(1);
    expect(props.every((p) => JSON.stringify(p) === '{}')).toBe(true);
  });

  it.each([
    ['/search?q=blue+mug', 'blue mug'],
    ['/?s=blue+mug&post_type=product', 'blue mug'],
    ['/index.php?controller=search&search_query=blue+mug', 'blue mug'],
  ])('keeps the search terms of %s only with data-capture-search', async (path, term) => {
    history.replaceState(null, '', path);
    const props: unknown[] = [];
    for (const captureSearch of [false, true]) {
      tracker = createTracker({ allowAutomation: true, captureSearch });
      tracker.on('signal', (event) => event.name === 'search' && props.push(event.props));
      expect((await signals()).search).toBe(1);
      await tracker.reset();
      tracker.destroy();
    }
    tracker = undefined;
    expect(props).toEqual([{}, { term }]);
  });

  it.each(['/cart', '/checkout/cart/', '/cart.php'])('counts view_cart on a cart page (%s)', async (path) => {
    history.replaceState(null, '', path);
    await setup();
    expect((await signals()).view_cart).toBe(1);
  });

  it('counts view_cart when a cart link opens a drawer instead of navigating', async () => {
    await setup('<a id="icon" href="/cart">Cart (1)</a><a id="page" href="/cart">Go to cart</a>');
    expect((await signals()).view_cart).toBeUndefined();
    click('#icon', true); // the theme opens its drawer
    await settle();
    click('#page'); // navigates: the cart page will count itself
    await settle();
    expect((await signals()).view_cart).toBe(1);
  });

  it.each([
    ['a Shopify collection, named by its handle', '/collections/mugs', '', 'mugs'],
    ['a WooCommerce category, named by its heading', '/product-category/mugs/', '<h1>Mugs &amp; cups</h1>', 'Mugs & cups'],
  ])('counts view_item_list on %s', async (_, path, html, list) => {
    history.replaceState(null, '', path);
    if (html) document.body.className = 'archive tax-product_cat';
    const props: unknown[] = [];
    document.body.innerHTML = html;
    tracker = createTracker({ allowAutomation: true });
    tracker.on('signal', (event) => event.name === 'view_item_list' && props.push(event.props));
    await tracker.flush();
    document.body.className = '';
    expect(props).toEqual([{ list }]);
  });

  it("Shopify: a cart line's remove link counts once its /cart/change request answers; a refused one does not", async () => {
    fakeResourceTiming();
    await setup('<cart-remove-button><a href="/cart/change?line=1&quantity=0" class="button">Remove</a></cart-remove-button><cart-remove-button><a id="b" href="/cart/change?line=2&quantity=0">Remove</a></cart-remove-button>');
    click('a', true);
    performanceEntry('/cart/change', 200);
    click('#b', true);
    performanceEntry('/cart/change', 422);
    await settle();
    expect((await signals()).remove_from_cart).toBe(1);
  });

  it('WooCommerce, Magento and PrestaShop: their removal events count', async () => {
    const trigger = installJQuery();
    const listeners: ((event: unknown) => void)[] = [];
    win.prestashop = { on: (_: string, handler: (event: unknown) => void) => listeners.push(handler) };
    await setup();
    trigger('removed_from_cart', {}, '', null);
    await new Promise((resolve) => setTimeout(resolve, 3100)); // past the merge window: a second removal
    listeners.forEach((listener) => listener({ reason: { linkAction: 'delete-from-cart', idProduct: 3 } }));
    expect(await signals()).toMatchObject({ remove_from_cart: 2 });
    expect((await signals()).add_to_cart).toBeUndefined();
  });

  it('a removal takes 10 points off by default', async () => {
    await setup();
    tracker!.track('add_to_cart');
    const before = (await tracker!.getState()).score;
    tracker!.track('remove_from_cart');
    expect((await tracker!.getState()).score).toBeCloseTo(before - 10, 5);
  });
});

describe('engaged time', () => {
  let visibility: DocumentVisibilityState = 'visible';
  let focused = true;
  beforeEach(() => {
    visibility = 'visible';
    focused = true;
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
    vi.spyOn(document, 'hasFocus').mockImplementation(() => focused);
  });
  afterEach(() => {
    delete (document as { visibilityState?: string }).visibilityState;
  });

  it('counts visible, focused, active time in 15-second chunks and the remainder on leave', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    await setup();
    const chunks: number[] = [];
    tracker!.on('signal', (event) => event.name === 'engaged_time' && chunks.push(event.props.seconds as number));
    for (let i = 0; i < 8; i++) {
      await vi.advanceTimersByTimeAsync(5000);
      document.dispatchEvent(new Event('pointermove'));
    }
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await tracker!.flush();
    expect(chunks).toEqual([15, 15, 10]);
  });

  it('stops counting after 30 seconds without activity', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    await setup();
    const chunks: number[] = [];
    tracker!.on('signal', (event) => event.name === 'engaged_time' && chunks.push(event.props.seconds as number));
    await vi.advanceTimersByTimeAsync(120_000);
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await tracker!.flush();
    expect(chunks).toEqual([15, 15]);
  });

  it('counts nothing while the tab is hidden or unfocused', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    visibility = 'hidden';
    await setup();
    const chunks: number[] = [];
    tracker!.on('signal', (event) => event.name === 'engaged_time' && chunks.push(event.props.seconds as number));
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(5000);
      document.dispatchEvent(new Event('keydown'));
    }
    visibility = 'visible';
    focused = false;
    window.dispatchEvent(new Event('blur'));
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(5000);
      document.dispatchEvent(new Event('keydown'));
    }
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await tracker!.flush();
    expect(chunks).toEqual([]);
  });
});

describe('host safety', () => {
  it('never calls preventDefault or stops propagation', async () => {
    await setup(`<form action="/cart/add" method="post"><button type="submit">Add to cart</button></form><a href="/checkout">Checkout</a>`);
    const clickEvent = click('a');
    const form = document.querySelector('form')!;
    const submitEvent = new SubmitEvent('submit', { bubbles: true, cancelable: true });
    let reached = false;
    document.addEventListener('submit', () => (reached = true));
    form.dispatchEvent(submitEvent);
    expect(clickEvent.defaultPrevented).toBe(false);
    expect(submitEvent.defaultPrevented).toBe(false);
    expect(reached).toBe(true);
  });

  it('contains an error inside its own listeners: nothing reaches the page, tracking goes on', async () => {
    await setup('<button type="button">Add to cart</button><form><input type="email"></form>');
    const errors: unknown[] = [];
    const onError = (event: Event) => errors.push((event as ErrorEvent).error ?? event);
    window.addEventListener('error', onError);
    const closest = vi.spyOn(Element.prototype, 'closest').mockImplementation(() => {
      throw new Error('broken closest');
    });
    click('button');
    submit('form');
    history.pushState(null, '', '/elsewhere');
    closest.mockRestore();
    window.removeEventListener('error', onError);
    await settle();
    expect(errors).toEqual([]);
    tracker!.track('still_works');
    const state = await signals();
    expect(state.still_works).toBe(1);
    expect(state.page_view).toBe(2);
  });

  it('stops capturing after destroy', async () => {
    await setup('<a href="/checkout">Checkout</a>');
    tracker!.destroy();
    click('a');
    history.pushState(null, '', '/next');
    await settle();
    expect((await signals()).begin_checkout).toBeUndefined();
  });
});

describe('what the lead wanted: product names, categories and orders', () => {
  /** The props of every `name` signal the tracker records from now on. */
  function propsOf(name: string): Record<string, unknown>[] {
    const seen: Record<string, unknown>[] = [];
    tracker!.on('signal', (event) => event.name === name && seen.push(event.props));
    return seen;
  }
  async function onPage(head: string, body: string, path = '/'): Promise<Record<string, unknown>[]> {
    history.replaceState(null, '', path);
    document.head.innerHTML = head;
    document.body.innerHTML = body;
    tracker = createTracker({ allowAutomation: true });
    const seen = propsOf('view_item');
    await tracker.flush();
    return seen;
  }
  afterEach(() => {
    document.head.innerHTML = '';
    delete win.Shopify;
  });

  it('reads the name and the last level of the category from JSON-LD', async () => {
    const seen = await onPage(
      `<script type="application/ld+json">{"@type":"Product","name":"Blue mug","sku":"MUG-1","category":"Home > Kitchen > Mugs","offers":{"price":"24.00","priceCurrency":"EUR"}}</script>`,
      '',
    );
    expect(seen).toEqual([{ category: 'Mugs', item_id: 'MUG-1', name: 'Blue mug', price: 24, currency: 'EUR' }]);
  });

  it('takes the category from the breadcrumb before the product', async () => {
    const seen = await onPage(
      `<script type="application/ld+json">[{"@type":"BreadcrumbList","itemListElement":[{"name":"Home"},{"name":"Mugs"},{"name":"Blue mug"}]},{"@type":"Product","name":"Blue mug","sku":"MUG-1"}]</script>`,
      '',
    );
    expect(seen).toEqual([{ category: 'Mugs', item_id: 'MUG-1', name: 'Blue mug' }]);
  });

  it('reads BigCommerce product attributes and a WooCommerce heading', async () => {
    const big = await onPage('', '<div class="productView" data-entity-id="112" data-name="Blue mug" data-product-category="Kitchen/Mugs"></div>');
    expect(big).toEqual([{ item_id: '112', name: 'Blue mug', category: 'Mugs' }]);
    tracker!.destroy();
    document.body.className = 'single-product';
    try {
      const woo = await onPage('', '<h1 class="product_title">  Green tea  </h1>');
      expect(woo).toEqual([{ name: 'Green tea' }]);
    } finally {
      document.body.className = '';
    }
  });

  it('names a card add by its card, and never gives it the product page\'s name or price', async () => {
    const trigger = installJQuery();
    document.head.innerHTML = `<script type="application/ld+json">{"@type":"Product","name":"Blue mug","sku":"MUG-1","offers":{"price":"24.00","priceCurrency":"EUR"}}</script>`;
    await setup(`<ul><li class="product"><h2 class="woocommerce-loop-product__title">Teapot</h2>
      <a href="?add-to-cart=77" class="button add_to_cart_button ajax_add_to_cart" data-product_id="77" data-quantity="1">Add to cart</a></li></ul>`);
    const adds = propsOf('add_to_cart');
    click('a', true);
    await settle();
    trigger('added_to_cart', {}, 'hash', { attr: (name: string) => (name === 'data-product_id' ? '77' : undefined) });
    await tracker!.flush();
    expect(adds).toEqual([{ item_id: '77', name: 'Teapot', quantity: 1 }]);
  });

  it('reads a Shopify order confirmation: order id, total and currency', async () => {
    history.replaceState(null, '', '/checkouts/c/abc123/thank-you');
    win.Shopify = { checkout: { order_id: 1001, total_price: '48.00', currency: 'EUR' } };
    tracker = createTracker({ allowAutomation: true });
    const purchases = propsOf('purchase');
    await tracker.flush();
    expect(purchases).toEqual([{ transaction_id: '1001', value: 48, currency: 'EUR' }]);
  });

  it('reads the WooCommerce order number from the confirmation path', async () => {
    history.replaceState(null, '', '/checkout/order-received/123/?key=wc_order_x');
    tracker = createTracker({ allowAutomation: true });
    const purchases = propsOf('purchase');
    await tracker.flush();
    expect(purchases).toEqual([{ transaction_id: '123' }]);
  });
});
