import { beforeEach, describe, expect, it } from 'vitest';
import { ABSORB_MS, createActionMerger, INTENT_TIMEOUT_MS, MAX_ACTIONS, type Trace } from '../../src/capture/merge';
import { parseDataLayerEntry } from '../../src/capture/datalayer';

let time = 0;
let timers: { at: number; callback: () => void; id: number }[] = [];
let emitted: [string, Record<string, unknown>][] = [];
let provisional: boolean[] = [];
function advance(ms: number): void {
  time += ms;
  for (const timer of timers.filter((t) => t.at <= time)) {
    timers = timers.filter((t) => t !== timer);
    timer.callback();
  }
}
const merger = () =>
  createActionMerger({
    emit: (signal, props, navigating) => {
      emitted.push([signal, props]);
      provisional.push(navigating);
    },
    now: () => time,
    setTimer: (callback, ms) => {
      const id = Math.random();
      timers.push({ at: time + ms, callback, id });
      return id;
    },
    clearTimer: (id) => (timers = timers.filter((t) => t.id !== id)),
  });
const add = (kind: Trace['kind'], props = {}, trusted = true): Trace => ({ signal: 'add_to_cart', props, kind, trusted });

beforeEach(() => {
  time = 1_000_000;
  timers = [];
  emitted = [];
  provisional = [];
});

