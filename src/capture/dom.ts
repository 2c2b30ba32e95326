import { guard } from '../util/guard';
/** Small DOM readers shared by the detectors. Read-only: nothing here changes the page. */

const CONTROL =
  'button,a[href],input[type=submit],input[type=button],input[type=image],[role=button],[role=link],shopify-buy-it-now-button,shopify-accelerated-checkout,shopify-accelerated-checkout-cart';

/** The interactive control an event started on, if any. */
export function closestControl(target: EventTarget | null): HTMLElement | null {
  return target instanceof Element ? (target.closest(CONTROL) as HTMLElement | null) : null;
}

/** The control's accessible text, lower-cased and collapsed (aria-label, text, value, title). */
export function controlText(element: Element): string {
  const text =
    element.getAttribute('aria-label') ||
    (element instanceof HTMLInputElement ? element.value : element.textContent) ||
    element.getAttribute('title') ||
    '';
  return text.replace(/\s+/g, ' ').trim().toLowerCase().slice(0, 100);
}

export const isDisabled = (element: Element): boolean =>
  (element as HTMLButtonElement).disabled === true || element.getAttribute('aria-disabled') === 'true';

/** A link's same-document URL, or null for links that do not navigate to a URL. */
export function linkUrl(element: Element): URL | null {
  const href = element instanceof HTMLAnchorElement ? element.href : '';
  if (!href) return null;
  try {
    const url = new URL(href, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** The value of the first named control of a form, including controls associated with `form=`. */
export function fieldValue(form: HTMLFormElement, names: readonly string[]): string | undefined {
  for (const name of names) {
    const field = form.elements.namedItem(name);
    const element = (field instanceof RadioNodeList ? field[0] : field) as HTMLInputElement | null;
    // Only product fields are read (ids, variant, quantity): never what the visitor typed elsewhere.
    if (element && typeof element.value === 'string' && element.value !== '') return element.value.slice(0, 100);
  }
  return undefined;
}

/** Reads `data-leadscore-*` attributes (except `-event`) as signal props. */
export function declaredProps(element: Element): Record<string, string> {
  const props: Record<string, string> = {};
  // Names, then values: reading `element.attributes` creates an Attr object per attribute (measured
  // at ~9 µs per click on a five-attribute button, 5x this).
  for (const name of element.getAttributeNames()) {
    if (name.startsWith('data-leadscore-') && name !== 'data-leadscore-event') props[name.slice(15).replace(/-/g, '_')] = element.getAttribute(name)!;
  }
  return props;
}

/** An id or name from page data (string or number) as bounded text; anything else is undefined. */
export const toText = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value).slice(0, 100) : undefined;

/** Numbers from the page arrive as text: "1,299.00", "24". Null when not a finite number. */
export function toNumber(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? parseFloat(value.replace(/,(?=\d{3}\b)/g, '')) : NaN;
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Registers a passive capture-phase listener behind the guard (an error of ours never reaches the
 * page's event dispatch); returns the unsubscribe.
 */
export function listen(target: EventTarget, type: string, listener: (event: Event) => void): () => void {
  const options = { capture: true, passive: true };
  const guarded = guard(listener);
  target.addEventListener(type, guarded, options);
  return () => target.removeEventListener(type, guarded, options);
}

const HOOKS = Symbol.for('leadscore.hooks');
type Hooked = ((...args: unknown[]) => unknown) & { [HOOKS]?: Set<(args: unknown[], result: unknown) => void> };

/**
 * Runs `callback` after every call of `target[method]`, for the few host functions that have no
 * event to observe (history.pushState without the Navigation API, dataLayer.push). The original is
 * called first and its result returned; a throwing callback is contained. The page gets one wrapper
 * however many trackers (or copies of the library) subscribe; wrappers the host adds later keep
 * calling ours. Returns the unsubscribe (the wrapper stays: removing it could drop a host wrapper).
 */
export function hookAfter(target: object, method: string, callback: (args: unknown[], result: unknown) => void): () => void {
  const record = target as Record<string, Hooked>;
  let hooks = record[method]?.[HOOKS];
  if (!hooks) {
    const original = record[method];
    if (typeof original !== 'function') return () => undefined;
    const set = (hooks = new Set());
    const wrapper: Hooked = function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      for (const hook of set) {
        try {
          hook(args, result);
        } catch {
          // The host's call must never fail because of us.
        }
      }
      return result;
    };
    wrapper[HOOKS] = set;
    record[method] = wrapper;
  }
  const set = hooks;
  set.add(callback);
  return () => void set.delete(callback);
}
