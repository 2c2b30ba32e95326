import type { Crossing, RuleHit } from '../engine/score';
import type { StoredBeacon } from '../transport/payload';
import type { Props, VisitorState } from '../types';

/** What `on('signal')` callbacks receive. */
export interface SignalEvent {
  name: string;
  props: Props;
  /** Points this signal added (after caps), by rule. */
  rules: RuleHit[];
  points: number;
  score: number;
}

export interface ScoreEvent {
  score: number;
  previous: number;
}

/** A stage reached: in the tab that qualified and in every other open tab that sees it. */
export interface QualifiedEvent extends Crossing {
  /** The beacon's idempotency id. */
  id: string;
  /** The beacon as queued (without its per-send fields `sentAt`, `offset`, `vitals`). */
  beacon: StoredBeacon;
}

export interface TrackerEvents {
  signal: SignalEvent;
  score: ScoreEvent;
  qualified: QualifiedEvent;
}

export interface Tracker {
  /** Records a signal; custom names are allowed. Props keep strings, finite numbers and booleans. */
  track(name: string, props?: Record<string, unknown>): void;
  /** Attaches traits the site chooses to share (e.g. email) to the visitor. */
  identify(traits: Record<string, unknown>): void;
  /** The visitor state, after pending signals are stored. */
  getState(): Promise<VisitorState>;
  /** Subscribes to `signal`, `score` or `qualified`; returns an unsubscribe function. */
  on<E extends keyof TrackerEvents>(event: E, callback: (payload: TrackerEvents[E]) => void): () => void;
  /** Grants (true) or revokes (false) consent; revoking deletes the visitor's data. */
  consent(granted: boolean): void;
  /** Deletes the visitor's data and stops all storage and sending in this browser, remembered. */
  optOut(): void;
  /** Forgets the visitor: deletes the record; the next signal starts a new visitor. */
  reset(): Promise<void>;
  /** Stores pending signals now. */
  flush(): Promise<void>;
  /** Stops listening and timers; pending signals are stored first. */
  destroy(): void;
}

/** Injected for tests; browsers use the defaults. */
export interface TrackerDeps {
  now?: () => number;
  random?: () => number;
  /** Skip automatic capture (page views); for tests and custom setups. */
  capture?: boolean;
  /** Skip the on-page debug panel in debug mode. */
  panel?: boolean;
  /**
   * Started inside `pagehide` (the script tag's deferred start, overtaken by the page leaving): what
   * the caller records synchronously after this returns is journaled before the page goes.
   */
  leaving?: boolean;
}
