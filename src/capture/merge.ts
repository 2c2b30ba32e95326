import type { Props } from '../types';

/**
 * How a trace of a user action relates to its outcome:
 * - `intent`: the visitor started it (clicked an add button, submitted an AJAX form); wait for the outcome.
 *   An intent after the previous action of the same item completed is a new action (a second add);
 * - `confirm`: it succeeded (2xx cart response, platform event, dataLayer push, declarative markup);
 * - `fail`: it failed (4xx, e.g. sold out): a pending intent is dropped;
 * - `done`: the page is navigating to the outcome (a form post or link): emit now, provisional for
 *   cart adds (the next page may show the store's error notice);
 * - `await`: the request answered, but this endpoint reports failure in its body (WooCommerce answers
 *   a refused add with 200): only the platform's own success event confirms, or the next page if
 *   the store navigates there;
 * - `support`: weak evidence of success (some same-origin request answered 2xx): confirms a pending
 *   intent, never creates an action by itself.
 */
export type TraceKind = 'intent' | 'confirm' | 'fail' | 'done' | 'await' | 'support';

export interface Trace {
  signal: string;
  props: Props;
  kind: TraceKind;
  /**
   * For `intent`: emit anyway if no outcome arrives before the deadline (a known platform control whose
   * outcome we may not see). The plain-store text fallback sets false: unconfirmed, it never counts.
   */
  trusted?: boolean;
}

export interface MergerOptions {
  /** `provisional`: a cart add whose outcome is the next page's to tell (see `done`). */
  emit: (signal: string, props: Props, provisional: boolean) => void;
  now: () => number;
  setTimer: (callback: () => void, ms: number) => unknown;
  clearTimer: (timer: unknown) => void;
}

/** How long an intent waits for its outcome (a slow AJAX add) before it is settled. */
export const INTENT_TIMEOUT_MS = 8000;
/** After an action is emitted, further traces of the same signal and item within this time are the same action. */
export const ABSORB_MS = 3000;
/**
 * Actions remembered at once (pending and recently emitted). Lookups scan them, so the bound keeps a
 * burst of thousands of distinct actions linear; a person does not start 16 actions in 3 seconds.
 */
export const MAX_ACTIONS = 16;

interface Action {
  signal: string;
  props: Props;
  trusted: boolean;
  /** Answered by a body-reporting endpoint: only a platform event or the next page decides. */
  awaiting: boolean;
  emittedAt?: number;
  timer?: unknown;
}

/** Adds are the action a store refuses visibly (sold out, options missing): see `done`. */
const PROVISIONAL_SIGNAL = 'add_to_cart';

/** Both known and different. */
const differ = (a: unknown, b: unknown): boolean => a !== undefined && b !== undefined && a !== b;
/**
 * Product identity for merging: two traces of different items are different actions. Named reads,
 * not a loop over key names: this runs for every remembered action on every click, and a keyed
 * read of alternating names (one of them usually missing) was most of the merger's time.
 */
const sameItem = (a: Props, b: Props): boolean => !differ(a.item_id, b.item_id) && !differ(a.variant, b.variant);

/**
 * The one de-duplication mechanism for automatic capture. Every detector (clicks, submits, network
 * entries, jQuery and DOM events, dataLayer pushes, markup) reports traces here; one user action
 * yields one signal however many traces it leaves, and only once it is known to have succeeded
 * (or cannot be known to have failed). Explicit `track()` calls never come through here.
 */
export function createActionMerger(options: MergerOptions) {
  let actions: Action[] = [];

  const fire = (action: Action, navigating = false): void => {
    if (action.emittedAt !== undefined) return;
    options.clearTimer(action.timer);
    action.emittedAt = options.now();
    options.emit(action.signal, { ...action.props }, navigating && action.signal === PROVISIONAL_SIGNAL);
  };

  const expired = (action: Action, time: number): boolean => action.emittedAt !== undefined && time - action.emittedAt > ABSORB_MS;
  /** Makes room: the oldest emitted action is forgotten; else the oldest intent is settled now. */
  const evict = (): void => {
    const index = actions.findIndex((action) => action.emittedAt !== undefined);
    const [oldest] = actions.splice(index < 0 ? 0 : index, 1);
    if (oldest && oldest.emittedAt === undefined) {
      options.clearTimer(oldest.timer);
      if (oldest.trusted) fire(oldest);
    }
  };

  return {
    observe(trace: Trace): void {
      // One pass over the remembered actions, on every click: the first pending and the first
      // emitted action of this signal and item, and whether any emitted one left its absorb window.
      const time = options.now();
      let pending: Action | undefined;
      let emitted: Action | undefined;
      let stale = false;
      for (const action of actions) {
        if (expired(action, time)) stale = true;
        else if (action.signal === trace.signal && sameItem(action.props, trace.props)) {
          if (action.emittedAt === undefined) pending ??= action;
          else emitted ??= action;
        }
      }
      if (stale) actions = actions.filter((action) => !expired(action, time));
      if (pending) Object.assign(pending.props, { ...trace.props, ...pending.props });
      if (trace.kind === 'fail') {
        if (pending) {
          options.clearTimer(pending.timer);
          actions = actions.filter((action) => action !== pending);
        }
        return;
      }
      if (pending) {
        if (trace.kind === 'await') {
          pending.trusted = false;
          pending.awaiting = true;
        } else if (trace.kind === 'intent') pending.trusted ||= trace.trusted === true;
        else if (trace.kind !== 'support' || !pending.awaiting) fire(pending, trace.kind === 'done');
        return;
      }
      if (trace.kind === 'support' || trace.kind === 'await') return;
      // A new click or submit after the last one completed is a new action (a second add a second
      // later), never a trace of the finished one.
      if (emitted && trace.kind !== 'intent') {
        Object.assign(emitted.props, { ...trace.props, ...emitted.props });
        return;
      }
      // Every field set from the start: one object shape keeps the per-click scan fast.
      const action: Action = { signal: trace.signal, props: { ...trace.props }, trusted: trace.trusted === true, awaiting: false, emittedAt: undefined, timer: undefined };
      if (actions.length >= MAX_ACTIONS) evict();
      actions.push(action);
      if (trace.kind === 'intent') {
        action.timer = options.setTimer(() => {
          if (action.trusted) fire(action);
          else actions = actions.filter((other) => other !== action);
        }, INTENT_TIMEOUT_MS);
      } else {
        fire(action, trace.kind === 'done');
      }
    },

    /**
     * The page is being left: trusted intents, and actions awaiting a body-reported outcome, are
     * emitted now, before the page goes; a cart add as provisional (the store may be navigating
     * to its error notice).
     */
    settle(): void {
      for (const action of actions) if (action.emittedAt === undefined && (action.trusted || action.awaiting)) fire(action, true);
    },

    /** Drops pending intents and timers (destroy). */
    stop(): void {
      for (const action of actions) options.clearTimer(action.timer);
      actions = [];
    },
  };
}

export type ActionMerger = ReturnType<typeof createActionMerger>;
