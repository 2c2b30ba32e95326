/** Small readers of browser state; each returns a safe default when the API is missing. */

/** True in a browser-like global (false during server rendering). */
export const hasDom = (): boolean => typeof window !== 'undefined' && typeof document !== 'undefined';

/**
 * A random RFC 4122 version 4 UUID from `crypto.getRandomValues`, which every supported browser has
 * (in insecure contexts too, unlike `randomUUID`).
 */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const HEADLESS = /HeadlessChrome|PhantomJS|Electron|bot\b|crawler|spider|slurp|lighthouse/i;

/** Automation and bots: not scored unless the site allows it (`data-allow-automation`). */
export function readAutomation(): boolean {
  if (typeof navigator === 'undefined') return false;
  const brands = (navigator as Navigator & { userAgentData?: { brands?: { brand: string }[] } }).userAgentData?.brands;
  return (
    navigator.webdriver === true ||
    HEADLESS.test(navigator.userAgent) ||
    (Array.isArray(brands) && brands.some((entry) => HEADLESS.test(entry.brand)))
  );
}

/** The page URL, or '' outside a browser. */
export const readPageUrl = (): string => (hasDom() ? location.href : '');

/**
 * A monotonic clock for durations and timeouts; wall-clock `Date.now()` is used only for stored
 * timestamps (which the engine treats defensively when the clock jumps).
 */
export const monotonic = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The callbacks waiting for nextTask's channel, and the channel (one per page: see nextTask). */
const waiting: (() => void)[] = [];
let channel: MessageChannel | undefined;

/**
 * Runs `callback` in a new task (not a microtask: the current script's evaluation ends first).
 * A MessageChannel message, which unlike setTimeout is neither clamped nor throttled. One channel
 * serves every call, one message per callback, in order: a channel per call (creating, entangling
 * and closing its ports) cost more than the start-up steps it scheduled.
 */
export function nextTask(callback: () => void): void {
  if (typeof MessageChannel !== 'function') return void setTimeout(callback, 0);
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()!();
  }
  waiting.push(callback);
  channel.port2.postMessage(0);
}
