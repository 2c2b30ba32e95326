import { hookAfter } from '../capture/dom';
import type { Guard } from '../util/guard';

/** What a consent platform says about storage: granted, denied, or nothing yet. */
export type ConsentAnswer = boolean | null;

interface TcData {
  gdprApplies?: boolean;
  eventStatus?: string;
  purpose?: { consents?: Record<string, boolean> };
}
type TcfApi = (command: string, version: number, callback: (data: TcData | null, success: boolean) => void) => void;

/**
 * Reads an IAB TCF v2.2 answer: storage needs purpose 1 ("store and/or access information on a
 * device"). `gdprApplies: false` means no consent is needed. While `gdprApplies` is still
 * undefined, or the CMP UI is showing, there is no answer yet.
 */
export function readTcf(data: TcData | null, success: boolean): ConsentAnswer {
  if (!success || !data) return null;
  if (data.gdprApplies === false) return true;
  if (data.gdprApplies !== true) return null;
  if (data.eventStatus !== 'tcloaded' && data.eventStatus !== 'useractioncomplete') return null;
  return data.purpose?.consents?.['1'] === true;
}

/**
 * Reads Google Consent Mode from dataLayer entries: `gtag('consent', 'default' | 'update',
 * { analytics_storage })`; the last entry that sets `analytics_storage` wins. Null without one.
 */
export function readConsentMode(entries: ArrayLike<unknown>): ConsentAnswer {
  let answer: ConsentAnswer = null;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as ArrayLike<unknown> | null;
    if (!entry || typeof entry !== 'object' || entry[0] !== 'consent') continue;
    const storage = (entry[2] as { analytics_storage?: unknown } | undefined)?.analytics_storage;
    if (storage === 'granted') answer = true;
    else if (storage === 'denied') answer = false;
  }
  return answer;
}

const win = (): { __tcfapi?: TcfApi; dataLayer?: unknown[] } => window as unknown as { __tcfapi?: TcfApi; dataLayer?: unknown[] };

/** True when the page has a consent platform we follow in `auto` mode. */
export const hasConsentPlatform = (): boolean =>
  typeof win().__tcfapi === 'function' || (Array.isArray(win().dataLayer) && readConsentMode(win().dataLayer!) !== null);

/**
 * Follows the page's consent platform (`auto` mode): TCF when present (it is the legal basis where
 * GDPR applies), else Google Consent Mode. Calls `onAnswer` with each new answer. A CMP that never
 * answers leaves the tracker in its no-storage mode; nothing waits on it.
 */
export function followConsent(onAnswer: (granted: boolean) => void, guard: Guard): () => void {
  let last: ConsentAnswer = null;
  const tell = (answer: ConsentAnswer): void => {
    if (answer === null || answer === last) return;
    last = answer;
    onAnswer(answer);
  };
  const tcf = win().__tcfapi;
  if (typeof tcf === 'function') {
    tcf('addEventListener', 2, guard((data: TcData | null, success: boolean) => tell(readTcf(data, success))));
    return () => undefined;
  }
  const layer = win().dataLayer;
  if (!Array.isArray(layer)) return () => undefined;
  tell(readConsentMode(layer));
  return hookAfter(layer, 'push', guard(() => tell(readConsentMode(layer))));
}