describe('action merger: one action, one signal', () => {
  it('emits an intent when its outcome confirms it, with the props of every trace', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'mug', quantity: 2 }));
    expect(emitted).toEqual([]);
    advance(300);
    m.observe(add('confirm', { price: 24 }));
    expect(emitted).toEqual([['add_to_cart', { item_id: 'mug', quantity: 2, price: 24 }]]);
  });

  it('absorbs every further trace of the same action (network, jQuery, DOM event, dataLayer)', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'mug' }));
    m.observe(add('confirm'));
    m.observe(add('confirm', { item_id: 'mug' }));
    m.observe(add('confirm', { currency: 'EUR' }));
    advance(ABSORB_MS - 1);
    m.observe(add('confirm'));
    expect(emitted).toHaveLength(1);
  });

  it('counts a second add after the absorb window', () => {
    const m = merger();
    m.observe(add('confirm'));
    advance(ABSORB_MS + 1);
    m.observe(add('confirm'));
    expect(emitted).toHaveLength(2);
  });

  it('counts a second click on the same add after the first completed (a second add a second later)', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'mug' }));
    m.observe(add('confirm')); // the cart request
    m.observe(add('confirm', { item_id: 'mug' })); // the platform event: the same action
    advance(1000);
    m.observe(add('intent', { item_id: 'mug' }));
    expect(emitted).toHaveLength(1);
    m.observe(add('confirm'));
    m.observe(add('confirm', { item_id: 'mug' }));
    expect(emitted).toHaveLength(2);
  });

  it('merges a double click while the first add is still pending', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'mug' }));
    m.observe(add('intent', { item_id: 'mug' }));
    m.observe(add('confirm'));
    m.observe(add('confirm'));
    expect(emitted).toHaveLength(1);
  });

  it("waits for the platform's event when the endpoint reports failure in its body (await)", () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'mug' }));
    m.observe(add('await'));
    m.observe(add('support')); // another same-origin request: no proof either
    advance(INTENT_TIMEOUT_MS);
    expect(emitted).toEqual([]); // refused: no event came, and a refused add is not counted at the deadline
    m.observe(add('intent', { item_id: 'cup' }));
    m.observe(add('await'));
    m.observe(add('confirm', { item_id: 'cup' }));
    expect(emitted).toEqual([['add_to_cart', { item_id: 'cup' }]]);
    expect(provisional).toEqual([false]);
  });

  it('hands an add still awaiting its outcome to the next page when the page is left (provisional)', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'mug' }));
    m.observe(add('await'));
    m.settle();
    expect(emitted).toEqual([['add_to_cart', { item_id: 'mug' }]]);
    expect(provisional).toEqual([true]);
  });

  it('marks cart adds that navigate away as provisional, and only cart adds', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'posted' }));
    m.observe(add('done'));
    m.observe({ signal: 'begin_checkout', props: {}, kind: 'intent', trusted: true });
    m.observe({ signal: 'begin_checkout', props: {}, kind: 'done' });
    m.observe(add('confirm', { item_id: 'other' }));
    expect(provisional).toEqual([true, false, false]);
  });

  it('keeps adds of different items apart', () => {
    const m = merger();
    m.observe(add('confirm', { item_id: 'a' }));
    m.observe(add('confirm', { item_id: 'b' }));
    expect(emitted.map(([, props]) => props.item_id)).toEqual(['a', 'b']);
  });

  it('keeps variants of one item apart, and merges a trace that does not name the variant', () => {
    const m = merger();
    m.observe(add('confirm', { item_id: 'mug', variant: 'red' }));
    m.observe(add('confirm', { item_id: 'mug', variant: 'blue' }));
    // A trace of the mug that does not name the variant: one of those actions, not a third add.
    m.observe(add('confirm', { item_id: 'mug' }));
    // A variant without an item id (some themes post only the variant) still tells them apart.
    m.observe(add('confirm', { variant: 'green' }));
    expect(emitted.map(([, props]) => props.variant)).toEqual(['red', 'blue', 'green']);
  });

  it('remembers a bounded number of actions: a burst of distinct items each counts once, the oldest are forgotten first', () => {
    const m = merger();
    for (let i = 0; i < 1000; i++) m.observe(add('confirm', { item_id: `item-${i}` }));
    expect(emitted).toHaveLength(1000);
    // The newest are still absorbed; one pushed out of memory counts again (a person never adds MAX_ACTIONS items in 3 s).
    m.observe(add('confirm', { item_id: 'item-999' }));
    expect(emitted).toHaveLength(1000);
    m.observe(add('confirm', { item_id: 'item-0' }));
    expect(emitted).toHaveLength(1001);
  });

  it('settles the oldest intent early when too many are pending: trusted ones count, untrusted ones are dropped', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'trusted' }, true));
    for (let i = 0; i < MAX_ACTIONS - 1; i++) m.observe(add('intent', { item_id: `pending-${i}` }, false));
    expect(emitted).toEqual([]);
    m.observe(add('intent', { item_id: 'one-more' }, false));
    expect(emitted).toEqual([['add_to_cart', { item_id: 'trusted' }]]);
    m.observe(add('intent', { item_id: 'and-another' }, false));
    expect(emitted).toHaveLength(1); // pending-0 was untrusted: dropped, not counted
    expect(timers.length).toBe(MAX_ACTIONS);
  });

  it('drops an intent whose request failed (sold out)', () => {
    const m = merger();
    m.observe(add('intent'));
    m.observe(add('fail'));
    advance(INTENT_TIMEOUT_MS * 2);
    expect(emitted).toEqual([]);
  });

  it('emits a trusted intent without outcome at the deadline, and drops an untrusted one', () => {
    const m = merger();
    m.observe(add('intent', { item_id: 'known' }, true));
    m.observe({ signal: 'add_to_cart', props: { item_id: 'guess' }, kind: 'intent', trusted: false });
    advance(INTENT_TIMEOUT_MS);
    expect(emitted).toEqual([['add_to_cart', { item_id: 'known' }]]);
  });

  it('emits at once an action that navigates away (done)', () => {
    const m = merger();
    m.observe(add('intent'));
    m.observe(add('done'));
    expect(emitted).toHaveLength(1);
  });

  it('settles trusted intents when the page is left', () => {
    const m = merger();
    m.observe(add('intent'));
    m.observe({ signal: 'begin_checkout', props: {}, kind: 'intent', trusted: false });
    m.settle();
    expect(emitted.map(([signal]) => signal)).toEqual(['add_to_cart']);
  });

  it('never emits after stop', () => {
    const m = merger();
    m.observe(add('intent'));
    m.stop();
    advance(INTENT_TIMEOUT_MS);
    expect(emitted).toEqual([]);
  });

  it('lets weak evidence confirm a pending intent but never create an action', () => {
    const m = merger();
    m.observe(add('support'));
    expect(emitted).toEqual([]);
    m.observe({ signal: 'add_to_cart', props: {}, kind: 'intent', trusted: false });
    m.observe(add('support'));
    expect(emitted).toHaveLength(1);
  });

  it('does not merge different signals', () => {
    const m = merger();
    m.observe(add('confirm'));
    m.observe({ signal: 'add_to_wishlist', props: {}, kind: 'confirm' });
    expect(emitted.map(([signal]) => signal)).toEqual(['add_to_cart', 'add_to_wishlist']);
  });

  it('hands out a copy, so later traces do not change an emitted signal', () => {
    const m = merger();
    m.observe(add('confirm'));
    m.observe(add('confirm', { price: 1 }));
    expect(emitted[0]![1]).toEqual({});
  });
});

