import { describe, expect, it } from 'vitest';
import { DEFAULT_STAGES, defaultRules } from '../../src/engine/defaults';
import { matchProps, toGlobRegExp } from '../../src/engine/match';
import { newRecord, parseRecord, type VisitorRecord } from '../../src/engine/record';
import { applySignals, DAY_MS, decayPoints, scoreAt, toVisitorState } from '../../src/engine/score';
import type { Props, Rule, ScoringModel, Signal } from '../../src/types';
import { prng } from '../helpers/prng';

const T0 = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;

function model(rules: Rule[], extra: Partial<ScoringModel> = {}): ScoringModel {
  return { rules, stages: [{ name: 'mql', threshold: 50 }], halfLifeDays: 0, sessionMinutes: 30, coolOffDays: 30, ...extra };
}
const sig = (name: string, time: number, props: Props = {}): Signal => ({ name, time, props });
function run(m: ScoringModel, signals: Signal[], start: VisitorRecord = newRecord('v1', T0)) {
  return applySignals(start, signals, m);
}

describe('glob matching', () => {
  it.each([
    ['/cart', '/cart', true],
    ['/cart', '/CART', true],
    ['/cart', '/cart/x', false],
    ['/products/*', '/products/shoe', true],
    ['/products/*', '/products/shoe/red', false],
    ['/products/**', '/products/shoe/red', true],
    ['**/cart', '/en/cart', true],
    ['**/cart', '/cart', true],
    ['**/cart/**', '/cart/', true],
    ['/a.b', '/aXb', false],
    ['/price(s)', '/price(s)', true],
    ['*', 'anything', true],
  ])('%s ~ %s -> %s', (glob, path, expected) => {
    expect(toGlobRegExp(glob).test(path)).toBe(expected);
  });

  it('matches every listed property, with arrays as any-of and numeric ranges', () => {
    const match = { path: ['/cart', '/checkout/**'], price: { gte: 10, lte: 100 }, sale: true };
    expect(matchProps(match, { path: '/checkout/step', price: 10, sale: true })).toBe(true);
    expect(matchProps(match, { path: '/checkout/step', price: 101, sale: true })).toBe(false);
    expect(matchProps(match, { path: '/other', price: 50, sale: true })).toBe(false);
    expect(matchProps(match, { path: '/cart', price: '50', sale: true })).toBe(false);
    expect(matchProps(match, { path: '/cart', price: 50 })).toBe(false);
    expect(matchProps(undefined, {})).toBe(true);
    expect(matchProps({ n: 3 }, { n: 3 })).toBe(true);
  });

  it('does not read inherited properties', () => {
    expect(matchProps({ toString: '*' }, {})).toBe(false);
  });

  it('ignores enumerable properties a page added to Object.prototype (old libraries still do)', () => {
    Object.defineProperty(Object.prototype, 'polluted', { value: 'x', enumerable: true, configurable: true, writable: true });
    try {
      expect(matchProps({ path: ['/cart'] }, { path: '/cart' })).toBe(true);
      expect(matchProps({ n: { gte: 1 } }, { n: 2 })).toBe(true);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
  });

  it('matches a list of globs (one combined expression) exactly like any-of over each glob', () => {
    const globs = ['/cart', '**/checkout/**', '/p/*', '/a.b', '/x|y', '(z)', '/c$', '^d'];
    const paths = ['/cart', '/CART', '/en/checkout/step', '/checkout', '/p/1', '/p/1/2', '/a.b', '/aXb', '/x|y', '/x', 'y', '(z)', 'z', '/c$', '^d', '', '/cart\n'];
    const lists = [globs, globs.slice(0, 1), globs.slice(2, 5), ['**'], ['*']];
    for (const list of lists) {
      for (const path of paths) {
        const expected = list.some((glob) => toGlobRegExp(glob).test(path));
        expect(matchProps({ path: list }, { path }), `${JSON.stringify(list)} ~ ${path}`).toBe(expected);
      }
    }
    expect(matchProps({ path: [] }, { path: '' })).toBe(false);
    expect(matchProps({ n: [1, '/a', true] }, { n: 1 })).toBe(true);
    expect(matchProps({ n: [1, '/a', true] }, { n: '/A' })).toBe(true);
    expect(matchProps({ n: [1, '/a', true] }, { n: 2 })).toBe(false);
    expect(matchProps({ path: ['/a'] }, { path: 3 })).toBe(false);
  });
});

describe('points and caps', () => {
  it('adds points per counted signal and explains them by rule', () => {
    const m = model([{ id: 'a', signal: 'add_to_cart', points: 20 }]);
    const { record } = run(m, [sig('add_to_cart', T0), sig('add_to_cart', T0 + 1)]);
    const state = toVisitorState(record, m, { now: T0 + 2, storage: 'memory' });
    expect(state.score).toBe(40);
    expect(state.rules.a).toEqual({ count: 2, points: 40 });
    expect(state.signals.add_to_cart).toBe(2);
  });

  it('caps a rule per visitor', () => {
    const m = model([{ id: 'a', signal: 'x', points: 5, max: 2 }]);
    const { record } = run(m, [0, 1, 2, 3].map((i) => sig('x', T0 + i * DAY_MS)));
    expect(scoreAt(record, m, T0 + 4 * DAY_MS)).toBe(10);
    expect(record.signals.x).toBe(4);
    expect(record.rules.a!.count).toBe(2);
  });

  it('caps a rule per session and opens the cap again in the next session', () => {
    const m = model([{ id: 'a', signal: 'x', points: 1, max: 2, per: 'session' }]);
    const { record } = run(m, [
      sig('x', T0),
      sig('x', T0 + MIN),
      sig('x', T0 + 2 * MIN),
      sig('x', T0 + 2 * MIN + 31 * MIN),
      sig('x', T0 + 2 * MIN + 32 * MIN),
      sig('x', T0 + 2 * MIN + 33 * MIN),
    ]);
    expect(record.visits).toBe(2);
    expect(scoreAt(record, m, T0 + DAY_MS)).toBe(4);
  });

  it('caps a rule per UTC day', () => {
    const m = model([{ id: 'a', signal: 'x', points: 1, max: 1, per: 'day' }]);
    const day = Date.UTC(2026, 0, 2);
    const { record } = run(m, [sig('x', day + 1000), sig('x', day + 2000), sig('x', day + DAY_MS), sig('x', day + DAY_MS + 1)]);
    expect(scoreAt(record, m, day + 2 * DAY_MS)).toBe(2);
  });

  it('does not reopen a spent daily cap when the clock jumps back a day', () => {
    const m = model([{ id: 'a', signal: 'x', points: 1, max: 1, per: 'day' }]);
    const { record } = run(m, [sig('x', T0 + DAY_MS), sig('x', T0), sig('x', T0 + DAY_MS + 5)]);
    expect(record.rules.a!.count).toBe(1);
  });

  it('supports negative points, and the score never goes below zero', () => {
    const m = model([
      { id: 'pos', signal: 'view', points: 10 },
      { id: 'neg', signal: 'jobs', points: -25 },
    ]);
    const { record } = run(m, [sig('view', T0), sig('jobs', T0 + 1)]);
    expect(scoreAt(record, m, T0 + 2)).toBe(0);
    const more = run(m, [sig('view', T0 + 3), sig('view', T0 + 4)], record).record;
    expect(scoreAt(more, m, T0 + 5)).toBe(5);
  });

  it('filters on properties with match', () => {
    const m = model([{ id: 'hv', signal: 'page_view', points: 12, match: { path: '/pricing' } }]);
    const { record } = run(m, [sig('page_view', T0, { path: '/' }), sig('page_view', T0 + 1, { path: '/pricing' })]);
    expect(scoreAt(record, m, T0 + 2)).toBe(12);
    expect(record.signals.page_view).toBe(2);
  });

  it('lets two rules score the same signal', () => {
    const rules = defaultRules(['/cart']);
    const m = model(rules);
    const { applied } = run(m, [sig('page_view', T0, { path: '/cart' })]);
    expect(applied.at(-1)!.hits.map((h) => h.id)).toEqual(['page_view', 'high_value_page']);
  });
});

describe('time windows', () => {
  it('drops points older than the window', () => {
    const m = model([{ id: 'w', signal: 'x', points: 10, windowDays: 7 }]);
    const { record } = run(m, [sig('x', T0)]);
    expect(scoreAt(record, m, T0 + 6 * DAY_MS)).toBe(10);
    expect(scoreAt(record, m, T0 + 8 * DAY_MS)).toBe(0);
  });

  it('counts max within the window for visitor-period rules', () => {
    const m = model([{ id: 'w', signal: 'x', points: 10, windowDays: 7, max: 1 }]);
    const first = run(m, [sig('x', T0), sig('x', T0 + DAY_MS)]).record;
    expect(first.rules.w!.count).toBe(1);
    const later = run(m, [sig('x', T0 + 10 * DAY_MS)], first).record;
    expect(later.rules.w!.count).toBe(2);
    expect(scoreAt(later, m, T0 + 10 * DAY_MS)).toBe(10);
  });

  it('keeps the windowed day list bounded', () => {
    const m = model([{ id: 'w', signal: 'x', points: 1, windowDays: 3 }]);
    const signals = Array.from({ length: 50 }, (_, i) => sig('x', T0 + i * DAY_MS));
    const { record } = run(m, signals);
    expect(record.rules.w!.days!.length).toBeLessThanOrEqual(3);
    expect(scoreAt(record, m, T0 + 49 * DAY_MS)).toBe(3);
  });
});

describe('decay', () => {
  it('halves points every half-life', () => {
    expect(decayPoints(40, T0, T0 + 14 * DAY_MS, 14)).toBeCloseTo(20, 10);
    expect(decayPoints(40, T0, T0 + 28 * DAY_MS, 14)).toBeCloseTo(10, 10);
  });

  it('is off with a half-life of 0', () => {
    expect(decayPoints(40, T0, T0 + 1000 * DAY_MS, 0)).toBe(40);
  });

  it('never inflates points when the clock goes backwards', () => {
    expect(decayPoints(40, T0, T0 - DAY_MS, 14)).toBe(40);
    const m = model([{ id: 'a', signal: 'x', points: 10 }], { halfLifeDays: 14 });
    const { record } = run(m, [sig('x', T0)]);
    expect(scoreAt(record, m, T0 - 5 * DAY_MS)).toBe(10);
  });

  it('cools a visitor off over long gaps and stays finite', () => {
    const m = model([{ id: 'a', signal: 'x', points: 10 }], { halfLifeDays: 14 });
    const { record } = run(m, [sig('x', T0)]);
    expect(scoreAt(record, m, T0 + 140 * DAY_MS)).toBeCloseTo(10 / 1024, 10);
    expect(scoreAt(record, m, T0 + 1e6 * DAY_MS)).toBe(0);
    expect(Number.isFinite(scoreAt(record, m, Number.MAX_SAFE_INTEGER))).toBe(true);
  });

  it('applies decay lazily and deterministically from timestamps', () => {
    const m = model([{ id: 'a', signal: 'x', points: 10 }], { halfLifeDays: 14 });
    const a = run(m, [sig('x', T0), sig('x', T0 + 14 * DAY_MS)]).record;
    const b = run(m, [sig('x', T0 + 14 * DAY_MS)], run(m, [sig('x', T0)]).record).record;
    expect(scoreAt(a, m, T0 + 14 * DAY_MS)).toBeCloseTo(15, 10);
    expect(a).toEqual(b);
  });
});

describe('stages', () => {
  const m = model([{ id: 'a', signal: 'x', points: 25 }], {
    stages: [
      { name: 'mql', threshold: 50 },
      { name: 'hot', threshold: 100 },
    ],
  });

  it('crosses a stage exactly at the threshold, once', () => {
    const { crossed, record } = run(m, [sig('x', T0), sig('x', T0 + 1), sig('x', T0 + 2)]);
    expect(crossed).toEqual([{ stage: 'mql', threshold: 50, score: 50, at: T0 + 1, n: 1 }]);
    const state = toVisitorState(record, m, { now: T0 + 3, storage: 'memory' });
    expect(state.stage).toBe('mql');
    expect(state.qualified).toEqual({ mql: T0 + 1 });
  });

  it('does not cross just below the threshold', () => {
    const below = model([{ id: 'a', signal: 'x', points: 49.99 }]);
    expect(run(below, [sig('x', T0)]).crossed).toEqual([]);
  });

  it('crosses several stages with one signal', () => {
    const big = model([{ id: 'a', signal: 'x', points: 120 }], { stages: m.stages });
    expect(run(big, [sig('x', T0)]).crossed.map((c) => c.stage)).toEqual(['mql', 'hot']);
  });

  it('keeps the highest stage reached when the score decays', () => {
    const decaying = { ...m, halfLifeDays: 14 };
    const { record } = run(decaying, [sig('x', T0), sig('x', T0)]);
    const state = toVisitorState(record, decaying, { now: T0 + 100 * DAY_MS, storage: 'memory' });
    expect(state.stage).toBe('mql');
    expect(state.score).toBeLessThan(50);
  });

  it('re-qualifies only after a lapse below the threshold and the cool-off', () => {
    const decaying = { ...m, halfLifeDays: 14, coolOffDays: 30 };
    const first = run(decaying, [sig('x', T0), sig('x', T0)]);
    expect(first.crossed).toHaveLength(1);
    // 10 days later: the score has lapsed but the cool-off has not passed.
    const early = run(decaying, [sig('x', T0 + 10 * DAY_MS), sig('x', T0 + 10 * DAY_MS)], first.record);
    expect(early.crossed).toEqual([]);
    // 60 days later: lapsed and cooled off; a new qualification, numbered 2.
    const later = run(decaying, [sig('x', T0 + 60 * DAY_MS), sig('x', T0 + 60 * DAY_MS), sig('x', T0 + 60 * DAY_MS)], early.record);
    expect(later.crossed.map((c) => [c.stage, c.n])).toEqual([['mql', 2]]);
  });

  it('never re-qualifies a stage the score has stayed above', () => {
    const { record } = run(m, [sig('x', T0), sig('x', T0)]);
    expect(run(m, [sig('x', T0 + 90 * DAY_MS), sig('x', T0 + 90 * DAY_MS)], record).crossed.map((c) => c.stage)).toEqual(['hot']);
  });
});

describe('sessions', () => {
  const m = model(defaultRules());

  it('starts a session on the first signal and a repeat visit after 30 minutes of inactivity', () => {
    const { record, applied } = run(m, [sig('page_view', T0, { path: '/' }), sig('page_view', T0 + 31 * MIN, { path: '/' })]);
    expect(applied.map((a) => a.signal.name)).toEqual(['session_start', 'page_view', 'session_start', 'repeat_visit', 'page_view']);
    expect(record.visits).toBe(2);
    expect(record.signals.repeat_visit).toBe(1);
  });

  it('keeps one session while the visitor stays active', () => {
    const signals = Array.from({ length: 10 }, (_, i) => sig('page_view', T0 + i * 20 * MIN, { path: '/' }));
    expect(run(m, signals).record.visits).toBe(1);
  });

  it('uses the configured session length', () => {
    const short = model([], { sessionMinutes: 5 });
    expect(run(short, [sig('x', T0), sig('x', T0 + 6 * MIN)]).record.visits).toBe(2);
  });

  it('does not start a session when the clock goes backwards', () => {
    expect(run(m, [sig('x', T0), sig('x', T0 - DAY_MS)]).record.visits).toBe(1);
  });
});

describe('default ecommerce model', () => {
  const m: ScoringModel = { rules: defaultRules(), stages: DEFAULT_STAGES, halfLifeDays: 14, sessionMinutes: 30, coolOffDays: 30 };

  it('never qualifies on a single page view with everything that can happen on it', () => {
    const page = [
      sig('page_view', T0, { path: '/pricing' }),
      sig('view_item', T0 + 1),
      sig('ad_click', T0 + 2),
      sig('view_cart', T0 + 3),
      sig('view_item_list', T0 + 3, { list: 'mugs' }),
      sig('search', T0 + 3),
      ...Array.from({ length: 20 }, (_, i) => sig('engaged_time', T0 + 3 + i, { seconds: 15 })),
    ];
    const { record, crossed } = run(m, page);
    expect(crossed).toEqual([]);
    expect(scoreAt(record, m, T0 + 100)).toBeLessThan(50);
  });

  it('takes 10 points off per removed cart line, at most twice a session', () => {
    const { record } = run(m, [
      sig('add_to_cart', T0, { item_id: 'a' }),
      sig('add_to_cart', T0 + 1, { item_id: 'b' }),
      sig('remove_from_cart', T0 + 2),
      sig('remove_from_cart', T0 + 3),
      sig('remove_from_cart', T0 + 4),
    ]);
    expect(scoreAt(record, m, T0 + 4)).toBeCloseTo(40 - 20, 5);
  });

  it('qualifies a returning visitor who views a product and a high-value page and adds to cart', () => {
    const firstVisit = run(m, [sig('page_view', T0, { path: '/' })]).record;
    const T1 = T0 + 3 * DAY_MS;
    const { crossed, record } = run(
      m,
      [
        sig('page_view', T1, { path: '/products/blue-mug' }),
        sig('view_item', T1 + MIN, { item_id: 'mug' }),
        sig('add_to_cart', T1 + 2 * MIN, { item_id: 'mug' }),
        sig('page_view', T1 + 3 * MIN, { path: '/cart' }),
      ],
      firstVisit,
    );
    expect(crossed.map((c) => c.stage)).toEqual(['mql']);
    expect(record.visits).toBe(2);
  });

  it('computes the README worked example exactly', () => {
    const monday = Date.UTC(2026, 0, 5, 10);
    const thursday = monday + 3 * DAY_MS;
    const first = run(m, [sig('page_view', monday, { path: '/' })]).record;
    const { record, crossed } = run(
      m,
      [
        sig('page_view', thursday, { path: '/products/blue-mug' }),
        sig('view_item', thursday, { item_id: 'blue-mug' }),
        sig('add_to_cart', thursday, { item_id: 'blue-mug' }),
        sig('page_view', thursday, { path: '/cart' }),
        sig('view_cart', thursday),
      ],
      first,
    );
    expect(toVisitorState(record, m, { now: thursday, storage: 'memory' }).score).toBe(55.86);
    expect(crossed).toHaveLength(1);
    const noReturn = run(m, [
      sig('page_view', thursday, { path: '/products/blue-mug' }),
      sig('view_item', thursday),
      sig('add_to_cart', thursday),
      sig('page_view', thursday, { path: '/cart' }),
      sig('view_cart', thursday),
    ]).record;
    expect(scoreAt(noReturn, m, thursday)).toBe(45);
  });

  it('does not qualify the same path without the return visit', () => {
    const { crossed } = run(m, [
      sig('page_view', T0, { path: '/products/blue-mug' }),
      sig('view_item', T0 + MIN),
      sig('add_to_cart', T0 + 2 * MIN),
      sig('page_view', T0 + 3 * MIN, { path: '/cart' }),
    ]);
    expect(crossed).toEqual([]);
  });
});

describe('hostile numbers', () => {
  it.each([NaN, Infinity, -Infinity, 1e308, -1e308])('stays finite with a rule worth %s', (points) => {
    const m = model([{ id: 'a', signal: 'x', points }]);
    const { record } = run(m, Array.from({ length: 5 }, (_, i) => sig('x', T0 + i)));
    const score = scoreAt(record, m, T0 + 10);
    expect(Number.isFinite(score)).toBe(true);
    expect(score).toBeGreaterThanOrEqual(0);
  });

  it.each([NaN, Infinity, -Infinity])('uses the last known time for a signal at %s', (time) => {
    const m = model([{ id: 'a', signal: 'x', points: 1 }], { halfLifeDays: 14 });
    const { record } = run(m, [sig('x', T0), sig('x', time)]);
    expect(record.lastSeen).toBe(T0);
    expect(scoreAt(record, m, T0)).toBe(2);
  });

  it('handles huge timestamps without overflow', () => {
    const m = model([{ id: 'a', signal: 'x', points: 10 }], { halfLifeDays: 14 });
    const { record } = run(m, [sig('x', 8.64e15), sig('x', 0)]);
    expect(Number.isFinite(scoreAt(record, m, 8.64e15))).toBe(true);
  });
});

describe('bounded record', () => {
  it('keeps recent events, signal names and rules bounded', () => {
    const m = model([{ id: 'a', signal: 'x', points: 1 }]);
    const signals = Array.from({ length: 500 }, (_, i) => sig(`name_${i}`, T0 + i));
    const { record } = run(m, signals);
    expect(record.recent).toHaveLength(20);
    expect(Object.keys(record.signals).length).toBeLessThanOrEqual(64);
    expect(parseRecord(record)).toEqual(record);
  });

  it('drops tallies of rules that left the model', () => {
    const m1 = model([{ id: 'old', signal: 'x', points: 1 }]);
    const m2 = model([{ id: 'new', signal: 'x', points: 1 }]);
    const { record } = run(m2, [sig('x', T0 + 1)], run(m1, [sig('x', T0)]).record);
    expect(Object.keys(record.rules)).toEqual(['new']);
  });

  it('does not mutate its input', () => {
    const m = model(defaultRules());
    const start = newRecord('v', T0);
    const copy = structuredClone(start);
    run(m, [sig('page_view', T0, { path: '/cart' })], start);
    expect(start).toEqual(copy);
  });
});

describe('parseRecord', () => {
  const good = run(model(defaultRules()), [sig('page_view', T0, { path: '/' })]).record;

  it('accepts a valid record and returns a copy', () => {
    const parsed = parseRecord(good);
    expect(parsed).toEqual(good);
    expect(parsed).not.toBe(good);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', '"[1]"'],
    ['an array', []],
    ['another version', { ...good, version: 2 }],
    ['a NaN score tally', { ...good, rules: { a: { count: 1, points: NaN, at: 0, key: 0, used: 0 } } }],
    ['an infinite tally', { ...good, rules: { a: { count: 1, points: 1e309, at: 0, key: 0, used: 0 } } }],
    ['stages as an array', { ...good, stages: [] }],
    ['a huge id', { ...good, id: 'x'.repeat(1_000_000) }],
    ['a missing field', { ...good, visits: undefined }],
    ['a negative count', { ...good, signals: { x: -1 } }],
    ['a fractional count', { ...good, signals: { x: 1.5 } }],
    ['too many signal names', { ...good, signals: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, 1])) }],
    ['an object trait', { ...good, traits: { a: {} } }],
    ['a broken recent entry', { ...good, recent: [['x', 1]] }],
    ['too many recent entries', { ...good, recent: Array.from({ length: 21 }, () => ['x', 1, 1]) }],
    ['a stage without n', { ...good, stages: { mql: { at: 1, lapsed: false } } }],
  ])('rejects %s', (_, value) => {
    expect(parseRecord(value)).toBeNull();
  });

  it('rejects a record with a __proto__ key', () => {
    const polluted = JSON.parse(JSON.stringify(good).replace('"signals":{', '"signals":{"__proto__":1,'));
    expect(parseRecord(polluted)).toBeNull();
  });
});


