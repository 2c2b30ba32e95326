import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type Tracker } from '../../src/index';

const win = window as unknown as Record<string, unknown>;
const trackers: Tracker[] = [];
function make(options: Record<string, unknown> = {}, deps: Record<string, unknown> = { capture: false }): Tracker {
  const tracker = createTracker({ allowAutomation: true, ...options }, deps);
  trackers.push(tracker);
  return tracker;
}
const args = (...items: unknown[]) => (function () { return arguments; })(...(items as []));

/** A fake CMP: `answer()` calls every listener with the given TC data. */
function installTcf() {
  const listeners: ((data: unknown, success: boolean) => void)[] = [];
  win.__tcfapi = (command: string, _version: number, callback: (data: unknown, success: boolean) => void) => {
    if (command === 'addEventListener') listeners.push(callback);
  };
  return (data: unknown) => listeners.forEach((listener) => listener(data, true));
}

beforeEach(() => {
  delete win.__tcfapi;
  delete win.dataLayer;
});
afterEach(() => {
  for (const tracker of trackers.splice(0)) tracker.destroy();
  vi.restoreAllMocks();
  localStorage.clear();
  delete win.__tcfapi;
  delete win.dataLayer;
});

describe('consent modes', () => {
  it('granted: stores from the start', async () => {
    const tracker = make({ consent: 'granted' });
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('idb');
  });

  it('auto without a consent platform: behaves as granted', async () => {
    const tracker = make({ consent: 'auto' });
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('idb');
  });

  it('required: reads and writes no storage at all before consent, not even the opt-out marker', async () => {
    const reads = [vi.spyOn(localStorage, 'getItem'), vi.spyOn(sessionStorage, 'getItem')];
    const writes = [vi.spyOn(localStorage, 'setItem'), vi.spyOn(sessionStorage, 'setItem'), vi.spyOn(localStorage, 'removeItem')];
    const open = vi.spyOn(indexedDB, 'open');
    const tracker = make({ consent: 'required' }, {});
    tracker.track('add_to_cart');
    window.dispatchEvent(new Event('pagehide'));
    const state = await tracker.getState();
    expect(state.signals.add_to_cart).toBe(1);
    expect(state.storage).toBe('memory');
    expect(open).not.toHaveBeenCalled();
    for (const spy of [...reads, ...writes]) expect(spy).not.toHaveBeenCalled();
    expect(document.cookie).toBe('');
  });

  it('auto with TCF: nothing stored until the CMP answers with purpose 1', async () => {
    const answer = installTcf();
    const open = vi.spyOn(indexedDB, 'open');
    const tracker = make();
    tracker.track('view_item');
    answer({ gdprApplies: true, eventStatus: 'cmpuishown' });
    expect((await tracker.getState()).storage).toBe('memory');
    expect(open).not.toHaveBeenCalled();
    answer({ gdprApplies: true, eventStatus: 'useractioncomplete', purpose: { consents: { 1: true } } });
    tracker.track('add_to_cart');
    const state = await tracker.getState();
    expect(state.storage).toBe('idb');
    expect(state.signals).toMatchObject({ view_item: 1, add_to_cart: 1 });
  });

  it('auto with TCF: a refusal keeps everything in memory', async () => {
    const answer = installTcf();
    const tracker = make();
    answer({ gdprApplies: true, eventStatus: 'useractioncomplete', purpose: { consents: { 1: false } } });
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('memory');
  });

  it('auto with TCF: waits while gdprApplies is undefined, proceeds when it is false', async () => {
    const answer = installTcf();
    const tracker = make();
    answer({ eventStatus: 'tcloaded' });
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('memory');
    answer({ gdprApplies: false, eventStatus: 'tcloaded' });
    expect((await tracker.getState()).storage).toBe('idb');
  });

  it('auto with a CMP that never answers: nothing hangs, nothing is stored', async () => {
    installTcf();
    const tracker = make();
    tracker.track('view_item');
    const state = await tracker.getState();
    expect(state.storage).toBe('memory');
    expect(state.signals.view_item).toBe(1);
  });

  it('auto with Google Consent Mode: default denied, then granted by an update', async () => {
    const dataLayer: unknown[] = [args('consent', 'default', { analytics_storage: 'denied' })];
    win.dataLayer = dataLayer;
    const tracker = make();
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('memory');
    dataLayer.push(args('consent', 'update', { analytics_storage: 'granted' }));
    expect((await tracker.getState()).storage).toBe('idb');
  });

  it('auto with Google Consent Mode: revoking deletes the stored data', async () => {
    const dataLayer: unknown[] = [args('consent', 'default', { analytics_storage: 'granted' })];
    win.dataLayer = dataLayer;
    const tracker = make();
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('idb');
    dataLayer.push(args('consent', 'update', { analytics_storage: 'denied' }));
    const state = await tracker.getState();
    expect(state.storage).toBe('memory');
    const again = make({ consent: 'granted' });
    expect((await again.getState()).signals.view_item).toBeUndefined();
  });

  it('the API overrides: leadscore("consent", true) grants in auto mode with a silent CMP', async () => {
    installTcf();
    const tracker = make();
    tracker.consent(true);
    tracker.track('view_item');
    expect((await tracker.getState()).storage).toBe('idb');
  });

  it('honours Do Not Track by default, and not when respectPrivacySignals is off', async () => {
    Object.defineProperty(navigator, 'doNotTrack', { configurable: true, get: () => '1' });
    try {
      const strict = make();
      strict.track('view_item');
      expect((await strict.getState()).storage).toBe('memory');
      const relaxed = make({ respectPrivacySignals: false });
      relaxed.track('view_item');
      expect((await relaxed.getState()).storage).toBe('idb');
    } finally {
      delete (navigator as { doNotTrack?: string }).doNotTrack;
    }
  });
});

