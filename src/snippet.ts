/**
 * Script-tag entry (IIFE): the only module with top-level effects.
 *
 * The script's own evaluation does as little as possible, because it runs inside the page's load:
 * it keeps `document.currentScript` (only set now), takes over the pre-load stub's queue and
 * exposes `window.leadscore`: a function
 * `leadscore(command, ...args)` that is also an object with the tracker's methods. Calls made before
 * the tracker exists are queued in order (promise methods resolve later; `on` returns a working
 * unsubscribe). Then one short task each: read the tag's `data-` attributes, parse the
 * configuration, start the tracker (storage, listeners; its own steps follow, one task each).
 */
import { parseConfig, toBoolean, type ConfigProblem } from './config';
import { readScriptOptions } from './tag';
import { createInertTracker, startTracker, VERSION, type Tracker } from './tracker';
import { nextTask } from './util/env';
import { guard } from './util/guard';

type Command = keyof Tracker;
interface Api extends Tracker {
  (command: Command, ...args: unknown[]): unknown;
  version: string;
}
interface Stub {
  (...args: unknown[]): void;
  q?: ArrayLike<unknown>[];
}
interface Call {
  command: unknown;
  args: unknown[];
  /** Receives the tracker's result once the call is replayed (promises, `on`'s unsubscribe). */
  done?: (result: unknown) => void;
}

/**
 * What the first copy on the page leaves under BOOTED for later copies: they stay quiet, except the
 * debug build, which the first copy asked for (`handoff`) and which then starts the tracker.
 */
interface Owner {
  api: Api;
  calls: Call[];
  handoff: boolean;
  started: boolean;
  /** Runs the pending first start-up hop in the next task, whatever the page's timers do. */
  hurry: () => void;
  connect(tracker: Tracker, debug: boolean): void;
}

/** Marks the page's owner without adding an enumerable global (a foreign `window.leadscore` may exist). */
const BOOTED = Symbol.for('leadscore.booted');
const METHODS: readonly Command[] = ['track', 'identify', 'getState', 'on', 'consent', 'optOut', 'reset', 'flush', 'destroy'];
const LATER: readonly unknown[] = ['getState', 'reset', 'flush'];
const noop = (): void => undefined;

function createOwner(): Owner {
  let tracker: Tracker | null = null;
  let debug = false;
  const calls: Call[] = [];
  const call = (command: unknown, args: unknown[]): unknown => {
    if (!tracker) {
      if (command === 'on') {
        let off: unknown;
        let cancelled = false;
        calls.push({ command, args, done: (result) => (cancelled && typeof result === 'function' ? result() : (off = result)) });
        return () => {
          cancelled = true;
          if (typeof off === 'function') off();
        };
      }
      if (LATER.includes(command)) {
        // A page whose setTimeout never fires (or throws) must not leave this promise unsettled.
        owner.hurry();
        return new Promise((resolve) => calls.push({ command, args, done: resolve }));
      }
      return void calls.push({ command, args });
    }
    const method = typeof command === 'string' && Object.prototype.hasOwnProperty.call(tracker, command) ? tracker[command as Command] : null;
    if (typeof method === 'function') return (method as (...a: unknown[]) => unknown)(...args);
    if (__DEBUG__ && command !== 'init' && debug) console.info('[leadscore] unknown command', command);
  };
  const api = guard((command: unknown, ...args: unknown[]) => call(command, args)) as Api;
  for (const name of METHODS) (api as unknown as Record<string, unknown>)[name] = guard((...args: unknown[]) => call(name, args));
  api.version = VERSION;
  const owner: Owner = {
    api,
    calls,
    handoff: false,
    started: false,
    hurry: noop,
    connect(started, debugMode) {
      tracker = started;
      debug = debugMode;
      for (const queued of calls.splice(0)) {
        const result = call(queued.command, queued.args);
        queued.done?.(result);
      }
    },
  };
  return owner;
}

/**
 * Debug mode costs production nothing but this loader: the production builds hand over to
 * `leadscore.debug.js` (the same source with every message kept), loaded with the page's nonce so a
 * strict Content-Security-Policy allows it. Returns false when it cannot be loaded (no script URL,
 * or a Trusted Types policy refusing the assignment): then this build starts and says so once.
 */
