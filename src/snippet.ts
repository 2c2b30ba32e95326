/**
 * Script-tag entry (IIFE): the only module with top-level effects. It reads the tag's `data-`
 * attributes, exits quietly if another copy already booted, replays the pre-load queue in order and
 * exposes `window.leadscore`, both a function `leadscore(command, ...args)` and an object with the
 * tracker's methods.
 */
import { parseConfig, toBoolean, type ConfigProblem } from './config';
import { readScriptOptions } from './tag';
import { startTracker, VERSION, type Tracker } from './tracker';
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

/** Marks a booted copy without adding an enumerable global (a foreign `window.leadscore` may exist). */
const BOOTED = Symbol.for('leadscore.booted');

/**
 * Debug mode costs production nothing but this loader: the production builds hand over to
 * `leadscore.debug.js` (the same source with every message kept), loaded with the page's nonce so a
 * strict Content-Security-Policy allows it. Returns false when it cannot be loaded (no script URL,
 * or a Trusted Types policy refusing the assignment): then this build boots and says so once.
 */
function loadDebugBuild(script: HTMLScriptElement | null, boot: () => void): boolean {
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
      boot();
    });
    element.src = target;
    document.head.appendChild(element);
    return true;
  } catch {
    console.warn("[leadscore] the page's policy blocks the debug build; running without debug output");
    return false;
  }
}

const start = guard((options: Record<string, unknown>, problems: ConfigProblem[]) => {
  const win = window as unknown as Record<string, unknown>;
  if ((window as unknown as Record<symbol, unknown>)[BOOTED]) return; // a second copy: quiet no-op
  Object.defineProperty(window, BOOTED, { value: true, configurable: true });
  const existing = win.leadscore as Stub | undefined;
  const isStub = typeof existing === 'function';
  const queue = isStub && existing.q ? Array.from(existing.q) : [];

  // Queued `init` calls carry options too; they run through the same parser.
  for (const args of queue) if (args[0] === 'init' && args[1] && typeof args[1] === 'object') Object.assign(options, args[1]);
  const parsed = parseConfig(options, { pageUrl: location.href });
  const tracker = startTracker(parsed.config, [...problems, ...parsed.problems]);

  const api = guard((command: Command, ...args: unknown[]) => {
    const method = typeof command === 'string' && Object.prototype.hasOwnProperty.call(tracker, command) ? tracker[command] : null;
    if (typeof method === 'function') return (method as (...a: unknown[]) => unknown)(...args);
    if (__DEBUG__ && command !== ('init' as Command) && parsed.config.debug) console.info('[leadscore] unknown command', command);
  }) as Api;
  Object.assign(api, tracker, { version: VERSION });

  if (existing === undefined || isStub) win.leadscore = api;
  else if (__DEBUG__ && parsed.config.debug) console.warn('[leadscore] window.leadscore is taken by the page; use the queue stub or ESM');
  for (const args of queue) api(...(Array.from(args) as [Command, ...unknown[]]));
});

guard(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  const problems: ConfigProblem[] = [];
  const options = readScriptOptions(script, problems);
  const boot = (): void => start(options, problems);
  const debug = toBoolean(options.debug) === true;
  if (!__DEBUG__ && debug && !(window as unknown as Record<symbol, unknown>)[BOOTED] && loadDebugBuild(script, boot)) return;
  boot();
})();