describe('signal ids (journal replays)', () => {
  const m = model([{ id: 'a', signal: 'a', points: 1 }]);
  const withId = (id: string, time = T0): Signal => ({ ...sig('a', time), id });
  const ids = (result: ReturnType<typeof run>) => result.applied.filter((entry) => entry.signal.name === 'a').map((entry) => entry.signal.id);

  it('applies a signal id once, within a batch and across batches', () => {
    const first = run(m, [withId('x1'), withId('x1'), withId('x2')]);
    expect(ids(first)).toEqual(['x1', 'x2']);
    const again = run(m, [withId('x2'), withId('x3')], first.record);
    expect(ids(again)).toEqual(['x3']);
    expect(again.record.rules.a!.count).toBe(3);
  });

  it('remembers the last 50 ids, however the stream is cut', () => {
    const sent = Array.from({ length: 60 }, (_, i) => `id${i}`);
    // id0 comes back after 60 others: forgotten, so it counts again, in one batch as in single calls.
    const stream = [...sent, 'id0', 'id59'].map((id) => withId(id));
    const batch = run(m, stream);
    let record = newRecord('v1', T0);
    for (const signal of stream) record = run(m, [signal], record).record;
    expect(batch.record).toEqual(record);
    expect(ids(batch).slice(-2)).toEqual(['id59', 'id0']);
    expect(batch.record.seen).toEqual([...sent.slice(11), 'id0']);
    expect(batch.record.rules.a!.count).toBe(61);
  });
});

