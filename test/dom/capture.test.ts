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

/** A stand-in for the page's jQuery: `.on/.off/.trigger` on document, as jQuery's own event system does. */
function installJQuery(name = 'jQuery'): (event: string, ...args: unknown[]) => void {
  const handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  const $ = Object.assign(
    () => ({
      on: (events: string, handler: (...args: unknown[]) => void) => handlers.set(events, [...(handlers.get(events) ?? []), handler]),
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
  it('Shopify: a product form that posts and navigates counts at once', async () => {
    await setup(`<form method="post" action="/cart/add" data-type="add-to-cart-form"><input type="hidden" name="id" value="4242">
      <input name="quantity" value="2"><button type="submit" name="add">Add to cart</button></form>`);
    const events: Record<string, unknown>[] = [];
    tracker!.on('signal', (event) => event.name === 'add_to_cart' && events.push(event.props));
    submit('form');
    await settle();
    expect((await signals()).add_to_cart).toBe(1);
    expect(events).toEqual([{ variant: '4242', quantity: 2 }]);
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

  it('WooCommerce: an AJAX archive button and the jQuery added_to_cart event are one add', async () => {
    const trigger = installJQuery();
    await setup(`<a href="?add-to-cart=77" class="button product_type_simple add_to_cart_button ajax_add_to_cart" data-product_id="77" data-quantity="1">Add to cart</a>`);
    click('a', true);
    await settle();
    trigger('added_to_cart', {}, 'hash', { attr: (name: string) => (name === 'data-product_id' ? '77' : undefined) });
    document.body.dispatchEvent(new CustomEvent('wc-blocks_added_to_cart', { bubbles: true }));
    expect((await signals()).add_to_cart).toBe(1);
  });

  it('WooCommerce: a classic single-product form post counts', async () => {
    await setup(`<form class="cart" method="post" action="/product/mug"><input name="quantity" value="1"><button type="submit" name="add-to-cart" value="15">Add to cart</button></form>`);
    submit('form');
    await settle();
    expect((await signals()).add_to_cart).toBe(1);
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

  it('BigCommerce: an add link that navigates counts', async () => {
    installJQuery('$');
    await setup(`<a href="/cart.php?action=add&product_id=88" data-button-type="add-cart">Add to Cart</a>`);
    click('a');
    await settle();
    const state = await tracker!.getState();
    expect(state.signals.add_to_cart).toBe(1);
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

  it('plain store: an add-to-cart button counts once a navigation or the page confirms it', async () => {
    await setup(`<form action="/basket" method="post"><button type="submit">Add to basket</button></form>`);
    submit('form', { submitter: 'button' });
    await settle();
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