describe('dataLayer entries', () => {
  const args = (...items: unknown[]) => (function () { return arguments; })(...(items as []));
  it.each<[string, unknown, unknown]>([
    ['GA4 object', { event: 'add_to_cart', ecommerce: { currency: 'EUR', value: 24, items: [{ item_id: 'mug', price: 24, quantity: 1, item_variant: 'blue' }] } },
      { signal: 'add_to_cart', props: { item_id: 'mug', variant: 'blue', quantity: 1, price: 24, currency: 'EUR', value: 24 } }],
    ['gtag Arguments', args('event', 'add_to_cart', { items: [{ item_id: 'x' }] }), { signal: 'add_to_cart', props: { item_id: 'x' } }],
    ['UA addToCart', { event: 'addToCart', ecommerce: { currencyCode: 'USD', add: { products: [{ id: 'p1', price: '9.50', quantity: 2 }] } } },
      { signal: 'add_to_cart', props: { item_id: 'p1', quantity: 2, price: 9.5, currency: 'USD' } }],
    ['eec.addToCart', { event: 'eec.addToCart' }, { signal: 'add_to_cart', props: {} }],
    ['view_item', { event: 'view_item', ecommerce: { items: [{ item_id: 7 }] } }, { signal: 'view_item', props: { item_id: '7' } }],
    ['begin_checkout', { event: 'begin_checkout' }, { signal: 'begin_checkout', props: {} }],
    ['purchase (gtag)', args('event', 'purchase', { transaction_id: 't', value: 48, currency: 'EUR' }), { signal: 'purchase', props: { transaction_id: 't', value: 48, currency: 'EUR' } }],
    ['UA purchase', { event: 'purchase', ecommerce: { currencyCode: 'USD', purchase: { actionField: { id: 'T-9', revenue: '59.90' }, products: [{ id: 'p1', name: 'Mug', category: 'Kitchen' }] } } },
      { signal: 'purchase', props: { item_id: 'p1', name: 'Mug', category: 'Kitchen', transaction_id: 'T-9', value: 59.9, currency: 'USD' } }],
    ['GA4 names and categories', { event: 'view_item', ecommerce: { items: [{ item_id: 'm1', item_name: 'Blue mug', item_category: 'Mugs' }] } },
      { signal: 'view_item', props: { item_id: 'm1', name: 'Blue mug', category: 'Mugs' } }],
    ['add_to_wishlist is not a cart add', { event: 'add_to_wishlist' }, { signal: 'add_to_wishlist', props: {} }],
    ['remove_from_cart', { event: 'remove_from_cart', ecommerce: { items: [{ item_id: 'mug' }] } }, { signal: 'remove_from_cart', props: { item_id: 'mug' } }],
    ['UA removeFromCart', { event: 'removeFromCart', ecommerce: { remove: { products: [{ id: 'p1', quantity: 1 }] } } }, { signal: 'remove_from_cart', props: { item_id: 'p1', quantity: 1 } }],
    ['view_cart', { event: 'view_cart', ecommerce: { currency: 'EUR', value: 48 } }, { signal: 'view_cart', props: { currency: 'EUR', value: 48 } }],
    ['view_item_list with its name', { event: 'view_item_list', ecommerce: { item_list_name: 'Mugs', items: [{ item_id: 'a' }] } }, { signal: 'view_item_list', props: { item_id: 'a', list: 'Mugs' } }],
    ['search (GTM) keeps the term for capture to drop', { event: 'search', search_term: 'blue mug' }, { signal: 'search', props: { term: 'blue mug' } }],
    ['search (gtag)', args('event', 'search', { search_term: 'mug' }), { signal: 'search', props: { term: 'mug' } }],
    ['a name from Object.prototype is no event', { event: 'constructor' }, null],
    ['add_payment_info', { event: 'add_payment_info' }, null],
    ['ecommerce reset', { ecommerce: null }, null],
    ['gtm.js', { event: 'gtm.js', 'gtm.start': 1 }, null],
    ['gtag config', args('config', 'G-1'), null],
    ['consent', args('consent', 'default', { analytics_storage: 'denied' }), null],
    ['string', 'add_to_cart', null],
    ['null', null, null],
  ])('%s', (_, entry, expected) => {
    expect(parseDataLayerEntry(entry)).toEqual(expected);
  });
});
