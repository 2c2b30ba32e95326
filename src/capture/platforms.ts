import { guard } from '../util/guard';
import type { Props } from '../types';
import { hookAfter, listen, toText } from './dom';
import type { ActionMerger } from './merge';

/**
 * Cart-add endpoints whose status tells the outcome (storefronts.md): Shopify `/cart/add(.js)`
 * (locale-prefixed too, 422 when sold out) and WooCommerce's Store API `cart/add-item`.
 */
const CART_ADD_URL = /\/cart\/add(\.js)?\/?([?#]|$)|\/wc\/store(\/v1)?\/cart\/add-item/;
/**
 * Cart-add endpoints that answer a refused add with 200 and say so in the body: WooCommerce
 * `?wc-ajax=add_to_cart` (`{error, product_url}`), Magento `/checkout/cart/add` (`{backUrl}`),
 * BigCommerce `/remote/v1/cart/add` (`{data: {error}}`). Their 2xx proves nothing.
 */
const BODY_OUTCOME_URL = /[?&]wc-ajax=add_to_cart\b|\/checkout\/cart\/add\b|\/remote\/v1\/cart\/add\b/;

type PerformanceEntryWithStatus = PerformanceResourceTiming & { responseStatus?: number };

/**
 * What a finished request of the page says about a cart action. `status` is undefined where the
 * engine cannot tell it (WebKit has no `responseStatus`): then a cart add awaits other proof (never
 * counts as a success by itself) and nothing else is inferred.
 */
function observeRequest(merger: ActionMerger, url: string, status: number | undefined, endpoint: string | null): void {
  // Our own beacons go to the site's origin too: they are no proof of anything the visitor did.
  if (endpoint && url.startsWith(endpoint)) return;
  const failed = status !== undefined && status >= 400;
  if (BODY_OUTCOME_URL.test(url)) {
    merger.observe({ signal: 'add_to_cart', props: {}, kind: failed ? 'fail' : 'await' });
  } else if (CART_ADD_URL.test(url)) {
    merger.observe({ signal: 'add_to_cart', props: {}, kind: failed ? 'fail' : status === undefined ? 'await' : 'confirm' });
  } else if (status === undefined) {
    // Nothing to learn from a request whose outcome is unknown.
  } else if (/\/cart\/change(\.js)?\/?([?#]|$)/.test(url)) {
    // Shopify's line change (quantity 0 removes): it confirms a removal just clicked, nothing more.
    merger.observe({ signal: 'remove_from_cart', props: {}, kind: failed ? 'fail' : 'support' });
  } else if (!failed && url.startsWith(location.origin)) {
    // A plain store's own cart request: it confirms an add button just clicked, nothing more.
    merger.observe({ signal: 'add_to_cart', props: {}, kind: 'support' });
  }
}

/**
 * Watches the page's own network requests passively (Resource Timing): a cart-add request that
 * answered 2xx confirms an add, a 4xx (sold out, invalid variant) fails it. Any other same-origin
 * request that succeeds supports (confirms) an add intent already pending: the plain-store
 * fallback. Chromium reports a fetch only once the page has read its body: a plain store's request
 * whose answer is never read confirms nothing there (README, "What it captures").
 *
 * Engines without `responseStatus` (WebKit, hence Safari) cannot tell a sold-out 422 from a 200
 * this way. There, and only there, the page's `fetch` is followed through `hookAfter` (the page
 * gets its own call's result untouched): the status of its cart-add and same-origin POST requests
 * is read from the response they already received. XMLHttpRequest is not followed (that would need
 * a prototype change): such adds count on the platform's event only.
 */
export function onCartRequests(merger: ActionMerger, endpoint: string | null = null): () => void {
  if (typeof PerformanceObserver === 'undefined' || !PerformanceObserver.supportedEntryTypes?.includes('resource')) return () => undefined;
  const withStatus = typeof PerformanceResourceTiming === 'function' && 'responseStatus' in PerformanceResourceTiming.prototype;
  const observer = new PerformanceObserver(guard((list: PerformanceObserverEntryList) => {
    for (const entry of list.getEntries() as PerformanceEntryWithStatus[]) {
      if (entry.initiatorType !== 'fetch' && entry.initiatorType !== 'xmlhttprequest') continue;
      // Without responseStatus a fetch's outcome comes from followFetch; an XHR's stays unknown.
      if (!withStatus && entry.initiatorType === 'fetch' && followed) continue;
      observeRequest(merger, entry.name, entry.responseStatus, endpoint);
    }
  }));
  observer.observe({ type: 'resource' });
  let followed = false;
  let unfollow = (): void => undefined;
  if (!withStatus && typeof fetch === 'function') {
    followed = true;
    unfollow = hookAfter(window, 'fetch', guard((args: unknown[], result: unknown) => {
      const [input, init] = args as [RequestInfo | URL, RequestInit | undefined];
      const url = new URL(input instanceof Request ? input.url : String(input), location.href).href;
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      if (!CART_ADD_URL.test(url) && !BODY_OUTCOME_URL.test(url) && !(method === 'POST' && url.startsWith(location.origin))) return;
      // Only a cart request's promise gets a handler (so its rejection stays the page's to report
      // everywhere else); a network failure tells nothing.
      if (result instanceof Promise) result.then(guard((response: Response) => observeRequest(merger, url, response.status, endpoint)), () => undefined);
    }));
  }
  return () => {
    observer.disconnect();
    unfollow();
  };
}

interface JQueryLike {
  (target: unknown): { on(events: string, handler: (...args: unknown[]) => void): unknown; off(events: string, handler: (...args: unknown[]) => void): unknown };
  fn?: { jquery?: string };
}
interface PrestaShopLike {
  on?: (event: string, handler: (event: unknown) => void) => void;
}


/**
 * Platform events that report a successful add: WooCommerce Blocks' DOM event, Shopify's standard
 * storefront event, and, through the page's own jQuery (which may load late: Magento's RequireJS),
 * WooCommerce's `added_to_cart` and Magento's `ajax:addToCart`; PrestaShop's `updateCart` with
 * `linkAction: 'add-to-cart'`. jQuery's `.trigger()` dispatches no DOM event, hence the jQuery hook.
 */
export function onPlatformEvents(merger: ActionMerger): {
  stop: () => void;
  /** Looks again for late globals (jQuery, prestashop); cheap, idempotent. */
  hook: () => void;
} {
  const confirm = (props: Props, signal = 'add_to_cart'): void => merger.observe({ signal, props, kind: 'confirm' });
  const removed = guard(() => confirm({}, 'remove_from_cart'));
  const stops: (() => void)[] = [
    listen(document, 'wc-blocks_added_to_cart', () => confirm({})),
    listen(document, 'shopify:cart:lines-update', (event) => {
      const detail = (event as CustomEvent).detail as { action?: string } | undefined;
      const action = (event as unknown as { action?: string }).action ?? detail?.action;
      if (action === 'add') confirm({});
      else if (action === 'remove') removed();
    }),
  ];
  const win = window as unknown as { jQuery?: JQueryLike; $?: JQueryLike; prestashop?: PrestaShopLike };
  let jqueryHooked: JQueryLike | undefined;
  let prestashopHooked = false;

  const onWoo = guard((...args: unknown[]) => {
    const button = args[3] as { attr?: (name: string) => unknown } | undefined;
    const item = toText(button?.attr?.('data-product_id'));
    confirm(item ? { item_id: item } : {});
  });
  const onMagento = guard((...args: unknown[]) => {
    const data = args[1] as { sku?: unknown; productIds?: unknown[]; response?: { backUrl?: unknown } } | undefined;
    const item = toText(data?.productIds?.[0]) ?? toText(data?.sku);
    // Magento fires this for refused adds too, with `backUrl` to the page that shows the error (and
    // for accepted ones when the store sends shoppers to the cart): the next page tells which.
    merger.observe({ signal: 'add_to_cart', props: item ? { item_id: item } : {}, kind: data?.response?.backUrl ? 'await' : 'confirm' });
  });
  // BigCommerce Cornerstone announces an accepted add by updating the cart counter (jQuery, on body).
  const onBigCommerce = guard(() => confirm({}));

  const hook = (): void => {
    const jquery = [win.jQuery, win.$].find((candidate) => typeof candidate === 'function' && typeof candidate.fn?.jquery === 'string');
    if (jquery && jquery !== jqueryHooked) {
      jqueryHooked = jquery;
      jquery(document).on('added_to_cart', onWoo);
      jquery(document).on('ajax:addToCart', onMagento);
      jquery(document).on('cart-quantity-update', onBigCommerce);
      // WooCommerce (cart fragments) and Magento (mini cart) announce a removed line.
      jquery(document).on('removed_from_cart ajax:removeFromCart', removed);
      stops.push(() => {
        jquery(document).off('removed_from_cart ajax:removeFromCart', removed);
        jquery(document).off('added_to_cart', onWoo);
        jquery(document).off('ajax:addToCart', onMagento);
        jquery(document).off('cart-quantity-update', onBigCommerce);
      });
    }
    const prestashop = win.prestashop;
    if (!prestashopHooked && typeof prestashop?.on === 'function') {
      prestashopHooked = true;
      prestashop.on(
        'updateCart',
        guard((event: unknown) => {
          const reason = (event as { reason?: { linkAction?: string; idProduct?: unknown; idProductAttribute?: unknown } })?.reason;
          if (reason?.linkAction === 'delete-from-cart') return removed();
          if (reason?.linkAction !== 'add-to-cart') return;
          const props: Props = {};
          const item = toText(reason.idProduct);
          const variant = toText(reason.idProductAttribute);
          if (item) props.item_id = item;
          if (variant && variant !== '0') props.variant = variant;
          confirm(props);
        }),
      );
    }
  };
  hook();
  return { stop: () => stops.forEach((stop) => stop()), hook };
}

