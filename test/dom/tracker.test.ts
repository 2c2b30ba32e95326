import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type Tracker } from '../../src/index';
import { MAX_BATCH, OPT_OUT_KEY } from '../../src/tracker';
import { DB_NAME, VISITOR_KEY } from '../../src/store/visitor';
import { readStoredRecord } from '../helpers/idb';

const trackers: Tracker[] = [];
function make(options: Parameters<typeof createTracker>[0] = {}, deps: Parameters<typeof createTracker>[1] = {}): Tracker {
  const tracker = createTracker({ allowAutomation: true, ...options }, { capture: false, ...deps });
  trackers.push(tracker);
  return tracker;
}
afterEach(() => {
  for (const tracker of trackers.splice(0)) tracker.destroy();
  localStorage.clear();
  vi.restoreAllMocks();
});


/** How many readwrite transactions (writes) a spy on IDBDatabase.prototype.transaction saw. */
const writesSeen = (spy: { mock: { calls: unknown[][] } }): number => spy.mock.calls.filter(([, mode]) => mode === 'readwrite').length;

/** A tracker whose record exists already, and a spy on the transactions that follow. */
async function warmTracker() {
  const tracker = make();
  tracker.track('warm_up');
  await tracker.flush();
  return { tracker, spy: vi.spyOn(IDBDatabase.prototype, 'transaction') };
}

