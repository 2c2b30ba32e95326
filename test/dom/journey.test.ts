import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type Tracker } from '../../src/index';
import type { BeaconV2 } from '../../src/transport/payload';
import { pageErrors } from './setup';
import { CLAIM_TTL_MS } from '../../src/transport/outbox';

const ENDPOINT = 'https://collect.example/leads';
let bodies: BeaconV2[] = [];
const trackers: Tracker[] = [];

function make(options: Record<string, unknown> = {}): Tracker {
  const tracker = createTracker({ allowAutomation: true, endpoint: ENDPOINT, stages: 'mql:30,hot:100', ...options }, { capture: false });
  trackers.push(tracker);
  return tracker;
}
/** Two cart adds: 40 points, over the test threshold of 30. */
function qualify(tracker: Tracker): void {
  tracker.track('add_to_cart', { item_id: 'mug', name: 'Blue mug', price: 24, currency: 'EUR' });
  tracker.track('add_to_cart', { item_id: 'tea', price: 8 });
}
/** Every tracker's writes and deliveries, until the collector heard everything. */
async function settle(...tabs: Tracker[]): Promise<void> {
  for (let round = 0; round < 3; round++) await Promise.all(tabs.map((tab) => tab.flush()));
}
const types = () => bodies.map((body) => body.type);
const ids = () => [...new Set(bodies.map((body) => body.id))];

beforeEach(() => {
  bodies = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(String(init.body)));
      return new Response(null, { status: 204 });
    }),
  );
});
afterEach(() => {
  for (const tracker of trackers.splice(0)) tracker.destroy();
  vi.unstubAllGlobals();
  vi.useRealTimers();
  vi.restoreAllMocks();
  localStorage.clear();
  sessionStorage.clear();
  delete (window as { dataLayer?: unknown }).dataLayer;
});

describe('lead events after qualification', () => {
  it('tells an identity given in two tabs once, with the cart, and a second email as n + 1', async () => {
    const a = make();
    const b = make();
    qualify(a);
    await settle(a, b);
    expect(types()).toEqual(['qualified']);
    a.identify({ email: 'ada@example.com' });
    b.identify({ email: 'ada@example.com' });
    await settle(a, b);
    const identified = bodies.filter((body) => body.type === 'identified');
    expect(new Set(identified.map((body) => body.id)).size).toBe(1);
    expect(identified[0]).toMatchObject({
      v: 2,
      id: `${identified[0]!.visitor}.identified.1`,
      stage: 'mql',
      traits: { email: 'ada@example.com' },
      interest: { cart: { value: 32, currency: 'EUR' }, items: [{ item_id: 'tea' }, { item_id: 'mug', name: 'Blue mug', in_cart: true }] },
    });
    b.identify({ email: 'grace@example.com' });
    await settle(a, b);
    expect(ids().filter((id) => id.includes('.identified.')).map((id) => id.split('.').pop())).toEqual(['1', '2']);
  });

  it('tells a purchase once per transaction, from any tab, with its order', async () => {
    const a = make({ updates: 'purchased' });
    const b = make({ updates: 'purchased' });
    qualify(a);
    await settle(a, b);
    a.track('purchase', { transaction_id: 'T-1', value: 48, currency: 'EUR' });
    b.track('purchase', { transaction_id: 'T-1', value: 48, currency: 'EUR' });
    await settle(a, b);
    a.track('purchase', { transaction_id: 'T-2', value: 9.5, currency: 'EUR' });
    await settle(a, b);
    const purchases = bodies.filter((body) => body.type === 'purchased');
    expect([...new Set(purchases.map((body) => body.id))].map((id) => id.split('.').pop())).toEqual(['T-1', 'T-2']);
    expect(purchases[0]!.order).toEqual({ id: 'T-1', value: 48, currency: 'EUR' });
  });

  it('tells a later stage, and a risen score once a session', async () => {
    const tracker = make({ updateMinPoints: 15, stages: 'mql:25,hot:95', defaultRules: false, rules: [{ id: 'x', signal: 'x', points: 10 }] });
    const track = (times: number) => Array.from({ length: times }, () => tracker.track('x'));
    track(3);
    await settle(tracker);
    expect(types()).toEqual(['qualified']);
    // +10: under the minimum rise.
    track(1);
    await settle(tracker);
    expect(types()).toEqual(['qualified']);
    track(1);
    await settle(tracker);
    expect(types()).toEqual(['qualified', 'score']);
    expect(bodies[1]!.score).toBeGreaterThanOrEqual(bodies[0]!.score + 15);
    expect(bodies[1]!.id).toBe(`${bodies[1]!.visitor}.score.1`);
    track(5);
    await settle(tracker);
    // Past 95: the hot stage, and no second score event this session.
    expect(types()).toEqual(['qualified', 'score', 'stage']);
    expect(bodies[2]).toMatchObject({ stage: 'hot', id: `${bodies[2]!.visitor}.hot.1` });
  });

  it('sends only the qualification with data-updates="none"', async () => {
    const tracker = make({ updates: 'none' });
    qualify(tracker);
    await settle(tracker);
    tracker.identify({ email: 'ada@example.com' });
    tracker.track('purchase', { transaction_id: 'T-1' });
    for (const item of ['d', 'e', 'f', 'g']) tracker.track('add_to_cart', { item_id: item });
    await settle(tracker);
    expect(types()).toEqual(['qualified']);
  });

  it('keeps an identify() the page had no time to store: the next page tells it', async () => {
    const first = make();
    qualify(first);
    await settle(first);
    first.identify({ email: 'ada@example.com' });
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    first.destroy();
    expect(localStorage.getItem('leadscore:journal')).toContain('ada@example.com');
    // Whichever stores it (the closing page's last write, or the next page's replay of the
    // journal), the event is decided once; a claim of the closed page lapses after CLAIM_TTL_MS.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + CLAIM_TTL_MS + 1000);
    const next = make();
    await settle(next);
    expect(types()).toEqual(['qualified', 'identified']);
    expect(bodies[1]!.traits).toEqual({ email: 'ada@example.com' });
    expect(localStorage.getItem('leadscore:journal')).toBeNull();
  });

  it('waits for consent like the qualification does', async () => {
    const tracker = make({ consent: 'required' });
    qualify(tracker);
    tracker.identify({ email: 'ada@example.com' });
    await settle(tracker);
    expect(bodies).toEqual([]);
  });
});

