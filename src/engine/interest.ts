import type { InterestItem, Props, WireInterest } from '../types';

export type { InterestItem, WireInterest } from '../types';

/**
 * What the visitor wanted: the products they looked at and put in the cart, the categories they
 * browsed, the cart's estimated value this session and how often they searched. Pure; kept in the
 * visitor record (bounded) and carried by every lead event (transport/payload.ts).
 */

export interface Interest {
  /** Least recently touched first; at most MAX_ITEMS. */
  items: InterestItem[];
  /** Category or collection name -> views (product pages and lists); at most MAX_CATEGORIES. */
  categories: Record<string, number>;
  /** Estimated cart value this session (adds minus removes, or the value a cart view reports). */
  cart: number;
  currency?: string;
  /** Latest search terms, only with `data-capture-search`. */
  terms: string[];
}

export const MAX_ITEMS = 10;
export const MAX_CATEGORIES = 10;
export const MAX_TERMS = 3;

export const newInterest = (): Interest => ({ items: [], categories: {}, cart: 0, terms: [] });

/** How much a product mattered to the visitor: an add says more than a view, the cart most. */
const weight = (item: InterestItem): number => item.views + 2 * item.adds + (item.in_cart ? 3 : 0);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const amount = (value: unknown): number | undefined => (typeof value === 'number' && value >= 0 && value < 1e9 ? value : undefined);

/** The product a signal is about, moved to the newest place, created when new (least weighty dropped). */
function touch(interest: Interest, props: Props): InterestItem | undefined {
  const id = text(props.item_id);
  if (!id) return;
  const items = interest.items;
  const index = items.findIndex((item) => item.item_id === id);
  const item = index < 0 ? { item_id: id, views: 0, adds: 0, in_cart: false } : items.splice(index, 1)[0]!;
  for (const key of ['name', 'variant', 'currency'] as const) if (text(props[key])) item[key] = props[key] as string;
  if (amount(props.price) !== undefined) item.price = props.price as number;
  if (items.push(item) > MAX_ITEMS) {
    let least = 0;
    items.forEach((other, i) => weight(other) < weight(items[least]!) && (least = i));
    items.splice(least, 1);
  }
  return item;
}

function addCategory(interest: Interest, name: unknown): void {
  const category = text(name);
  if (!category || category === '__proto__') return;
  const categories = interest.categories;
  if (Object.prototype.hasOwnProperty.call(categories, category) || Object.keys(categories).length < MAX_CATEGORIES) {
    categories[category] = (categories[category] ?? 0) + 1;
  }
}

/** The money a cart change moves: the dataLayer's `value`, else price × quantity. */
const changeValue = (props: Props): number =>
  amount(props.value) ?? (amount(props.price) ?? 0) * (amount(props.quantity) || 1);

/** Updates `interest` (in place) with one applied signal. */
export function noteInterest(interest: Interest, name: string, props: Props): void {
  if (name === 'session_start' || name === 'purchase') {
    interest.cart = 0;
    for (const item of interest.items) item.in_cart = false;
    return;
  }
  if (name === 'search') {
    const term = text(props.term);
    if (term) interest.terms = [...interest.terms, term].slice(-MAX_TERMS);
    return;
  }
  if (name === 'view_item_list') return addCategory(interest, props.list);
  if (name === 'view_cart') {
    if (amount(props.value) !== undefined) interest.cart = props.value as number;
    return;
  }
  const adds = name === 'add_to_cart';
  if (!adds && name !== 'remove_from_cart' && name !== 'view_item') return;
  const item = touch(interest, props);
  if (name === 'view_item') {
    addCategory(interest, props.category);
    if (item) item.views++;
    return;
  }
  if (item) {
    item.adds += +adds;
    item.in_cart = adds;
  }
  interest.cart = Math.min(1e9, Math.max(0, interest.cart + (adds ? 1 : -1) * changeValue(props)));
  if (text(props.currency)) interest.currency = props.currency as string;
}

/**
 * The wire view: up to 5 products and 3 categories, most engaged first (the newest wins a tie),
 * the cart when it holds something, the number of searches (`searchCount`: the record's signal
 * count) and, when kept, the terms.
 */
export function toWireInterest(interest: Interest, searchCount: number): WireInterest {
  const items = interest.items
    .map((item, i) => [item, weight(item) + i / 100] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([item]) => ({ ...item }));
  const categories = Object.keys(interest.categories)
    .sort((a, b) => interest.categories[b]! - interest.categories[a]!)
    .slice(0, 3);
  const wire: WireInterest = { items, categories, searches: searchCount };
  if (interest.cart > 0) wire.cart = { value: Math.round(interest.cart * 100) / 100, ...(interest.currency ? { currency: interest.currency } : {}) };
  if (interest.terms.length) wire.terms = [...interest.terms];
  return wire;
}