describe('public API', () => {
  it('records signals, counts them by name and explains the score by rule', async () => {
    const tracker = make();
    tracker.track('add_to_cart', { item_id: 'mug', price: 12.5 });
    tracker.track('add_to_cart');
    tracker.track('custom_thing');
    const state = await tracker.getState();
    expect(state.signals).toMatchObject({ add_to_cart: 2, custom_thing: 1, session_start: 1 });
    expect(state.rules.add_to_cart).toEqual({ count: 2, points: 40 });
    expect(state.score).toBe(40);
    expect(state.visits).toBe(1);
    expect(state.storage).toBe('idb');
    expect(state.visitorId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('persists the record in its own IndexedDB database', async () => {
    const tracker = make();
    tracker.track('view_item');
    await tracker.flush();
    const stored = (await readStoredRecord()) as { id: string; signals: Record<string, number> };
    expect(stored.signals.view_item).toBe(1);
    expect(stored.id).toBe((await tracker.getState()).visitorId);
  });

  it('restores the state in a new tracker (a reload)', async () => {
    const first = make();
    first.track('view_item');
    const before = await first.getState();
    first.destroy();
    const second = make();
    const after = await second.getState();
    expect(after.visitorId).toBe(before.visitorId);
    expect(after.signals.view_item).toBe(1);
  });

  it('coalesces a burst of signals into one transaction', async () => {
    const { tracker, spy } = await warmTracker();
    for (let i = 0; i < 250; i++) tracker.track('custom', { i });
    await tracker.flush();
    expect(spy).toHaveBeenCalledTimes(1);
    expect((await tracker.getState()).signals.custom).toBe(250);
  });

  it('makes its first write, and its first localStorage access, 1 s after the start (not while the page loads)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const storage = vi.spyOn(localStorage, 'getItem');
      const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
      const tracker = make();
      tracker.track('page_view');
      // Real macrotasks in between: the start-up steps (MessageChannel tasks) all run meanwhile.
      for (let elapsed = 0; elapsed < 900; elapsed += 100) {
        for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
        await vi.advanceTimersByTimeAsync(100);
      }
      expect(storage).not.toHaveBeenCalled();
      expect(writesSeen(spy)).toBe(0);
      for (let elapsed = 900; elapsed < 3000 && !writesSeen(spy); elapsed += 100) {
        for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
        await vi.advanceTimersByTimeAsync(100);
      }
      expect(storage).toHaveBeenCalled();
      expect(writesSeen(spy)).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('starts at most one transaction per 250 ms while signals keep coming, losing none', async () => {
    const transaction = IDBDatabase.prototype.transaction;
    const { tracker, spy } = await warmTracker();
    const started = performance.now();
    let sent = 0;
    let streaming = true;
    // A signal also arrives while each write is in flight (as on a busy page, where a transaction
    // takes milliseconds): it must wait for the interval, not chain the next write at once.
    spy.mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      if (streaming) tracker.track('stream', { i: sent++ });
      return transaction.apply(this, args);
    });
    while (performance.now() - started < 700) {
      tracker.track('stream', { i: sent++ });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    streaming = false;
    // 700 ms of signals: 14 writes at the 50 ms delay alone, and back-to-back writes if one in flight
    // chained the next; at most 4 with the interval.
    const writes = writesSeen(spy);
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(4);
    await tracker.flush();
    expect((await tracker.getState()).signals.stream).toBe(sent);
  });

  it('flush() writes once when the write finds no beacon to send (no second transaction for delivery)', async () => {
    const tracker = make({ endpoint: 'https://collect.example/leads' });
    tracker.track('warm_up');
    await tracker.flush();
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
    tracker.track('custom');
    await tracker.flush();
    expect(writesSeen(spy)).toBe(1);
    // With nothing new to write, flush() still looks for due beacons (another tab's, a retry).
    await tracker.flush();
    expect(writesSeen(spy)).toBe(2);
  });

  it('writes a huge burst in chunks of MAX_BATCH (500) signals, yielding between them, losing none', async () => {
    expect(MAX_BATCH).toBe(500);
    const { tracker, spy } = await warmTracker();
    for (let i = 0; i < 2100; i++) tracker.track('custom', { i });
    await tracker.flush();
    expect(spy).toHaveBeenCalledTimes(5);
    expect((await tracker.getState()).signals.custom).toBe(2100);
  });

  it('attaches identify() traits to the visitor', async () => {
    const tracker = make();
    tracker.identify({ email: 'a@example.com', plan: 'pro', nested: { no: 1 } });
    const state = await tracker.getState();
    expect(state.traits).toEqual({ email: 'a@example.com', plan: 'pro' });
  });

  it('emits signal, score and qualified events, and unsubscribes', async () => {
    const tracker = make({ threshold: 30 });
    const signals: string[] = [];
    const scores: number[] = [];
    const qualified: string[] = [];
    const off = tracker.on('signal', (event) => signals.push(event.name));
    tracker.on('score', (event) => scores.push(event.score));
    tracker.on('qualified', (event) => qualified.push(event.stage));
    tracker.track('add_to_cart');
    await tracker.flush();
    off();
    tracker.track('add_to_cart');
    await tracker.flush();
    expect(signals).toEqual(['session_start', 'add_to_cart']);
    expect(scores).toEqual([20, 40]);
    expect(qualified).toEqual(['mql']);
    const state = await tracker.getState();
    expect(state.stage).toBe('mql');
    expect(Object.keys(state.qualified)).toEqual(['mql']);
  });

  it('isolates a throwing subscriber from the tracker and the page', async () => {
    const tracker = make();
    tracker.on('signal', () => {
      throw new Error('host bug');
    });
    const seen: string[] = [];
    tracker.on('signal', (event) => seen.push(event.name));
    tracker.track('x');
    await tracker.flush();
    expect(seen).toContain('x');
  });

  it('never throws on bad arguments', async () => {
    const tracker = make();
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    const bad: unknown[] = [undefined, null, 42, {}, [], Symbol('s'), 10n, '', ' ', 'x'.repeat(10_000), '\uD800', hostile];
    for (const value of bad) {
      expect(() => tracker.track(value as string, value as Record<string, unknown>)).not.toThrow();
      expect(() => tracker.identify(value as Record<string, unknown>)).not.toThrow();
      expect(() => tracker.on(value as 'signal', value as () => void)).not.toThrow();
      expect(() => tracker.consent(value as boolean)).not.toThrow();
    }
    const state = await tracker.getState();
    expect(Number.isFinite(state.score)).toBe(true);
    expect(Object.keys(state.signals).every((name) => name.length <= 64)).toBe(true);
  });

  it('keeps the props it can read from a Proxy whose getters throw', async () => {
    const tracker = make();
    const events: Record<string, unknown>[] = [];
    tracker.on('signal', (event) => events.push(event.props));
    const props = new Proxy({ good: 1, bad: 2 } as Record<string, number>, {
      get: (target, key) => {
        if (key === 'bad') throw new Error('getter');
        return target[key as string];
      },
    });
    tracker.track('x', props);
    await tracker.flush();
    expect(events.at(-1)).toEqual({ good: 1 });
  });

  it('reset() forgets the visitor', async () => {
    const tracker = make();
    tracker.track('add_to_cart');
    const before = await tracker.getState();
    await tracker.reset();
    tracker.track('view_item');
    const after = await tracker.getState();
    expect(after.visitorId).not.toBe(before.visitorId);
    expect(after.signals.add_to_cart).toBeUndefined();
  });

  it('destroy() stops recording', async () => {
    const tracker = make();
    tracker.track('a');
    tracker.destroy();
    tracker.track('b');
    const state = await tracker.getState();
    expect(state.signals.a).toBe(1);
    expect(state.signals.b).toBeUndefined();
  });
});

describe('privacy gates', () => {
  it('does not score automation unless allowed', async () => {
    const tracker = make({ allowAutomation: false });
    tracker.track('add_to_cart');
    expect((await tracker.getState()).signals).toEqual({});
  });

  it('optOut() deletes the data, remembers the choice minimally and stops recording', async () => {
    const tracker = make();
    tracker.track('add_to_cart');
    await tracker.flush();
    tracker.optOut();
    tracker.track('view_item');
    await tracker.flush();
    expect(localStorage.getItem(OPT_OUT_KEY)).toBe('1');
    expect(await readStoredRecord()).toBeUndefined();
    const next = make();
    next.track('view_item');
    expect((await next.getState()).signals).toEqual({});
  });

  it('keeps everything in memory until consent in required mode, then stores', async () => {
    const open = vi.spyOn(indexedDB, 'open');
    const tracker = make({ consent: 'required' });
    tracker.track('view_item');
    const before = await tracker.getState();
    expect(before.storage).toBe('memory');
    expect(before.signals.view_item).toBe(1);
    expect(open).not.toHaveBeenCalled();
    tracker.consent(true);
    tracker.track('add_to_cart');
    const after = await tracker.getState();
    expect(after.storage).toBe('idb');
    expect(after.signals).toMatchObject({ view_item: 1, add_to_cart: 1 });
    expect(((await readStoredRecord()) as { signals: Record<string, number> }).signals.view_item).toBe(1);
  });

  it('deletes the data when consent is revoked', async () => {
    const tracker = make({ consent: 'granted' });
    tracker.track('view_item');
    await tracker.flush();
    tracker.consent(false);
    await tracker.flush();
    expect(await readStoredRecord()).toBeUndefined();
  });

  it('honours Global Privacy Control: memory only', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { configurable: true, get: () => true });
    try {
      const open = vi.spyOn(indexedDB, 'open');
      const tracker = make();
      tracker.track('view_item');
      expect((await tracker.getState()).storage).toBe('memory');
      expect(open).not.toHaveBeenCalled();
    } finally {
      delete (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
    }
  });
});

describe('storage faults', () => {
  it('continues in memory when IndexedDB is missing', async () => {
    const saved = globalThis.indexedDB;
    // @ts-expect-error simulating a browser without IndexedDB
    delete globalThis.indexedDB;
    try {
      const tracker = make();
      tracker.track('add_to_cart');
      const state = await tracker.getState();
      expect(state.storage).toBe('memory');
      expect(state.signals.add_to_cart).toBe(1);
    } finally {
      globalThis.indexedDB = saved;
    }
  });

  it('times out a hanging open and continues in memory without losing signals', async () => {
    vi.spyOn(indexedDB, 'open').mockImplementation(() => ({}) as IDBOpenDBRequest);
    const tracker = createTracker({ allowAutomation: true }, { capture: false });
    trackers.push(tracker);
    tracker.track('view_item');
    tracker.track('add_to_cart');
    const state = await tracker.getState();
    expect(state.storage).toBe('memory');
    expect(state.signals).toMatchObject({ view_item: 1, add_to_cart: 1 });
  }, 10_000);

  it('treats a blocked open as a failure, not a hang', async () => {
    vi.spyOn(indexedDB, 'open').mockImplementation(() => {
      const request = {} as IDBOpenDBRequest;
      setTimeout(() => request.onblocked?.(new Event('blocked') as IDBVersionChangeEvent));
      return request;
    });
    const tracker = make();
    tracker.track('view_item');
    const state = await tracker.getState();
    expect(state.storage).toBe('memory');
    expect(state.signals.view_item).toBe(1);
  });

  it('falls back to memory when open throws or errors', async () => {
    vi.spyOn(indexedDB, 'open').mockImplementation(() => {
      throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');
    });
    const tracker = make();
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('memory');
  });

  it('retries once on a closing connection, then succeeds', async () => {
    const tracker = make();
    tracker.track('a');
    await tracker.flush();
    const original = IDBDatabase.prototype.transaction;
    let failures = 0;
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args) {
      if (failures++ === 0) throw new DOMException('The database connection is closing.', 'InvalidStateError');
      return original.apply(this, args as Parameters<typeof original>);
    });
    tracker.track('b');
    const state = await tracker.getState();
    expect(state.storage).toBe('idb');
    expect(state.signals).toMatchObject({ a: 1, b: 1 });
  });

  it('keeps scoring from memory when writes fail over quota, keeping earlier signals', async () => {
    const tracker = make();
    tracker.track('a');
    await tracker.flush();
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    tracker.track('b');
    const state = await tracker.getState();
    expect(state.storage).toBe('memory');
    expect(state.signals).toMatchObject({ a: 1, b: 1 });
  });

  it('discards a corrupt or foreign-shaped record', async () => {
    for (const garbage of [null, '"[1]"', { version: 1, score: 'NaN' }, { version: 99 }, 'x'.repeat(100_000)]) {
      globalThis.indexedDB = new IDBFactory();
      await new Promise<void>((resolve) => {
        const open = indexedDB.open(DB_NAME, 1);
        open.onupgradeneeded = () => open.result.createObjectStore('kv');
        open.onsuccess = () => {
          const tx = open.result.transaction('kv', 'readwrite');
          tx.objectStore('kv').put(garbage, VISITOR_KEY);
          tx.oncomplete = () => (open.result.close(), resolve());
        };
      });
      const tracker = make();
      tracker.track('view_item');
      const state = await tracker.getState();
      expect(state.signals.view_item).toBe(1);
      expect(state.score).toBe(8);
      tracker.destroy();
    }
  });

  it('deletes a record older than the retention period', async () => {
    let time = Date.UTC(2026, 0, 1);
    const first = make({ retentionDays: 10 }, { now: () => time });
    first.track('add_to_cart');
    const before = await first.getState();
    first.destroy();
    time += 11 * 86_400_000;
    const second = make({ retentionDays: 10 }, { now: () => time });
    second.track('view_item');
    const after = await second.getState();
    expect(after.visitorId).not.toBe(before.visitorId);
    expect(after.signals.add_to_cart).toBeUndefined();
  });

  it('does not use idb-keyval\'s default store, so a host clear() leaves our data alone', async () => {
    const { clear, set } = await import('idb-keyval');
    await set('host', 1);
    const tracker = make();
    tracker.track('view_item');
    await tracker.flush();
    await clear();
    expect((await tracker.getState()).signals.view_item).toBe(1);
  });
});

