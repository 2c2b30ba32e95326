import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type Tracker } from '../../src/index';
import type { QualifiedEvent } from '../../src/tracker';
import { CLAIM_TTL_MS } from '../../src/transport/outbox';
import { readStoredRecord } from '../helpers/idb';

const ENDPOINT = 'https://collect.example/leads';
type Call = { url: string; body: string; init: RequestInit };
let calls: Call[] = [];
let respond: (call: Call) => Promise<Response> = async () => new Response(null, { status: 204 });
const trackers: Tracker[] = [];

function make(options: Record<string, unknown> = {}): Tracker {
  const tracker = createTracker({ allowAutomation: true, endpoint: ENDPOINT, threshold: 30, ...options }, { capture: false });
  trackers.push(tracker);
  return tracker;
}
/** Two cart adds: 40 points, over the test threshold of 30. */
function qualify(tracker: Tracker): void {
  tracker.track('add_to_cart', { item_id: 'a' });
  tracker.track('add_to_cart', { item_id: 'b' });
}
const bodies = () => calls.map((call) => JSON.parse(call.body));
const stored = () => readStoredRecord() as Promise<{ queue: { id: string; attempts: number; next: number; claim: string }[] } | undefined>;
/** The tracker's first write waits 1 s after its start (FIRST_WRITE_MS in src/tracker.ts), then the beacon goes. */
const AFTER_FIRST_WRITE_MS = 1200;
/** With fake timers: advance `ms` while letting fake-indexeddb (which runs on real setImmediate) progress. */
async function advance(ms: number, step = 100): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += step) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(Math.min(step, ms - elapsed));
  }
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
const until = async (condition: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

beforeEach(() => {
  calls = [];
  respond = async () => new Response(null, { status: 204 });
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string, init: RequestInit) => {
      const call = { url: String(url), body: String(init.body), init };
      calls.push(call);
      return respond(call);
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
});

describe('qualification beacon', () => {
  it('sends one text/plain beacon with the v2 payload when the visitor qualifies, and clears the outbox on 2xx', async () => {
    const tracker = make({ site: 'mug-shop' });
    tracker.identify({ email: 'a@example.com' });
    qualify(tracker);
    await tracker.flush();
    await until(() => calls.length === 1);
    await tracker.flush();
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.url).toBe(ENDPOINT);
    expect(call!.init).toMatchObject({ method: 'POST', credentials: 'omit', keepalive: true });
    expect(call!.init.headers).toBeUndefined();
    expect(typeof call!.init.body).toBe('string');
    const body = bodies()[0];
    const state = await tracker.getState();
    expect(body).toMatchObject({
      v: 2,
      type: 'qualified',
      id: `${state.visitorId}.mql.1`,
      site: 'mug-shop',
      visitor: state.visitorId,
      stage: 'mql',
      threshold: 30,
      score: 40,
      n: 1,
      rules: { add_to_cart: { count: 2, points: 40 } },
      signals: { add_to_cart: 2, session_start: 1 },
      visits: 1,
      traits: { email: 'a@example.com' },
      page: 'http://localhost:3000/',
      lib: expect.stringMatching(/^leadscore@\d/),
    });
    expect(body.qualifiedAt).toBe(state.qualified.mql);
    expect(body.at).toBe(body.qualifiedAt);
    expect(body.interest).toEqual({
      items: [
        { item_id: 'b', views: 0, adds: 1, in_cart: true },
        { item_id: 'a', views: 0, adds: 1, in_cart: true },
      ],
      categories: [],
      searches: 0,
    });
    expect(body.sentAt).toBeGreaterThanOrEqual(body.qualifiedAt);
    expect(body.offset).toBeGreaterThanOrEqual(0);
    expect(body.attribution.landing).toBe('http://localhost:3000/');
    expect((await stored())!.queue).toEqual([]);
  });

  it('attributes a new visitor to the page the tracker started on, not the one of the first write', async () => {
    history.replaceState(null, '', '/landing?utm_source=news&secret=1#top');
    try {
      const tracker = make();
      history.pushState(null, '', '/cart');
      qualify(tracker);
      await tracker.flush();
      await until(() => calls.length === 1);
      const body = bodies()[0];
      expect(body.attribution).toEqual({ landing: 'http://localhost:3000/landing?utm_source=news', utm_source: 'news' });
      expect(body.page).toBe('http://localhost:3000/cart');
    } finally {
      history.replaceState(null, '', '/');
    }
  });

  it('fires qualified with the beacon', async () => {
    const tracker = make();
    const events: QualifiedEvent[] = [];
    tracker.on('qualified', (event) => events.push(event));
    qualify(tracker);
    await tracker.flush();
    expect(events).toHaveLength(1);
    expect(events[0]!.beacon.id).toBe(events[0]!.id);
    expect(events[0]!.beacon.stage).toBe('mql');
  });

  it('sends nothing without an endpoint, but still reports the qualification', async () => {
    const tracker = createTracker({ allowAutomation: true, threshold: 30 }, { capture: false });
    trackers.push(tracker);
    const events: unknown[] = [];
    tracker.on('qualified', (event) => events.push(event));
    qualify(tracker);
    await tracker.flush();
    expect(events).toHaveLength(1);
    expect(calls).toEqual([]);
  });

  it('two and ten tabs crossing together send one beacon', async () => {
    for (const count of [2, 10]) {
      globalThis.indexedDB = new (await import('fake-indexeddb')).IDBFactory();
      calls = [];
      const tabs = Array.from({ length: count }, () => make());
      tabs.forEach(qualify);
      await Promise.all(tabs.map((tab) => tab.flush()));
      await Promise.all(tabs.map((tab) => tab.flush()));
      expect(calls).toHaveLength(1);
      tabs.forEach((tab) => tab.destroy());
    }
  });

  it('tells every open tab about the qualification', async () => {
    const a = make();
    const b = make();
    b.track('view_item');
    await b.flush();
    const seenByB: string[] = [];
    b.on('qualified', (event) => seenByB.push(event.id));
    qualify(a);
    await a.flush();
    await until(() => seenByB.length === 1);
    expect(seenByB[0]).toMatch(/\.mql\.1$/);
  });

  it('retries 500s with growing backoff and stops at the first 2xx', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const statuses = [500, 500, 500, 204];
    respond = async () => new Response(null, { status: statuses.shift()! });
    const tracker = make();
    qualify(tracker);
    const times: number[] = [];
    for (let i = 0; i < 300 && calls.length < 4; i++) {
      const before = calls.length;
      await advance(200);
      if (calls.length > before) times.push(Date.now());
    }
    expect(calls).toHaveLength(4);
    expect(new Set(bodies().map((body) => body.id)).size).toBe(1);
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    // Base 2 s doubling with ±50 % jitter: 1-3 s, 2-6 s, 4-12 s.
    expect(gaps[0]!).toBeGreaterThanOrEqual(1000);
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
    await advance(600_000, 10_000);
    expect(calls).toHaveLength(4);
    expect((await stored())!.queue).toEqual([]);
  });

  it('waits for Retry-After on 429', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const statuses = [429, 204];
    respond = async () => new Response(null, { status: statuses.shift()!, headers: { 'Retry-After': '120' } });
    const tracker = make();
    qualify(tracker);
    await advance(AFTER_FIRST_WRITE_MS);
    expect(calls).toHaveLength(1);
    await advance(118_000, 2000);
    expect(calls).toHaveLength(1);
    await advance(4000);
    expect(calls).toHaveLength(2);
  });

  it.each([400, 413, 422])('drops the beacon on %s without retrying, now or on the next load', async (status) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    respond = async () => new Response(null, { status });
    const tracker = make();
    qualify(tracker);
    await advance(AFTER_FIRST_WRITE_MS);
    await advance(3_600_000, 60_000);
    expect(calls).toHaveLength(1);
    tracker.destroy();
    const next = make({ updates: 'none' });
    next.track('view_item');
    await advance(60_000, 1000);
    expect(calls).toHaveLength(1);
    expect((await stored())!.queue).toEqual([]);
  });

  it('gives up after the configured number of attempts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    respond = async () => new Response(null, { status: 500 });
    const tracker = make({ retryMaxAttempts: 2 });
    qualify(tracker);
    await advance(3_600_000, 2000);
    expect(calls).toHaveLength(2);
    expect((await stored())!.queue).toEqual([]);
  });

  it('takes over the claim of a tab that died mid-send and re-sends the same id', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    respond = () => new Promise<Response>(() => undefined); // A's request never answers
    const a = make();
    qualify(a);
    await advance(AFTER_FIRST_WRITE_MS);
    expect(calls).toHaveLength(1);
    const firstId = bodies()[0].id;
    a.destroy(); // the tab is closed mid-send
    respond = async () => new Response(null, { status: 204 });
    const b = make();
    b.track('view_item');
    await advance(1000);
    expect(calls).toHaveLength(1); // A's claim is still fresh
    await advance(CLAIM_TTL_MS + 2000, 1000);
    expect(calls).toHaveLength(2);
    expect(bodies()[1].id).toBe(firstId);
    expect((await stored())!.queue).toEqual([]);
  });

  it('a page that is still sending renews its claim: no other page sends the beacon meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let answer: (response: Response) => void = () => undefined;
    respond = () => new Promise<Response>((resolve) => (answer = resolve)); // A's request is slow
    const a = make();
    qualify(a);
    await advance(AFTER_FIRST_WRITE_MS);
    expect(calls).toHaveLength(1);
    const b = make(); // another tab of the same visitor
    b.track('view_item');
    await advance(CLAIM_TTL_MS + 3000, 500); // past the TTL, within the send's 10 s deadline
    expect(calls).toHaveLength(1); // A is alive and renewing: B leaves its claim alone
    answer(new Response(null, { status: 204 }));
    await advance(2000);
    expect((await stored())!.queue).toEqual([]);
    await advance(CLAIM_TTL_MS * 2, 1000);
    expect(calls).toHaveLength(1);
    a.destroy();
    b.destroy();
  });

  it('sends nothing more as the page goes while its keepalive fetch is in flight: one send per page per entry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    respond = () => new Promise<Response>(() => undefined);
    const beacon = vi.spyOn(navigator, 'sendBeacon').mockImplementation(() => true);
    const tracker = make();
    qualify(tracker);
    await advance(AFTER_FIRST_WRITE_MS);
    expect(calls).toHaveLength(1);
    window.dispatchEvent(new Event('pagehide'));
    expect(beacon).not.toHaveBeenCalled();
    expect(calls).toHaveLength(1);
    tracker.destroy();
  });

  it('uses sendBeacon for a due entry when the page is hidden, then the next load confirms with the same id', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const beacons: { url: string; body: string }[] = [];
    vi.spyOn(navigator, 'sendBeacon').mockImplementation((url, body) => (beacons.push({ url: String(url), body: String(body) }), true));
    // Offline: the entry waits for the online event, due and claimed by this page.
    Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false });
    const tracker = make();
    qualify(tracker);
    await advance(AFTER_FIRST_WRITE_MS);
    expect(calls).toHaveLength(0);
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    try {
      document.dispatchEvent(new Event('visibilitychange'));
      window.dispatchEvent(new Event('pagehide'));
    } finally {
      delete (document as { visibilityState?: string }).visibilityState;
      delete (navigator as { onLine?: boolean }).onLine;
    }
    expect(beacons).toHaveLength(1); // once per page, however many hide events
    expect(beacons[0]!.url).toBe(ENDPOINT);
    const id = JSON.parse(beacons[0]!.body).id;
    expect((await stored())!.queue.map((entry) => entry.id)).toEqual([id]);
    tracker.destroy();
    respond = async () => new Response(null, { status: 204 });
    calls = [];
    const next = make(); // the next page load takes over once the closed page's claim expires
    next.track('page_view');
    await advance(CLAIM_TTL_MS + 2000, 1000);
    expect(calls).toHaveLength(1);
    expect(bodies()[0].id).toBe(id);
    expect((await stored())!.queue).toEqual([]);
  });

  it.each([
    ['refuses (over the shared budget)', () => false],
    ['throws', () => { throw new TypeError('Illegal invocation'); }],
  ])('falls back to a keepalive fetch when sendBeacon %s', async (_, beacon) => {
    respond = () => new Promise<Response>(() => undefined);
    vi.spyOn(navigator, 'sendBeacon').mockImplementation(beacon as () => boolean);
    const tracker = make();
    qualify(tracker);
    await tracker.getState();
    window.dispatchEvent(new Event('pagehide'));
    const keepalive = calls.filter((call) => call.init.keepalive === true);
    expect(keepalive).toHaveLength(1);
    expect(JSON.parse(keepalive[0]!.body).stage).toBe('mql');
  });

  it('waits while offline and sends on the online event', async () => {
    let online = false;
    Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online });
    try {
      const tracker = make();
      qualify(tracker);
      await tracker.flush();
      expect(calls).toEqual([]);
      online = true;
      window.dispatchEvent(new Event('online'));
      await until(() => calls.length === 1);
    } finally {
      delete (navigator as { onLine?: boolean }).onLine;
    }
  });

  it('keeps delivering from memory when IndexedDB writes fail', async () => {
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    const tracker = make();
    qualify(tracker);
    await tracker.flush();
    await until(() => calls.length === 1);
    await tracker.flush();
    expect(calls).toHaveLength(1);
    expect((await tracker.getState()).storage).toBe('memory');
  });

  it('survives a page with Array.prototype.toJSON (Prototype.js) and leaves it in place', async () => {
    const toJSON = function (this: unknown[]) {
      return '"[' + this.join(',') + ']"';
    };
    (Array.prototype as { toJSON?: unknown }).toJSON = toJSON;
    try {
      const tracker = make();
      qualify(tracker);
      await tracker.flush();
      await until(() => calls.length === 1);
      const body = bodies()[0];
      expect(body.rules.add_to_cart).toEqual({ count: 2, points: 40 });
      expect((Array.prototype as { toJSON?: unknown }).toJSON).toBe(toJSON);
    } finally {
      delete (Array.prototype as { toJSON?: unknown }).toJSON;
    }
  });

  it('survives a page fetch that throws or never settles: retried later, never an error', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.stubGlobal('fetch', () => {
      throw new TypeError('blocked by page wrapper');
    });
    const tracker = make();
    qualify(tracker);
    await advance(AFTER_FIRST_WRITE_MS);
    expect((await stored())!.queue[0]).toMatchObject({ attempts: 1, claim: '' });
  });

  it('sends nothing before consent in required mode', async () => {
    const tracker = make({ consent: 'required' });
    qualify(tracker);
    await tracker.flush();
    expect(calls).toEqual([]);
    tracker.consent(true);
    await tracker.flush();
    await until(() => calls.length === 1);
  });

  it('sends nothing with a fatal configuration problem', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const tracker = make({ endpoint: 'javascript:alert(1)' });
    qualify(tracker);
    await tracker.flush();
    expect(calls).toEqual([]);
  });
});