describe('the page hears of lead events', () => {
  it('pushes to the dataLayer and dispatches a DOM event, with no personal data, in the tab where it happened', async () => {
    const layer: unknown[] = [];
    (window as { dataLayer?: unknown }).dataLayer = layer;
    const heard: { type: string; detail: unknown }[] = [];
    const listener = (event: Event) => heard.push({ type: event.type, detail: (event as CustomEvent).detail });
    for (const type of ['leadscore:qualified', 'leadscore:identified']) document.addEventListener(type, listener);
    try {
      const a = make();
      const b = make();
      a.identify({ email: 'ada@example.com' });
      qualify(a);
      await settle(a, b);
      b.identify({ email: 'grace@example.com' });
      await settle(a, b);
      expect([...layer]).toEqual([
        { event: 'leadscore_qualified', leadscore: { type: 'qualified', stage: 'mql', score: 40, n: 1, rules: ['add_to_cart'] } },
        { event: 'leadscore_identified', leadscore: { type: 'identified', stage: 'mql', score: 40, n: 1, rules: ['add_to_cart'] } },
      ]);
      expect(JSON.stringify(layer)).not.toMatch(/example\.com|visitor/);
      expect(heard.map((event) => event.type)).toEqual(['leadscore:qualified', 'leadscore:identified']);
      expect(heard[0]!.detail).toEqual((layer[0] as { leadscore: unknown }).leadscore);
    } finally {
      for (const type of ['leadscore:qualified', 'leadscore:identified']) document.removeEventListener(type, listener);
    }
  });

  it('names the three rules that gave the most points', async () => {
    const layer: { leadscore?: { rules: string[] } }[] = [];
    (window as { dataLayer?: unknown }).dataLayer = layer;
    const tracker = make({
      defaultRules: false,
      rules: [
        { id: 'small', signal: 's', points: 1 },
        { id: 'big', signal: 'b', points: 20 },
        { id: 'mid', signal: 'm', points: 5 },
        { id: 'huge', signal: 'h', points: 30 },
      ],
    });
    for (const name of ['s', 'b', 'm', 'h']) tracker.track(name);
    await settle(tracker);
    expect(layer[0]!.leadscore!.rules).toEqual(['huge', 'big', 'mid']);
  });

  it('keeps the dataLayer out of it with data-datalayer="false", and still dispatches', async () => {
    const layer: unknown[] = [];
    (window as { dataLayer?: unknown }).dataLayer = layer;
    let dispatched = 0;
    const listener = () => void dispatched++;
    document.addEventListener('leadscore:qualified', listener);
    try {
      const tracker = make({ dataLayer: 'false' });
      qualify(tracker);
      await settle(tracker);
      expect([...layer]).toEqual([]);
      expect(dispatched).toBe(1);
    } finally {
      document.removeEventListener('leadscore:qualified', listener);
    }
  });

  it('tells the page nothing without consent or under Global Privacy Control', async () => {
    const layer: unknown[] = [];
    (window as { dataLayer?: unknown }).dataLayer = layer;
    let dispatched = 0;
    const listener = () => void dispatched++;
    document.addEventListener('leadscore:qualified', listener);
    try {
      const waiting = make({ consent: 'required' });
      qualify(waiting);
      await settle(waiting);
      vi.stubGlobal('navigator', Object.assign(Object.create(navigator), { globalPrivacyControl: true }));
      const gpc = make();
      qualify(gpc);
      await settle(gpc);
      expect([...layer]).toEqual([]);
      expect(dispatched).toBe(0);
    } finally {
      document.removeEventListener('leadscore:qualified', listener);
    }
  });

  it('survives a listener that throws and a dataLayer whose push throws', async () => {
    (window as { dataLayer?: unknown }).dataLayer = Object.assign([], {
      push() {
        throw new Error('a broken tag manager');
      },
    });
    const listener = () => {
      throw new Error('a broken listener');
    };
    document.addEventListener('leadscore:qualified', listener);
    try {
      const tracker = make();
      qualify(tracker);
      await settle(tracker);
      expect(types()).toEqual(['qualified']);
      // A browser reports the page's own listener's error as for any event (happy-dom logs it);
      // nothing of ours reaches the page (test/dom/setup.ts fails the test otherwise).
      pageErrors.splice(0).forEach((error) => expect(String(error)).toBe('Error: a broken listener'));
    } finally {
      document.removeEventListener('leadscore:qualified', listener);
    }
  });
});
