import type { ConsentMode } from '../config';

export interface GateOptions {
  consent: ConsentMode;
  respectPrivacySignals: boolean;
  allowAutomation: boolean;
  endpoint: string | null;
  /** A consent platform (TCF, Consent Mode) is on the page: `auto` waits for its answer. */
  consentPlatform: boolean;
}

/** What the gate reads from the browser; injected so the gate is a plain unit. */
export interface GateReads {
  automation: () => boolean;
  privacySignal: () => boolean;
  optOut: () => boolean;
}

/** Global Privacy Control or Do Not Track. */
export function readPrivacySignal(): boolean {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  const dnt = nav.doNotTrack ?? (window as Window & { doNotTrack?: string }).doNotTrack;
  return nav.globalPrivacyControl === true || dnt === '1' || dnt === 'yes';
}

/**
 * The one place that answers "may we record, store, send?" from consent, Global Privacy Control /
 * Do Not Track, the visitor's opt-out and automation. The stored opt-out is read late (the first
 * localStorage access is a synchronous read from disk) and never before consent.
 */
export function createGate(options: GateOptions, reads: GateReads) {
  const automation = !options.allowAutomation && reads.automation();
  const privacySignal = options.respectPrivacySignals && reads.privacySignal();
  let consented = options.consent === 'granted' || (options.consent === 'auto' && !options.consentPlatform);
  let optedOut = false;
  let optOutRead = false;
  const canPersist = (): boolean => consented && !privacySignal && !optedOut;
  return {
    automation,
    privacySignal,
    consented: (): boolean => consented,
    optedOut: (): boolean => optedOut,
    /** Signals are recorded at all (in memory at least). */
    canRecord: (): boolean => !automation && !optedOut,
    /** Storage may be written (IndexedDB, the journal). */
    canPersist,
    /** Beacons may go out. */
    canSend: (): boolean => !!options.endpoint && canPersist() && !automation,
    /** Storage may be read (consent given and no privacy signal), whatever the opt-out says. */
    mayReadStorage: (): boolean => consented && !privacySignal,
    /** Reads the stored opt-out once storage may be read; true when the visitor opted out. */
    readStoredOptOut(): boolean {
      if (!optOutRead && consented && !privacySignal) {
        optOutRead = true;
        optedOut ||= reads.optOut();
      }
      return optedOut;
    },
    /** Consent given (true) or withdrawn (false); returns whether anything changed. */
    setConsent(granted: boolean): boolean {
      if (granted === consented) return false;
      consented = granted;
      return true;
    },
    optOut(): void {
      optedOut = true;
    },
  };
}

export type Gate = ReturnType<typeof createGate>;
