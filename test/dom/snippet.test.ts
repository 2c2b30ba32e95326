import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Tracker } from '../../src/tracker';

type Api = Tracker & ((command: string, ...args: unknown[]) => unknown) & { q?: unknown[][]; version?: string };
const win = window as unknown as { leadscore?: unknown };
const BOOTED = Symbol.for('leadscore.booted');

function installStub(): Api {
  // The documented pre-load stub, verbatim.
  // eslint-disable-next-line
  (window as any).leadscore = (window as any).leadscore || function () { ((window as any).leadscore.q = (window as any).leadscore.q || []).push(arguments); };
  return win.leadscore as Api;
}
/** Evaluates the script (what the tag does synchronously); the tracker starts in the next task. */
async function evaluate(): Promise<Api> {
  vi.resetModules();
  await import('../../src/snippet');
  return win.leadscore as Api;
}
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
/**
 * Waits (up to 20 tasks) for the page-hide that `queuedAtLeave` reports (the number of calls still
 * queued then), and checks that `name`, tracked before it, is in the journal.
 */
async function expectJournaledAtLeave(queuedAtLeave: () => number, name: string): Promise<void> {
  for (let i = 0; i < 20 && queuedAtLeave() < 0; i++) await nextTask();
  expect(queuedAtLeave()).toBeGreaterThan(0);
  await Promise.resolve();
  await Promise.resolve();
  const journal = JSON.parse(localStorage.getItem('leadscore:journal') ?? '[]') as { name: string }[];
  expect(journal.map((signal) => signal.name)).toContain(name);
}

async function boot(): Promise<Api> {
  const api = await evaluate();
  await nextTask();
  return api;
}

beforeEach(() => {
  delete win.leadscore;
  delete (window as unknown as Record<symbol, unknown>)[BOOTED];
});
afterEach(async () => {
  const api = win.leadscore as Api | undefined;
  if (typeof api?.destroy === 'function') {
    await api.reset();
    api.destroy();
  }
  vi.restoreAllMocks();
});

