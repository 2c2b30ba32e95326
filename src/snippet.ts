/**
 * Script-tag entry (IIFE): the only module with top-level effects. It reads the tag's `data-`
 * attributes, exits quietly if another copy already booted, replays the pre-load queue in order and
 * exposes `window.leadscore`, both a function `leadscore(command, ...args)` and an object with the
 * tracker's methods.
 */
import { fromAttributeName, parseConfig, type ConfigProblem } from './config';
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

function readOptions(script: HTMLScriptElement | null, problems: ConfigProblem[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const attributes: Record<string, string> = {};
  for (const attribute of script ? Array.from(script.attributes) : []) {
    if (attribute.name.startsWith('data-')) attributes[fromAttributeName(attribute.name)] = attribute.value;
  }
  const configRef = attributes.config;
  delete attributes.config;
  if (configRef !== undefined) {
    const element = configRef.startsWith('#') ? document.getElementById(configRef.slice(1)) : null;
    try {
      if (!element) throw new Error(`no element ${configRef}`);
      const json: unknown = JSON.parse(element.textContent ?? '');
      if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
      Object.assign(options, json);
    } catch (error) {
      problems.push({ fatal: true, message: `data-config: ${(error as Error).message}` });
    }
  }
  // Attributes on the tag win over the inline JSON: they are the quickest thing to edit.
  Object.assign(options, attributes);
  if (/[?&]leadscore_debug=1(&|$)/.test(location.search)) options.debug = true;
  return options;
}

guard(() => {
  const win = window as unknown as Record<string, unknown>;
  if ((window as unknown as Record<symbol, unknown>)[BOOTED]) return; // a second copy: quiet no-op
  Object.defineProperty(window, BOOTED, { value: true, configurable: true });
  const existing = win.leadscore as Stub | undefined;
  const isStub = typeof existing === 'function';
  const queue = isStub && existing.q ? Array.from(existing.q) : [];

  const problems: ConfigProblem[] = [];
  const options = readOptions(document.currentScript as HTMLScriptElement | null, problems);
  // Queued `init` calls carry options too; they run through the same parser.
  for (const args of queue) if (args[0] === 'init' && args[1] && typeof args[1] === 'object') Object.assign(options, args[1]);
  const parsed = parseConfig(options, { pageUrl: location.href });
  const tracker = startTracker(parsed.config, [...problems, ...parsed.problems]);

  const api = guard((command: Command, ...args: unknown[]) => {
    const method = typeof command === 'string' && Object.prototype.hasOwnProperty.call(tracker, command) ? tracker[command] : null;
    if (typeof method === 'function') return (method as (...a: unknown[]) => unknown)(...args);
    if (command !== ('init' as Command) && parsed.config.debug) console.info('[leadscore] unknown command', command);
  }) as Api;
  Object.assign(api, tracker, { version: VERSION });

  if (existing === undefined || isStub) win.leadscore = api;
  else if (parsed.config.debug) console.warn('[leadscore] window.leadscore is taken by the page; use the queue stub or ESM');
  for (const args of queue) api(...(Array.from(args) as [Command, ...unknown[]]));
})();
