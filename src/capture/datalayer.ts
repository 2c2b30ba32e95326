import { guard } from '../util/guard';
import type { Props } from '../types';
import { hookAfter, toNumber, toText } from './dom';
import type { ActionMerger } from './merge';

/** GA4 recommended events we score, and the Universal Analytics names old plugins still push. */
const EVENTS: Record<string, string> = {
  add_to_cart: 'add_to_cart',
  addToCart: 'add_to_cart',
  'eec.addToCart': 'add_to_cart',
  view_item: 'view_item',
  detail: 'view_item',
  'eec.detail': 'view_item',
  begin_checkout: 'begin_checkout',
  checkout: 'begin_checkout',
  'eec.checkout': 'begin_checkout',
  purchase: 'purchase',
  'eec.purchase': 'purchase',
  remove_from_cart: 'remove_from_cart',
  removeFromCart: 'remove_from_cart',
  'eec.removeFromCart': 'remove_from_cart',
  view_cart: 'view_cart',
  view_item_list: 'view_item_list',
  search: 'search',
  add_to_wishlist: 'add_to_wishlist',
  sign_up: 'sign_up',
  generate_lead: 'generate_lead',
};

type Entry = Record<string, unknown>;


/** Item details from a GA4 `ecommerce.items[0]` or a UA `ecommerce.<action>.products[0]`. */
function itemProps(ecommerce: Entry | undefined): Props {
  const props: Props = {};
  if (!ecommerce || typeof ecommerce !== 'object') return props;
  let item = (Array.isArray(ecommerce.items) ? ecommerce.items[0] : undefined) as Entry | undefined;
  if (!item) {
    for (const action of ['add', 'remove', 'detail', 'checkout', 'purchase']) {
      const products = (ecommerce[action] as Entry | undefined)?.products;
      if (Array.isArray(products)) item = products[0] as Entry;
    }
  }
  const id = toText(item?.item_id ?? item?.id);
  const name = toText(item?.item_name ?? item?.name);
  const category = toText(item?.item_category ?? item?.category);
  // GA4 `transaction_id`; Universal Analytics `purchase.actionField.{id, revenue}`.
  const action = (ecommerce.purchase as Entry | undefined)?.actionField as Entry | undefined;
  const transaction = toText(ecommerce.transaction_id ?? action?.id);
  const variant = toText(item?.item_variant ?? item?.variant);
  const quantity = toNumber(item?.quantity);
  const price = toNumber(item?.price);
  const currency = toText(ecommerce.currency ?? ecommerce.currencyCode);
  const value = toNumber(ecommerce.value ?? action?.revenue);
  const list = toText(ecommerce.item_list_name ?? item?.item_list_name);
  if (id) props.item_id = id;
  if (name) props.name = name;
  if (category) props.category = category;
  if (transaction) props.transaction_id = transaction;
  if (list) props.list = list;
  if (variant) props.variant = variant;
  if (quantity !== undefined) props.quantity = quantity;
  if (price !== undefined) props.price = price;
  if (currency) props.currency = currency;
  if (value !== undefined) props.value = value;
  return props;
}

/**
 * Reads one dataLayer entry: an object `{ event, ecommerce }` (GTM, GA4 or UA shape) or a gtag()
 * Arguments object `['event', name, params]`. Returns the signal and props, or null.
 */
export function parseDataLayerEntry(entry: unknown): { signal: string; props: Props } | null {
  if (!entry || typeof entry !== 'object') return null;
  const list = entry as ArrayLike<unknown> & Entry;
  const gtag = typeof list.length === 'number' && list[0] === 'event';
  const name = gtag ? list[1] : list.event;
  const signal = typeof name === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, name) ? EVENTS[name] : undefined;
  if (!signal) return null;
  // gtag puts the parameters in its third argument; GTM pushes `ecommerce` (and `search_term` beside it).
  const params = (gtag ? list[2] : list.ecommerce) as Entry | undefined;
  const props = itemProps(params);
  const term = toText((params as Entry | undefined)?.search_term ?? list.search_term);
  // Terms leave capture only with data-capture-search (capture/index.ts drops them otherwise).
  if (signal === 'search' && term) props.term = term;
  return { signal, props };
}

/**
 * Follows `window.dataLayer`: the entries already there (pushed before we loaded) and every later
 * push. Hooking `push` is unavoidable (no event exists): see `hookAfter`. `check()` reads entries
 * that arrived without passing through the hook and hooks a replaced array.
 */
export function onDataLayer(merger: ActionMerger) {
  const seen = new WeakSet<object>();
  const read = guard((entry: unknown): void => {
    if (!entry || typeof entry !== 'object' || seen.has(entry)) return;
    seen.add(entry);
    const parsed = parseDataLayerEntry(entry);
    if (parsed) merger.observe({ signal: parsed.signal, props: parsed.props, kind: 'confirm' });
  });

  let hooked: unknown[] | undefined;
  let unhook = (): void => undefined;
  const check = (): void => {
    const layer = (window as unknown as { dataLayer?: unknown }).dataLayer;
    if (!Array.isArray(layer)) return;
    for (const entry of layer) read(entry);
    // One hook per array. If the page later replaces push without chaining ours, the entries are
    // still read here on the next check (each interaction and page view), so nothing is missed.
    if (layer === hooked) return;
    hooked = layer;
    unhook();
    unhook = hookAfter(layer, 'push', (items) => items.forEach(read));
  };
  check();
  return { check, stop: () => unhook() };
}