describe('script-tag boot', () => {
  it('replays queued calls in order and exposes a function that is also an object', async () => {
    const stub = installStub();
    stub('init', { allowAutomation: true, threshold: 25 });
    stub('track', 'view_item', { item_id: 'mug' });
    stub('identify', { plan: 'pro' });
    stub('track', 'add_to_cart');
    const api = await boot();
    expect(typeof api).toBe('function');
    expect(typeof api.track).toBe('function');
    expect(api.version).toMatch(/^\d+\.\d+\.\d+/);
    const state = await api.getState();
    expect(state.signals).toMatchObject({ page_view: 1, view_item: 1, add_to_cart: 1 });
    expect(state.traits).toEqual({ plan: 'pro' });
    expect(state.stage).toBe('mql');
    api('track', 'view_item');
    const viaCommand = (await api('getState')) as Awaited<ReturnType<Tracker['getState']>>;
    expect(viaCommand.signals.view_item).toBe(2);
  });

  it('keeps queued calls in their order relative to each other', async () => {
    const stub = installStub();
    stub('init', { allowAutomation: true });
    const order: string[] = [];
    stub('on', 'signal', (event: { name: string }) => order.push(event.name));
    stub('track', 'first');
    stub('track', 'second');
    const api = await boot();
    await api.flush();
    expect(order.filter((name) => name === 'first' || name === 'second')).toEqual(['first', 'second']);
  });

  it('ignores unknown commands without throwing', async () => {
    installStub()('init', { allowAutomation: true });
    const api = await boot();
    expect(() => api('nope')).not.toThrow();
    expect(() => api(undefined as unknown as string)).not.toThrow();
    expect(() => api('constructor')).not.toThrow();
  });

  it('is a quiet no-op when the script is included twice', async () => {
    installStub()('init', { allowAutomation: true });
    const first = await boot();
    await first.flush(); // capture has started too
    const listeners = vi.spyOn(document, 'addEventListener');
    const second = await boot();
    expect(second).toBe(first);
    expect(listeners).not.toHaveBeenCalled();
  });

  it('does not overwrite a page global that is not the stub, and still boots', async () => {
    win.leadscore = { mine: true };
    const listeners = vi.spyOn(window, 'addEventListener');
    await boot();
    expect(win.leadscore).toEqual({ mine: true });
    expect(listeners).toHaveBeenCalled();
    delete win.leadscore;
  });

  it('queues calls made before the tracker starts: order kept, promises resolve, on() and its unsubscribe work', async () => {
    const documentListeners = vi.spyOn(document, 'addEventListener');
    const api = await evaluate();
    // The script's own evaluation starts nothing: no tracker, no document listeners yet.
    expect(documentListeners).not.toHaveBeenCalled();
    api('init', { allowAutomation: true, threshold: 30 });
    const seen: string[] = [];
    const dropped: string[] = [];
    api.on('signal', (event) => seen.push(event.name));
    const off = api.on('signal', (event) => dropped.push(event.name));
    off();
    api.track('first');
    api('track', 'second');
    const state = api.getState();
    const flushed = api.flush();
    expect(typeof api.version).toBe('string');
    await expect(flushed).resolves.toBeUndefined();
    const resolved = await state;
    expect(resolved.signals).toMatchObject({ first: 1, second: 1 });
    expect(resolved.stage).toBe(null);
    expect(seen.filter((name) => name === 'first' || name === 'second')).toEqual(['first', 'second']);
    expect(dropped).toEqual([]);
  });

  it('applies an init call made after the script ran but before the tracker started', async () => {
    const api = await evaluate();
    api('init', { allowAutomation: true, threshold: 5, rules: [{ id: 'go', signal: 'go', points: 6 }] });
    api.track('go');
    const state = await api.getState();
    expect(state.stage).toBe('mql');
  });

  it('creates no MessageChannel while the script evaluates (its first hop is a timer); the tracker still starts', async () => {
    const created = vi.fn();
    vi.stubGlobal('MessageChannel', class extends MessageChannel {
      constructor() {
        super();
        created();
      }
    });
    try {
      installStub()('init', { allowAutomation: true });
      const api = await evaluate();
      expect(created).not.toHaveBeenCalled();
      expect((await api.getState()).signals.page_view).toBe(1);
      // The later start-up steps share one channel.
      expect(created).toHaveBeenCalledTimes(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('journals queued signals when the page is left before the tracker started', async () => {
    installStub()('init', { allowAutomation: true });
    const api = await evaluate();
    api.track('left_early', { n: 1 });
    window.dispatchEvent(new Event('pagehide'));
    await Promise.resolve();
    await Promise.resolve();
    const journal = JSON.parse(localStorage.getItem('leadscore:journal') ?? '[]') as { name: string }[];
    expect(journal.map((signal) => signal.name)).toContain('left_early');
  });

  it('journals queued signals when the page is left after the config was read but before the tracker started', async () => {
    installStub()('init', { allowAutomation: true });
    const api = await evaluate();
    api.track('left_in_between', { n: 1 });
    const owner = (window as unknown as Record<symbol, { started: boolean; calls: unknown[] }>)[BOOTED]!;
    // The config is read in one task and the tracker starts in the next: leave in between (a
    // microtask after the task that read the config), while the track() call is still queued.
    let started = false;
    let queuedAtLeave = -1;
    Object.defineProperty(owner, 'started', {
      configurable: true,
      get: () => started,
      set: (value: boolean) => {
        started = value;
        if (value) queueMicrotask(() => ((queuedAtLeave = owner.calls.length), window.dispatchEvent(new Event('pagehide'))));
      },
    });
    await expectJournaledAtLeave(() => queuedAtLeave, 'left_in_between');
  });

  it('journals queued signals when the page is left after the config was parsed but before the tracker started', async () => {
    installStub()('init', { allowAutomation: true });
    let queuedAtLeave = -1;
    vi.doMock('../../src/config', async (importOriginal) => {
      const actual = await importOriginal<typeof import('../../src/config')>();
      return {
        ...actual,
        // The tracker starts in the task after the parse: leave in between.
        parseConfig: (...args: Parameters<typeof actual.parseConfig>) => {
          const owner = (window as unknown as Record<symbol, { calls: unknown[] }>)[BOOTED]!;
          queueMicrotask(() => ((queuedAtLeave = owner.calls.length), window.dispatchEvent(new Event('pagehide'))));
          return actual.parseConfig(...args);
        },
      };
    });
    try {
      const api = await evaluate();
      api.track('left_after_parse', { n: 1 });
      await expectJournaledAtLeave(() => queuedAtLeave, 'left_after_parse');
    } finally {
      vi.doUnmock('../../src/config');
    }
  });

  it('settles queued calls on an inert tracker when starting fails', async () => {
    vi.doMock('../../src/tracker', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../src/tracker')>()),
      startTracker: () => {
        throw new Error('start failed');
      },
    }));
    try {
      const api = await evaluate();
      const state = api.getState();
      const flushed = api.flush();
      api.track('ignored');
      await nextTask();
      await expect(flushed).resolves.toBeUndefined();
      expect((await state).visitorId).toBe('');
      expect(() => api.track('later')).not.toThrow();
    } finally {
      vi.doUnmock('../../src/tracker');
    }
  });

  it.each([
    ['throws', () => { throw new Error('the page broke its timers'); }],
    ['does nothing', () => 0],
  ])('settles getState() and flush() on a page whose setTimeout %s', async (_, brokenTimer) => {
    const realTimeout = globalThis.setTimeout;
    /** Fails the test instead of hanging when a promise never settles (on the real timer). */
    const settled = <T>(promise: Promise<T>): Promise<T> =>
      Promise.race([promise, new Promise<T>((_, reject) => realTimeout(() => reject(new Error('never settled')), 3000))]);
    const stub = installStub();
    stub('init', { allowAutomation: true });
    stub('track', 'view_item');
    vi.stubGlobal('setTimeout', brokenTimer);
    try {
      const api = await evaluate();
      const state = await settled(api.getState());
      expect(state.signals.view_item).toBe(1);
      await expect(settled(api.flush())).resolves.toBeUndefined();
      api.track('add_to_cart');
      expect((await settled(api.getState())).signals.add_to_cart).toBe(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('works without a stub', async () => {
    const api = await boot();
    expect(typeof api.getState).toBe('function');
  });
});