function loadDebugBuild(script: HTMLScriptElement | null, fallback: () => void): boolean {
  const source = script?.src ?? '';
  const target = source.replace(/leadscore(\.lite)?\.js(?=[?#]|$)/, 'leadscore.debug.js');
  if (!script || target === source) return false;
  try {
    const element = document.createElement('script');
    for (const attribute of Array.from(script.attributes)) {
      if (attribute.name.startsWith('data-')) element.setAttribute(attribute.name, attribute.value);
    }
    element.nonce = script.nonce;
    element.onerror = guard(() => {
      console.warn('[leadscore] debug build failed to load from ' + target);
      fallback();
    });
    element.src = target;
    document.head.appendChild(element);
    return true;
  } catch {
    console.warn("[leadscore] the page's policy blocks the debug build; running without debug output");
    return false;
  }
}

/**
 * Runs `step` once: in the next task (`schedule`'s), or at once inside `pagehide` (with `leaving`) if
 * the page is left first, so that what is queued is journaled before the page goes. At once if
 * already `leaving`.
 */
function nextTaskOrLeave(step: (leaving: boolean) => void, leaving = false, schedule: (run: () => void) => void = nextTask): () => void {
  if (leaving) return step(true), noop;
  let done = false;
  const run = (leaving: boolean): void => {
    window.removeEventListener('pagehide', onLeave, true);
    if (done) return;
    done = true;
    step(leaving);
  };
  const onLeave = guard(() => run(true));
  // Removed by run(): whichever comes first, the other does nothing.
  window.addEventListener('pagehide', onLeave, true);
  const later = guard(() => run(false));
  try {
    schedule(later);
  } catch {
    nextTask(later); // The page's setTimeout throws.
  }
  return () => nextTask(later);
}

/**
 * Starts the tracker once, in short tasks: the tag was read in this one; the configuration (with
 * every queued `init`) is parsed in the next, the tracker started in the one after, then the queue
 * is replayed (one task each keeps every start-up task short on a slow phone). A page
 * left in between starts it at once. If starting fails, the queue is replayed on an inert tracker:
 * no promise hangs.
 */
function start(owner: Owner, options: Record<string, unknown>, problems: ConfigProblem[], leaving: boolean): void {
  if (owner.started) return;
  owner.started = true;
  owner.handoff = false;
  nextTaskOrLeave((leaving) => {
    const parsed = guard(() => {
      for (const { command, args } of owner.calls) {
        if (command === 'init' && args[0] && typeof args[0] === 'object') Object.assign(options, args[0]);
      }
      return parseConfig(options, { pageUrl: location.href });
    })();
    nextTaskOrLeave((leaving) => {
      const tracker = parsed && guard(() => startTracker(parsed.config, [...problems, ...parsed.problems], { leaving }))();
      owner.connect(tracker || createInertTracker(), !!parsed?.config.debug);
    }, leaving);
  }, leaving);
}

guard(() => {
  const win = window as unknown as Record<string | symbol, unknown>;
  const prior = win[BOOTED] as Owner | undefined;
  // A second copy is a quiet no-op; the debug build continues what the first copy handed over.
  if (prior && !(__DEBUG__ && prior.handoff)) return;
  // Only this must happen now; even the attributes are read in the next task.
  const script = document.currentScript as HTMLScriptElement | null;
  let owner = prior;
  if (!owner) {
    owner = createOwner();
    Object.defineProperty(window, BOOTED, { value: owner, configurable: true });
    const existing = win.leadscore as Stub | undefined;
    if (typeof existing === 'function') for (const args of Array.from(existing.q ?? [])) owner.calls.push({ command: args[0], args: Array.from(args).slice(1) });
    if (existing === undefined || typeof existing === 'function') win.leadscore = owner.api;
    else if (__DEBUG__) console.warn('[leadscore] window.leadscore is taken by the page: use the stub or ESM');
  }
  const own = owner;
  // Leaving before the tracker started (rare: the next task comes first on any real navigation)
  // starts it inside pagehide. This first hop is a timer (not nested, so not clamped; in a tab
  // loading hidden, up to a second late), so that the evaluation does not create nextTask's
  // MessageChannel (the later hops create it).
  own.hurry = nextTaskOrLeave((leaving) => {
    if (own.started) return;
    const problems: ConfigProblem[] = [];
    const options = guard(readScriptOptions, {})(script, problems);
    const fallback = guard(() => start(own, options, problems, false));
    if (!__DEBUG__ && !leaving && toBoolean(options.debug) === true && loadDebugBuild(script, fallback)) own.handoff = true;
    else start(own, options, problems, leaving);
  }, false, setTimeout);
})();