describe('data-capture-email', () => {
  async function submit(html: string, options: Record<string, unknown>): Promise<Record<string, unknown>> {
    document.body.innerHTML = html;
    const tracker = make(options, {});
    await tracker.flush(); // capture starts in the task after the script
    for (const input of Array.from(document.querySelectorAll('input'))) {
      if (input.type === 'email') input.value = ' ana@example.com ';
      else input.value = 'secret';
    }
    document.querySelector('form')!.dispatchEvent(new SubmitEvent('submit', { bubbles: true, cancelable: true }));
    return (await tracker.getState()).traits;
  }

  it('adds the email of a submitted newsletter form as a trait', async () => {
    expect(await submit('<form><input type="email" name="email"></form>', { captureEmail: true })).toEqual({ email: 'ana@example.com' });
  });

  it('reads nothing without the option', async () => {
    expect(await submit('<form><input type="email" name="email"></form>', {})).toEqual({});
  });

  it.each([
    ['a login form', '<form><input type="email"><input type="password"></form>'],
    ['a payment form', '<form><input type="email"><input name="card_number" autocomplete="cc-number"></form>'],
  ])('never reads from %s', async (_, html) => {
    expect(await submit(html, { captureEmail: true })).toEqual({});
  });

  it('ignores a value that is not an email', async () => {
    document.body.innerHTML = '<form><input type="email"></form>';
    const tracker = make({ captureEmail: true }, {});
    await tracker.flush();
    (document.querySelector('input') as HTMLInputElement).value = 'not-an-email';
    document.querySelector('form')!.dispatchEvent(new SubmitEvent('submit', { bubbles: true, cancelable: true }));
    expect((await tracker.getState()).traits).toEqual({});
  });
});

describe('debug panel', () => {
  it('renders score, stage and rules as text in a closed shadow root', async () => {
    let root: ShadowRoot | undefined;
    const attach = Element.prototype.attachShadow;
    vi.spyOn(Element.prototype, 'attachShadow').mockImplementation(function (this: Element, init: ShadowRootInit) {
      root = attach.call(this, init);
      return root;
    });
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const tracker = make({ debug: true, threshold: 15 }, { capture: false });
    tracker.track('add_to_cart');
    await tracker.flush();
    // The panel renders on a debounce: wait for its text, not for a fixed time.
    await vi.waitFor(() => expect(root?.textContent).toContain('stage: mql'), { timeout: 5000, interval: 20 });
    expect(Element.prototype.attachShadow).toHaveBeenCalledWith({ mode: 'closed' });
    expect(document.querySelector('[data-leadscore-panel]')).not.toBeNull();
    const text = root!.textContent!;
    expect(text).toContain('score 20');
    expect(text).toContain('stage: mql');
    expect(text).toContain('add_to_cart ×1');
    tracker.destroy();
    expect(document.querySelector('[data-leadscore-panel]')).toBeNull();
  });

  it('logs each signal with its rules and score change', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const tracker = make({ debug: true }, { capture: false, panel: false });
    tracker.track('add_to_cart');
    await tracker.flush();
    expect(info.mock.calls.some((call) => call[1] === 'add_to_cart' && String(call[4]).includes('-> 20'))).toBe(true);
  });
});
