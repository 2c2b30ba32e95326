import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type Tracker } from '../../src/index';
import { parseBeacon } from '../../src/receiver/parse';
import { prng } from '../helpers/prng';
import { readStoredRecord } from '../helpers/idb';

/**
 * Seeded fuzzing of the public API and the DOM: random calls with hostile values must never throw
 * into the page, keep the score finite, keep the stored record within its bound, and every beacon
 * sent must validate against schema v1. FUZZ_ITERATIONS raises the budget (CI runs the short one);
 * FUZZ_SEED replays a failure.
 */
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1500);
const SEEDS = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : [1, 2, 3];
const MAX_RECORD_BYTES = 48 * 1024;


function hostileValues(random: () => number): unknown[] {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const throwing = new Proxy({}, { get: () => { throw new Error('getter'); }, ownKeys: () => { throw new Error('ownKeys'); } });
  const halfThrowing = new Proxy({ ok: 1, bad: 2 } as Record<string, number>, { get: (t, k) => { if (k === 'bad') throw new Error('bad'); return t[k as string]; } });
  return [
    undefined, null, NaN, Infinity, -Infinity, -0, 1e308, -1e308, 0, 42, 3.14, true, false,
    '', ' ', 'add_to_cart', 'page_view', 'x'.repeat(1_000_000), '\uD800', '\uDFFF', '\u0000\u0001', '</script><script>alert(1)</script>',
    '__proto__', 'constructor', 'toString', '😀'.repeat(100), Symbol('s'), 10n, () => 1, [], [1, 2, 3], {}, cyclic, throwing, halfThrowing,
    { price: NaN, qty: Infinity, name: 'x'.repeat(5000), nested: { deep: [1] } }, Object.create(null), new Date(), /re/g,
    String.fromCharCode(Math.floor(random() * 65536)),
  ];
}

let tracker: Tracker | undefined;
afterEach(() => {
  tracker?.destroy();
  tracker = undefined;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  localStorage.clear();
  document.body.innerHTML = '';
});

const storedBytes = async (): Promise<number> => {
  const record = await readStoredRecord();
  return record === undefined ? 0 : JSON.stringify(record).length;
};

describe.each(SEEDS)('fuzz (seed %i)', (seed) => {
  it(`survives ${ITERATIONS} random calls and events`, async () => {
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const bodies: string[] = [];
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      bodies.push(String(init.body));
      return Promise.resolve(new Response(null, { status: pick([204, 204, 500, 429, 400, 0 === 0 ? 503 : 204]) }));
    });
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    document.body.innerHTML = `<form action="/cart/add"><input type="email"><button type="submit">Add to cart</button></form>
      <a href="/checkout">Checkout</a><a href="/x.pdf">PDF</a><button data-leadscore-event="demo">Demo</button><p>add to cart text</p>`;
    const configs: Record<string, unknown>[] = [
      { threshold: 20, stages: 'mql:20,hot:60' },
      { threshold: pick(hostileValues(random)), halfLifeDays: pick(hostileValues(random)) },
      { rules: [{ id: 'r', signal: 'x', points: pick([1e6, -1e6, 5]) }, pick(hostileValues(random))] },
      { endpoint: pick(['https://collect.example/c', 'javascript:x', '', 'http://[', '/c']) },
    ];
    tracker = createTracker({ allowAutomation: true, endpoint: 'https://collect.example/c', threshold: 20, ...pick(configs) });
    const values = hostileValues(random);
    const names = ['add_to_cart', 'view_item', 'page_view', 'begin_checkout', 'x', 'repeat_visit', 'engaged_time', ...values.filter((v) => typeof v === 'string')];
    const events = ['click', 'submit', 'pagehide', 'visibilitychange', 'online', 'pageshow', 'popstate', 'keydown', 'scroll'];
    const targets = () => [document, window, ...Array.from(document.querySelectorAll('*'))];
    for (let i = 0; i < ITERATIONS; i++) {
      const t = tracker;
      const action = random();
      if (action < 0.45) t.track(pick(names) as string, pick(values) as Record<string, unknown>);
      else if (action < 0.5) t.identify(pick(values) as Record<string, unknown>);
      else if (action < 0.55) t.on(pick(['signal', 'score', 'qualified', 'x', pick(values)]) as 'signal', pick([() => { throw new Error('host'); }, () => undefined, pick(values)]) as () => void);
      else if (action < 0.552) t.consent(pick([true, true, false, pick(values)]) as boolean);
      else if (action < 0.85) {
        const target = pick(targets());
        const type = pick(events);
        target.dispatchEvent(type === 'submit' ? new SubmitEvent('submit', { bubbles: true, cancelable: true }) : new Event(type, { bubbles: true, cancelable: true }));
      } else if (action < 0.9) history.pushState(null, '', pick(['/a', '/cart', '/pricing', '/?gclid=1', '/p/' + i]));
      else if (action < 0.95) await t.flush();
      else (window as unknown as { dataLayer: unknown[] }).dataLayer = [pick([{ event: 'add_to_cart' }, pick(values)])];
    }
    await tracker.flush();
    const state = await tracker.getState();
    expect(Number.isFinite(state.score)).toBe(true);
    expect(state.score).toBeGreaterThanOrEqual(0);
    expect(await storedBytes()).toBeLessThan(MAX_RECORD_BYTES);
    if (process.env.FUZZ_VERBOSE) console.log(seed, Object.values(state.signals).reduce((a, b) => a + b, 0), "signals", bodies.length, "beacons", await storedBytes(), "bytes");
    for (const body of bodies) {
      const parsed = parseBeacon(body);
      expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    }
    history.replaceState(null, '', '/');
  }, 120_000);
});

describe('fuzz with a polluted Object.prototype', () => {
  it('rules with match keep counting and nothing throws when an old library added enumerable prototype properties', async () => {
    const random = prng(7);
    Object.defineProperty(Object.prototype, 'polluted', { value: 'x', enumerable: true, configurable: true, writable: true });
    try {
      tracker = createTracker({ allowAutomation: true, defaultRules: false, rules: [{ id: 'big', signal: 'buy', points: 1, match: { price: { gte: 50 } } }] });
      let expected = 0;
      for (let i = 0; i < 300; i++) {
        const price = Math.floor(random() * 100);
        if (price >= 50) expected++;
        tracker.track('buy', { price, polluted: random() < 0.5 ? 'y' : price });
      }
      const state = await tracker.getState();
      expect(state.rules.big?.count).toBe(expected);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
  });
});
