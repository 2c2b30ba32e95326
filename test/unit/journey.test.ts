import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_ITEMS, newInterest, noteInterest, toWireInterest } from '../../src/engine/interest';
import { newRecord, parseRecord, type VisitorRecord } from '../../src/engine/record';
import { applySignals } from '../../src/engine/score';
import { planEvents, readIdentity, startHearing, type JourneyOptions } from '../../src/transport/journey';
import { encodeBeacon, type StoredEvent } from '../../src/transport/payload';
import type { Props, ScoringModel, Signal, UpdateType } from '../../src/types';
import { prng as createPrng } from '../helpers/prng';

const T0 = Date.UTC(2026, 5, 1, 12);
const MIN = 60_000;
const DAY = 86_400_000;

const schema = JSON.parse(readFileSync(new URL('../../schema/beacon.v2.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
const onWire = (event: StoredEvent) => JSON.parse(encodeBeacon({ ...event, sentAt: event.at + 10, offset: 10 }));

const MODEL: ScoringModel = {
  rules: [
    { id: 'add', signal: 'add_to_cart', points: 20 },
    { id: 'view', signal: 'view_item', points: 5 },
    { id: 'buy', signal: 'purchase', points: 30 },
    { id: 'repeat', signal: 'repeat_visit', points: 10 },
  ],
  stages: [
    { name: 'mql', threshold: 35 },
    { name: 'hot', threshold: 100 },
  ],
  halfLifeDays: 14,
  sessionMinutes: 30,
  coolOffDays: 30,
};

const sig = (name: string, time: number, props: Props = {}): Signal => ({ name, time, props });

/** The tracker's write, without the browser: hearing starts, traits merge, signals apply, interest, events. */
function write(record: VisitorRecord, signals: Signal[], options: { traits?: Props; now?: number; updates?: UpdateType[]; min?: number; identityTraits?: string[] } = {}) {
  const now = options.now ?? signals.at(-1)?.time ?? T0;
  const plan: JourneyOptions = {
    model: MODEL,
    updates: options.updates ?? ['identified', 'purchased', 'stage', 'score'],
    updateMinPoints: options.min ?? 10,
    identityTraits: options.identityTraits ?? ['email'],
    now,
    context: { site: 'shop.example', page: 'https://shop.example/p', lib: 'leadscore@test' },
  };
  const base = structuredClone(record);
  startHearing(base, plan);
  Object.assign(base.traits, options.traits ?? {});
  const result = applySignals(base, signals, MODEL);
  for (const applied of result.applied) noteInterest(result.record.interest, applied.signal.name, applied.signal.props);
  const events = planEvents(result.record, result.crossed, result.applied, plan);
  for (const event of events) expect(validate(onWire(event)), `${event.type}: ${JSON.stringify(validate.errors)}`).toBe(true);
  return { record: result.record, events, types: events.map((event) => event.type), ids: events.map((event) => event.id) };
}

/** A visitor who qualified for mql (35) with two adds (40 points). */
function qualified() {
  return write(newRecord('v', T0), [sig('add_to_cart', T0, { item_id: 'mug', name: 'Blue mug', price: 24, currency: 'EUR' }), sig('add_to_cart', T0 + 1000, { item_id: 'tea', price: 8 })]);
}

describe('lead events', () => {
  it('qualifies once, with the interest of the qualifying write', () => {
    const { events, record } = qualified();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ v: 2, type: 'qualified', id: 'v.mql.1', stage: 'mql', n: 1, score: 40, at: T0 + 1000, qualifiedAt: T0 + 1000 });
    expect(events[0]!.interest).toEqual({
      items: [
        { item_id: 'tea', price: 8, views: 0, adds: 1, in_cart: true },
        { item_id: 'mug', name: 'Blue mug', price: 24, currency: 'EUR', views: 0, adds: 1, in_cart: true },
      ],
      categories: [],
      cart: { value: 32, currency: 'EUR' },
      searches: 0,
    });
    expect(record.heard).toMatchObject({ identity: '', score: 40 });
    expect(write(record, [sig('page_view', T0 + 2000)]).events).toEqual([]);
  });

  it('sends nothing but crossings before qualification', () => {
    const { events } = write(newRecord('v', T0), [sig('purchase', T0, { transaction_id: 'o1' })], { traits: { email: 'a@x.io' } });
    expect(events).toEqual([]);
  });

  it('lets identity ride on the qualification when it is known before', () => {
    const start = write(newRecord('v', T0), [sig('view_item', T0)], { traits: { email: 'a@x.io' } }).record;
    const { events, record } = write(start, [sig('add_to_cart', T0 + MIN), sig('add_to_cart', T0 + MIN + 1)]);
    expect(events.map((event) => [event.type, event.traits])).toEqual([['qualified', { email: 'a@x.io' }]]);
    expect(write(record, [], { traits: { email: 'a@x.io' }, now: T0 + 2 * MIN }).events).toEqual([]);
  });

  it('tells an identity after qualification once, and a different one as n + 1', () => {
    const first = write(qualified().record, [], { traits: { email: 'a@x.io', plan: 'pro' }, now: T0 + MIN });
    expect(first.events).toHaveLength(1);
    expect(first.events[0]).toMatchObject({ type: 'identified', id: 'v.identified.1', stage: 'mql', n: 1, traits: { email: 'a@x.io', plan: 'pro' }, at: T0 + MIN });
    // The same email again (another tab, a reload) is nothing new; a trait that does not identify neither.
    expect(write(first.record, [], { traits: { email: 'a@x.io', plan: 'max' }, now: T0 + 2 * MIN }).events).toEqual([]);
    const second = write(first.record, [], { traits: { email: 'b@x.io' }, now: T0 + 3 * MIN });
    expect(second.ids).toEqual(['v.identified.2']);
  });

  it('identifies by the traits the site names', () => {
    const { ids } = write(qualified().record, [], { traits: { customer_id: 'C-9' }, identityTraits: ['email', 'customer_id'], now: T0 + MIN });
    expect(ids).toEqual(['v.identified.1']);
    expect(write(qualified().record, [], { traits: { customer_id: 'C-9' }, now: T0 + MIN }).events).toEqual([]);
    expect(readIdentity({ email: 'a@x.io', customer_id: 7, name: 'Ada' }, ['email', 'customer_id'])).toBe('email=a@x.io\ncustomer_id=7\n');
  });

  it('tells each purchase once per transaction, with the order', () => {
    const start = qualified().record;
    // Purchases only: each one's points would also make a risen score.
    const only = { updates: ['purchased'] as UpdateType[] };
    const buy = write(start, [sig('purchase', T0 + MIN, { transaction_id: '#1001', value: 48, currency: 'EUR' })], only);
    expect(buy.events).toHaveLength(1);
    expect(buy.events[0]).toMatchObject({ type: 'purchased', id: 'v.purchased._1001', order: { id: '#1001', value: 48, currency: 'EUR' }, at: T0 + MIN });
    // The cart emptied with the order.
    expect(buy.events[0]!.interest.cart).toBeUndefined();
    expect(buy.events[0]!.interest.items.every((item) => !item.in_cart)).toBe(true);
    // The thank-you page reloaded: the same transaction again.
    expect(write(buy.record, [sig('purchase', T0 + 2 * MIN, { transaction_id: '#1001' })], only).events).toEqual([]);
    expect(write(buy.record, [sig('purchase', T0 + 3 * MIN, { transaction_id: '#1002', value: 12 })], only).ids).toEqual(['v.purchased._1002']);
  });

  it('tells a purchase without a transaction id once per session', () => {
    const start = qualified().record;
    const only = { updates: ['purchased'] as UpdateType[] };
    const first = write(start, [sig('purchase', T0 + MIN)], only);
    expect(first.ids).toEqual(['v.purchased.s1']);
    expect(first.events[0]!.order).toEqual({});
    expect(write(first.record, [sig('purchase', T0 + 2 * MIN)], only).events).toEqual([]);
    expect(write(first.record, [sig('purchase', T0 + DAY)], only).ids).toEqual(['v.purchased.s2']);
  });

  it('tells a purchase that itself qualifies after the qualification', () => {
    const { types } = write(newRecord('v', T0), [sig('add_to_cart', T0), sig('purchase', T0 + MIN, { transaction_id: 'o1' })]);
    expect(types).toEqual(['qualified', 'purchased']);
  });

  it('tells a later stage as a stage event', () => {
    const start = qualified().record;
    const { events } = write(start, [1, 2, 3, 4].map((i) => sig('add_to_cart', T0 + i * MIN, { item_id: `x${i}` })));
    expect(events.map((event) => [event.type, event.id, event.stage, event.threshold])).toEqual([['stage', 'v.hot.1', 'hot', 100]]);
  });

  it('tells a risen score at most once a session, only after the minimum rise', () => {
    const start = qualified().record;
    // +5: not enough.
    const small = write(start, [sig('view_item', T0 + MIN)]);
    expect(small.events).toEqual([]);
    // +5 more: 10 over what was heard.
    const risen = write(small.record, [sig('view_item', T0 + 2 * MIN)]);
    expect(risen.events.map((event) => [event.type, event.id, event.score, event.stage])).toEqual([['score', 'v.score.1', 50, 'mql']]);
    // Risen again in the same session: not told.
    expect(write(risen.record, [sig('add_to_cart', T0 + 3 * MIN, { item_id: 'z' })]).events).toEqual([]);
    // Next session: the repeat visit and a view are 15 over the 50 told.
    const next = write(risen.record, [sig('view_item', T0 + DAY)]);
    expect(next.ids).toEqual(['v.score.2']);
  });

  it('counts the score a crossing or another event told as heard', () => {
    const start = qualified().record;
    const { types, record } = write(start, [sig('view_item', T0 + MIN), sig('view_item', T0 + MIN + 1)], { traits: { email: 'a@x.io' } });
    expect(types).toEqual(['identified']);
    expect(record.heard!.score).toBe(50);
  });

  it('sends only the updates the site picked', () => {
    const start = qualified().record;
    const none = write(start, [sig('purchase', T0 + MIN, { transaction_id: 'o' }), ...[1, 2, 3].map((i) => sig('add_to_cart', T0 + MIN + i))], { traits: { email: 'a@x.io' }, updates: [] });
    expect(none.events).toEqual([]);
    const some = write(start, [sig('purchase', T0 + MIN, { transaction_id: 'o' }), ...[1, 2, 3].map((i) => sig('add_to_cart', T0 + MIN + i))], { traits: { email: 'a@x.io' }, updates: ['identified'] });
    expect(some.types).toEqual(['identified']);
    // Re-qualification is a qualification, not an update.
    expect(none.events.filter((event) => event.type === 'qualified')).toEqual([]);
  });

  it('starts hearing on a record from before lead events, as if everything in it had been told', () => {
    const old = qualified().record;
    delete old.heard;
    old.traits.email = 'a@x.io';
    // Reading it back: no heard, an interest (fresh when missing).
    const stored = structuredClone(old) as Partial<VisitorRecord>;
    delete stored.interest;
    const parsed = parseRecord(stored)!;
    expect(parsed.heard).toBeUndefined();
    expect(parsed.interest).toEqual(newInterest());
    expect(write(parsed, [sig('page_view', T0 + MIN)]).events).toEqual([]);
    expect(write(parsed, [], { traits: { email: 'b@x.io' }, now: T0 + MIN }).ids).toEqual(['v.identified.1']);
  });
});

describe('interest', () => {
  it('ranks products by engagement, the newest first on a tie, five at most', () => {
    const interest = newInterest();
    for (let i = 0; i < 7; i++) noteInterest(interest, 'view_item', { item_id: `p${i}` });
    noteInterest(interest, 'view_item', { item_id: 'p0', name: 'Zero' });
    noteInterest(interest, 'add_to_cart', { item_id: 'p1' });
    expect(toWireInterest(interest, 0).items.map((item) => item.item_id)).toEqual(['p1', 'p0', 'p6', 'p5', 'p4']);
  });

  it('keeps at most ten products, dropping the least engaged', () => {
    const interest = newInterest();
    noteInterest(interest, 'add_to_cart', { item_id: 'kept' });
    for (let i = 0; i < 30; i++) noteInterest(interest, 'view_item', { item_id: `p${i}` });
    expect(interest.items).toHaveLength(MAX_ITEMS);
    expect(interest.items.some((item) => item.item_id === 'kept')).toBe(true);
  });

  it('estimates the cart this session: adds minus removes, a cart view value, reset by a new session and a purchase', () => {
    const interest = newInterest();
    noteInterest(interest, 'add_to_cart', { item_id: 'a', price: 10, quantity: 2, currency: 'EUR' });
    noteInterest(interest, 'add_to_cart', { item_id: 'b', value: 5 });
    noteInterest(interest, 'remove_from_cart', { item_id: 'a', price: 10 });
    expect(toWireInterest(interest, 0).cart).toEqual({ value: 15, currency: 'EUR' });
    expect(interest.items.find((item) => item.item_id === 'a')!.in_cart).toBe(false);
    noteInterest(interest, 'remove_from_cart', { value: 100 });
    expect(toWireInterest(interest, 0).cart).toBeUndefined();
    noteInterest(interest, 'view_cart', { value: 48 });
    expect(toWireInterest(interest, 0).cart).toEqual({ value: 48, currency: 'EUR' });
    noteInterest(interest, 'session_start', {});
    expect(interest.cart).toBe(0);
    expect(interest.items.every((item) => !item.in_cart)).toBe(true);
  });

  it('ranks categories from product pages and lists, and keeps search terms only when given', () => {
    const interest = newInterest();
    noteInterest(interest, 'view_item_list', { list: 'Mugs' });
    noteInterest(interest, 'view_item', { item_id: 'a', category: 'Mugs' });
    noteInterest(interest, 'view_item', { item_id: 'b', category: 'Tea' });
    noteInterest(interest, 'view_item_list', { list: '__proto__' });
    for (let i = 0; i < 12; i++) noteInterest(interest, 'view_item_list', { list: `L${i}` });
    noteInterest(interest, 'search', {});
    expect(toWireInterest(interest, 4)).toEqual({ items: expect.any(Array), categories: ['Mugs', 'Tea', 'L0'], searches: 4 });
    for (const term of ['a', 'b', 'c', 'd']) noteInterest(interest, 'search', { term });
    expect(toWireInterest(interest, 4).terms).toEqual(['b', 'c', 'd']);
    expect(Object.keys(interest.categories)).toHaveLength(10);
  });

  it('ignores what is not a product: no id, a negative price', () => {
    const interest = newInterest();
    noteInterest(interest, 'view_item', { name: 'no id' });
    noteInterest(interest, 'add_to_cart', { item_id: 'a', price: -5, quantity: -1 });
    expect(interest.items).toEqual([{ item_id: 'a', views: 0, adds: 1, in_cart: true }]);
    expect(interest.cart).toBe(0);
  });

  it.each<[string, unknown]>([
    ['not an object', 'x'],
    ['eleven items', { ...newInterest(), items: Array(11).fill({ item_id: 'a', views: 0, adds: 0, in_cart: false }) }],
    ['an item without id', { ...newInterest(), items: [{ views: 0, adds: 0, in_cart: false }] }],
    ['a long name', { ...newInterest(), items: [{ item_id: 'a', name: 'x'.repeat(201), views: 0, adds: 0, in_cart: false }] }],
    ['a negative price', { ...newInterest(), items: [{ item_id: 'a', price: -1, views: 0, adds: 0, in_cart: false }] }],
    ['a category count that is text', { ...newInterest(), categories: { Mugs: '3' } }],
    ['a huge cart', { ...newInterest(), cart: 1e12 }],
    ['four terms', { ...newInterest(), terms: ['a', 'b', 'c', 'd'] }],
  ])('starts over from stored interest that is %s, keeping the record', (_, interest) => {
    const record = { ...newRecord('v', T0), interest };
    expect(parseRecord(record)!.interest).toEqual(newInterest());
  });
});

describe('every event of random journeys is valid on the wire', () => {
  it('holds for 300 random journeys', () => {
    const random = createPrng(20);
    const names = ['add_to_cart', 'remove_from_cart', 'view_item', 'view_item_list', 'view_cart', 'purchase', 'search', 'page_view'];
    const text = () => (random() < 0.1 ? 'é€😀'.repeat(Math.floor(random() * 60)) : `t${Math.floor(random() * 20)}`);
    for (let run = 0; run < 300; run++) {
      let record = newRecord(`v${run}`, T0);
      let time = T0;
      for (let step = 0; step < 30; step++) {
        time += Math.floor(random() * 3 * 3_600_000);
        const props: Props = {};
        if (random() < 0.8) props.item_id = text();
        if (random() < 0.5) props.name = text();
        if (random() < 0.5) props.price = random() < 0.05 ? 5e8 : Math.round(random() * 10_000) / 100;
        if (random() < 0.3) props.value = random() < 0.05 ? 2e9 : random() * 500;
        if (random() < 0.3) props.transaction_id = text();
        if (random() < 0.3) props.category = text();
        if (random() < 0.3) props.list = text();
        if (random() < 0.3) props.term = text();
        if (random() < 0.3) props.currency = text();
        const traits: Props = random() < 0.1 ? { email: `${text()}@x.io` } : {};
        record = write(record, [sig(names[Math.floor(random() * names.length)]!, time, props)], { traits }).record;
      }
    }
  });
});