describe('properties over random sequences', () => {
  const names = ['a', 'b', 'c', 'page_view'];
  const rules: Rule[] = [
    { id: 'a', signal: 'a', points: 7 },
    { id: 'b', signal: 'b', points: -3 },
    { id: 'c', signal: 'c', points: 11 },
    { id: 'pv', signal: 'page_view', points: 2, match: { path: '/p/*' } },
  ];

  function randomSignals(random: () => number, count: number): Signal[] {
    return Array.from({ length: count }, () =>
      sig(names[Math.floor(random() * names.length)]!, T0 + Math.floor(random() * 20 * MIN), {
        path: random() < 0.5 ? '/p/x' : '/q',
      }),
    );
  }
  function shuffle<T>(items: T[], random: () => number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  it('gives the same score in any order, with decay, when no rule is capped', () => {
    const m = model(rules, { halfLifeDays: 14, sessionMinutes: 24 * 60 });
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed);
      const signals = randomSignals(random, 1 + Math.floor(random() * 30));
      const a = run(m, signals).record;
      const b = run(m, shuffle(signals, random)).record;
      const at = T0 + DAY_MS;
      // The per-rule sums are order-independent; the total is clamped at 0 only at the end.
      expect(scoreAt(b, m, at)).toBeCloseTo(scoreAt(a, m, at), 6);
      expect(b.signals).toEqual(a.signals);
    }
  });

  it('never counts a capped rule more than max per period, and more signals never lower its count', () => {
    const m = model(
      rules.map((rule) => ({ ...rule, max: 3, per: 'session' as const })),
      { halfLifeDays: 14 },
    );
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed);
      const signals = randomSignals(random, 40).sort((x, y) => x.time - y.time);
      let previous: Record<string, number> = {};
      for (let n = 1; n <= signals.length; n += 7) {
        const { record } = run(m, signals.slice(0, n));
        for (const id in record.rules) {
          expect(record.rules[id]!.used).toBeLessThanOrEqual(3);
          expect(record.rules[id]!.count).toBeLessThanOrEqual(3 * record.visits);
          expect(record.rules[id]!.count).toBeGreaterThanOrEqual(previous[id] ?? 0);
        }
        previous = Object.fromEntries(Object.entries(record.rules).map(([id, t]) => [id, t.count]));
      }
    }
  });

  it('keeps the score finite and non-negative with random points and times', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed);
      const m = model(
        names.map((name) => ({ id: name, signal: name, points: (random() - 0.5) * 1e12 })),
        { halfLifeDays: random() * 30 },
      );
      const signals = Array.from({ length: 30 }, () => sig(names[Math.floor(random() * 4)]!, random() * 1e13));
      const { record } = run(m, signals);
      const score = scoreAt(record, m, random() * 1e13);
      expect(Number.isFinite(score)).toBe(true);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(parseRecord(record)).not.toBeNull();
    }
  });

  it('scores a batch exactly as the same signals applied one call at a time (many at the same millisecond, some of no rule)', () => {
    // The tracker writes bursts in batches of up to 500 and single signals alone: how a stream is
    // cut must never change a score, a crossing or the stored record.
    const mixed: Rule[] = [
      ...rules,
      { id: 'aw', signal: 'a', points: 4, windowDays: 2 },
      { id: 'bc', signal: 'b', points: 5, max: 2, per: 'day' },
      { id: 'huge', signal: 'c', points: 3e8 }, // reaches the tally clamp (1e9)
    ];
    for (let seed = 1; seed <= 150; seed++) {
      const random = prng(seed);
      const m = model(mixed, { halfLifeDays: random() < 0.3 ? 0 : 1 + random() * 20, stages: [{ name: 'mql', threshold: 15 }, { name: 'hot', threshold: 40 }] });
      // Few distinct times (bursts share a millisecond), some going backwards, over several days.
      const times = Array.from({ length: 6 }, () => T0 + Math.floor(random() * 5 * DAY_MS));
      // `quiet` has no rule: a run of it at one millisecond reuses the score instead of recomputing it.
      const some = [...names, 'quiet', 'quiet'];
      const signals = Array.from({ length: 40 }, () =>
        sig(some[Math.floor(random() * some.length)]!, times[Math.floor(random() * times.length)]!, { path: random() < 0.5 ? '/p/x' : '/q' }),
      );
      const batch = run(m, signals);
      let record = newRecord('v1', T0);
      const applied: typeof batch.applied = [];
      const crossed: typeof batch.crossed = [];
      for (const signal of signals) {
        const one = run(m, [signal], record);
        record = one.record;
        applied.push(...one.applied);
        crossed.push(...one.crossed);
      }
      expect(batch.applied.length).toBe(applied.length);
      batch.applied.forEach((entry, i) => {
        expect(entry.before).toBeCloseTo(applied[i]!.before, 6);
        expect(entry.after).toBeCloseTo(applied[i]!.after, 6);
      });
      expect(batch.crossed.map((c) => [c.stage, c.at, c.n])).toEqual(crossed.map((c) => [c.stage, c.at, c.n]));
      expect(batch.record).toEqual(record);
    }
  });

  it('qualifies each stage at most once without a lapse', () => {
    const m = model(rules, { stages: [{ name: 'mql', threshold: 20 }, { name: 'hot', threshold: 40 }] });
    for (let seed = 1; seed <= 100; seed++) {
      const random = prng(seed);
      const { crossed } = run(m, randomSignals(random, 60));
      const names = crossed.map((c) => c.stage);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});

describe('names that are Object.prototype properties', () => {
  it.each(['toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])('counts a signal and a rule named %s like any other', (name) => {
    const m = model([{ id: name, signal: name, points: 5 }], { stages: [{ name, threshold: 10 }] });
    const { record, crossed } = run(m, [sig(name, T0), sig(name, T0 + 1)]);
    expect(record.signals[name]).toBe(2);
    expect(record.rules[name]!.count).toBe(2);
    expect(crossed.map((c) => c.stage)).toEqual([name]);
    expect(parseRecord(record)).not.toBeNull();
  });
});