describe('two tabs on one IndexedDB', () => {
  it('never lose each other\'s signals', async () => {
    const a = make();
    const b = make();
    const work: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      a.track('from_a');
      b.track('from_b');
      if (i % 10 === 0) work.push(a.flush(), b.flush());
    }
    await Promise.all(work);
    await Promise.all([a.flush(), b.flush()]);
    const state = await a.getState();
    expect(state.signals.from_a).toBe(100);
    expect(state.signals.from_b).toBe(100);
    expect((await b.getState()).visitorId).toBe(state.visitorId);
  });

  it('qualify a stage exactly once when both cross together', async () => {
    const trackers = Array.from({ length: 10 }, () => make({ threshold: 20 }));
    const qualified: number[] = [];
    trackers.forEach((tracker, i) => tracker.on('qualified', () => qualified.push(i)));
    for (const tracker of trackers) tracker.track('add_to_cart');
    await Promise.all(trackers.map((tracker) => tracker.flush()));
    expect(qualified).toHaveLength(1);
  });
});

describe('server rendering', () => {
  it('exports have no side effects on import', async () => {
    vi.resetModules();
    const spy = vi.spyOn(window, 'addEventListener');
    await import('../../src/index');
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('journal of signals a page could not commit before it was left', () => {
  it('journals pending signals synchronously on pagehide and replays them once on the next load', async () => {
    const first = make();
    first.track('add_to_cart');
    window.dispatchEvent(new Event('pagehide'));
    // The page is gone before its IndexedDB write commits: simulate by reading the journal now.
    const journal = JSON.parse(localStorage.getItem('leadscore:journal')!);
    expect(journal).toEqual([expect.objectContaining({ name: 'add_to_cart', id: expect.any(String) })]);
    await first.flush();
    first.destroy();
    // The write committed, but the page died before it could clear its journal entry.
    localStorage.setItem('leadscore:journal', JSON.stringify(journal));
    const second = make();
    const state = await second.getState();
    expect(state.signals.add_to_cart).toBe(1);
    expect(localStorage.getItem('leadscore:journal')).toBeNull();
  });

  it('replays a journaled signal whose IndexedDB write never happened', async () => {
    localStorage.setItem('leadscore:journal', JSON.stringify([{ name: 'add_to_cart', props: { item_id: 'x' }, time: Date.now(), id: 'gone1' }]));
    const tracker = make();
    expect((await tracker.getState()).signals.add_to_cart).toBe(1);
  });

  it('ignores a corrupt journal', async () => {
    for (const garbage of ['{', '"x"', '[1,null,{"name":5}]', JSON.stringify([{ name: 'x', time: 'now', id: 'a' }])]) {
      localStorage.setItem('leadscore:journal', garbage);
      const tracker = make();
      expect((await tracker.getState()).signals.x).toBeUndefined();
      tracker.destroy();
    }
  });

  it('does not read or write the journal without consent', async () => {
    localStorage.setItem('leadscore:journal', JSON.stringify([{ name: 'add_to_cart', props: {}, time: Date.now(), id: 'j1' }]));
    const tracker = make({ consent: 'required' });
    tracker.track('view_item');
    window.dispatchEvent(new Event('pagehide'));
    expect((await tracker.getState()).signals.add_to_cart).toBeUndefined();
    expect(JSON.parse(localStorage.getItem('leadscore:journal')!)).toHaveLength(1);
  });
});
