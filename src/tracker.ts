import { installCapture } from './capture/index';
import { installPanel } from './debug/panel';
import { parseConfig, type Config, type ConfigProblem, type Options } from './config';
import { getOwn, newRecord, parseRecord, MAX_TRAITS, type VisitorRecord } from './engine/record';
import { applySignals, DAY_MS, scoreAt, toVisitorState, type Crossing, type RuleHit } from './engine/score';
import { followConsent, hasConsentPlatform } from './privacy/consent';
import { readStoreError } from './capture/page';
import { clearJournal, forgetJournal, takeJournal, takeProvisional, writeJournal, writeProvisional } from './store/journal';
import { createDelivery, type Delivery } from './transport/delivery';
import { addToOutbox } from './transport/outbox';
import { DEFAULT_RETRY } from './transport/retry';
import { readAttribution, toSafeUrl, toStoredBeacon, type StoredBeacon } from './transport/payload';
import { watchVitals } from './transport/vitals';
import { createVisitorStore, type VisitorStore } from './store/visitor';
import type { Props, Signal, VisitorState } from './types';
import { hasDom, monotonic, nextTask, randomId, readAutomation, readPageUrl } from './util/env';
import { guard, onGuardError } from './util/guard';
import { toProps, toSignalName } from './util/sanitize';

export const VERSION = '0.1.0';

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

/** Remembers an opt-out with nothing but this key: no id, no time. */
export const OPT_OUT_KEY = 'leadscore:optout';
/** Signals kept in memory while storage is not allowed, replayed when consent arrives. */
const MAX_MEMORY_SIGNALS = 200;
/**
 * Signals per transaction. The engine costs ~6 µs a signal and a transaction ~3 ms at full speed,
 * so 500 stay well under a long task with 4× CPU throttling (npm run bench).
 */
export const MAX_BATCH = 500;
/** A signal is stored this long after it happened, so a burst of signals is one transaction. */
const WRITE_DELAY_MS = 50;
/**
 * While signals keep coming, transactions start at most this often: each costs the main thread
 * ~3 ms however few signals it carries (npm run bench). What waits is journaled if the page is left.
 */
const WRITE_INTERVAL_MS = 250;
/**
 * The first write waits this long after the start. It makes the page's first localStorage access
 * (opt-out marker, journal): a synchronous load of the site's storage that measured 1-7 ms (median)
 * but up to 255 ms while the page was loading, and under 9 ms a second later (npm run bench, LoAF).
 * Leaving the page before then journals the signals; flush() and getState() do not wait.
 */
const FIRST_WRITE_MS = 1000;
/**
 * A cart add posted with a navigation is provisional: the page it leads to says whether the store
 * refused it. That page decides this long after its load (Magento renders its messages late); a
 * page that was not left decides this long after the add.
 */
const PROVISIONAL_MS = 1000;
const PROVISIONAL_STAY_MS = 10_000;

function readOptOut(): boolean {
  try {
    return localStorage.getItem(OPT_OUT_KEY) === '1';
  } catch {
    return false;
  }
}

function readPrivacySignal(): boolean {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  const dnt = nav.doNotTrack ?? (window as Window & { doNotTrack?: string }).doNotTrack;
  return nav.globalPrivacyControl === true || dnt === '1' || dnt === 'yes';
}

function reportProblems(problems: ConfigProblem[], debug: boolean): void {
  const fatal = problems.filter((problem) => problem.fatal).map((problem) => problem.message);
  // Fatal problems get one concise warning even outside debug mode: the tracker is off the network.
  if (fatal.length) console.warn('[leadscore] not sending: ' + fatal.join('; '));
  if (__DEBUG__ && debug) for (const problem of problems) if (!problem.fatal) console.info('[leadscore] config: ' + problem.message);
}

const noop = (): void => undefined;
const emptyState = (id: string): VisitorState => ({
  visitorId: id,
  score: 0,
  stage: null,
  signals: {},
  rules: {},
  visits: 0,
  firstSeen: 0,
  lastSeen: 0,
  qualified: {},
  traits: {},
  storage: 'memory',
});

/** A tracker that does nothing: server rendering, and pages where tracking is off. */
export function createInertTracker(): Tracker {
  const id = '';
  return {
    track: noop,
    identify: noop,
    getState: () => Promise.resolve(emptyState(id)),
    on: () => noop,
    consent: noop,
    optOut: noop,
    reset: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    destroy: noop,
  };
}

/**
 * Creates a tracker. Safe to call during server rendering (returns an inert tracker) and never
 * throws: bad options are reported on the console and the tracker degrades.
 */
export function createTracker(options: Options = {}, deps: TrackerDeps = {}): Tracker {
  if (!hasDom()) return createInertTracker();
  const { config, problems } = parseConfig(options, { pageUrl: readPageUrl() });
  return startTracker(config, problems, deps);
}

/** Starts a tracker from an already parsed configuration (the script tag parses its own). */
export function startTracker(config: Config, problems: ConfigProblem[], deps: TrackerDeps = {}): Tracker {
  const now = deps.now ?? Date.now;
  const { model, debug } = config;
  // Every log() call site is behind __DEBUG__, so the production builds carry none of the text.
  const log = debug ? (...args: unknown[]) => console.info('[leadscore]', ...args) : noop;
  reportProblems(problems, debug);
  if (__DEBUG__ && debug) onGuardError((error) => console.warn('[leadscore] internal error (contained):', error));

  const automation = !config.allowAutomation && readAutomation();
  const privacySignal = config.respectPrivacySignals && readPrivacySignal();
  // `auto` with a consent platform on the page starts without storage until the platform answers.
  let consented = config.consent === 'granted' || (config.consent === 'auto' && !hasConsentPlatform());
  // Read with the first write, not while the page is loading: the first localStorage access is a
  // synchronous read from disk (1-10 ms measured). Before consent nothing is read at all.
  let optedOut = false;
  let storageStarted = false;
  if (automation) __DEBUG__ && log('automation detected: not scoring (set data-allow-automation to allow)');
  if (privacySignal) __DEBUG__ && log('Global Privacy Control / Do Not Track: scoring in memory only');
  if (!config.endpoint) __DEBUG__ && log('no endpoint: scoring locally, nothing will be sent');

  const canPersist = (): boolean => consented && !privacySignal && !optedOut;
  /** The deferred part of start-up: opt-out marker and journal replay, once storage is allowed. */
  function startStorage(): void {
    if (storageStarted || !consented || privacySignal) return;
    storageStarted = true;
    optedOut = readOptOut();
    if (optedOut) {
      __DEBUG__ && log('visitor opted out: not scoring');
      pendingSignals = [];
      pendingTraits = {};
      store = openStore();
      return;
    }
    const replay = takeJournal();
    if (replay.length) {
      __DEBUG__ && log(`replaying ${replay.length} signal(s) journaled by a page that was left`);
      pendingSignals.unshift(...replay);
    }
    const handed = takeProvisional();
    if (handed.length) {
      provisional.push(...handed);
      // Decided once this page has rendered what the store says (its load, then a moment).
      const decideSoon = guard(() => void setTimeout(guard(decideProvisional), PROVISIONAL_MS));
      if (document.readyState === 'complete') decideSoon();
      else window.addEventListener('load', decideSoon, { once: true, passive: true });
    }
  }
  /**
   * Cart adds this page could not confirm (see PROVISIONAL_MS): committed unless this page shows the
   * store's error notice.
   */
  let provisional: Signal[] = [];
  function decideProvisional(): void {
    if (!provisional.length) return;
    const refused = readStoreError();
    __DEBUG__ && log(`${provisional.length} cart add(s) posted by the last page ${refused ? 'refused by the store: not counted' : 'accepted'}`);
    if (!refused) pendingSignals.push(...provisional);
    provisional = [];
    if (!refused) schedule();
  }
  const canSend = (): boolean => !!config.endpoint && canPersist() && !automation;
  const random = deps.random ?? Math.random;
  const openStore = (): VisitorStore =>
    createVisitorStore({
      persist: canPersist(),
      onFallback: (reason) => void (__DEBUG__ && log('IndexedDB unavailable, continuing in memory:', reason)),
    });
  let store = openStore();

  const listeners: { [E in keyof TrackerEvents]: Set<(payload: TrackerEvents[E]) => void> } = {
    signal: new Set(),
    score: new Set(),
    qualified: new Set(),
  };
  const emit = <E extends keyof TrackerEvents>(event: E, payload: TrackerEvents[E]): void => {
    for (const callback of [...listeners[event]]) callback(payload);
  };

  let pendingSignals: Signal[] = [];
  /** The batch being written: journaled too if the page is left before it commits. */
  let inFlight: Signal[] = [];
  let journaled = false;
  let pendingTraits: Props = {};
  // The landing page as the page started (a route may change before the first write); parsed only
  // for a new visitor's record (URL parsing was a tenth of the tracker's start-up task at 4x CPU).
  const landing = location.href;
  const pageId = randomId().slice(0, 8);
  let sequence = 0;
  let readVitals: () => ReturnType<ReturnType<typeof watchVitals>> = () => undefined;
  /** The latest committed record this page knows (the synchronous leave path reads it). */
  let latest: VisitorRecord | null = null;
  /** The record the write in flight is committing. */
  let uncommitted: VisitorRecord | null = null;
  /** Qualifications this tab has seen (stage -> n), to tell other tabs' new ones. */
  const known = new Map<string, number>();
  let knownReady = false;
  const qualifiedAt = new Map<string, number>();
  let channel: BroadcastChannel | null = null;
  // Claims are per page: a claim left by a page that closed mid-send is taken over after its TTL.
  const tab = pageId;
  /** This page's signals while storage is not allowed, for replay when consent arrives. */
  let memorySignals: Signal[] = [];
  let fallbackId = randomId();
  let lastScore = 0;
  let destroyed = false;
  let scheduled: ReturnType<typeof setTimeout> | undefined;
  // As if a write had happened so that the next one may start FIRST_WRITE_MS from now.
  let lastWrite = monotonic() + FIRST_WRITE_MS - WRITE_INTERVAL_MS;
  let chain: Promise<void> = Promise.resolve();

  const revive = (stored: unknown): VisitorRecord => {
    const record = parseRecord(stored);
    const time = now();
    if (record && time - record.lastSeen <= config.retentionDays * DAY_MS) return record;
    if (record) __DEBUG__ && log('visitor record past retention: deleted');
    else if (stored !== undefined) __DEBUG__ && log('stored visitor record invalid: discarded');
    const fresh = newRecord(fallbackId, time);
    fresh.attribution = readAttribution(landing, document.referrer, config.urlParams);
    return fresh;
  };

  const beaconFor = (record: VisitorRecord, crossing: Crossing): StoredBeacon =>
    (record.outbox.find((entry) => entry.beacon.stage === crossing.stage && entry.beacon.n === crossing.n)?.beacon as unknown as StoredBeacon) ??
    toStoredBeacon(toVisitorState(record, model, { now: crossing.at, storage: store.mode }), crossing, {
      site: config.site,
      page: toSafeUrl(location.href, config.urlParams),
      attribution: record.attribution,
      lib: 'leadscore@' + VERSION,
    });

  /** Tells subscribers about stages other tabs reached since this tab last looked. */
  function observeStages(record: VisitorRecord): void {
    for (const stage of model.stages) {
      const mark = getOwn(record.stages, stage.name);
      if (!mark) continue;
      if (knownReady && mark.n > (known.get(stage.name) ?? 0)) {
        const crossing: Crossing = { stage: stage.name, threshold: stage.threshold, score: scoreAt(record, model, mark.at), at: mark.at, n: mark.n };
        const beacon = beaconFor(record, crossing);
        emit('qualified', { ...crossing, id: beacon.id, beacon });
      }
      known.set(stage.name, mark.n);
    }
    knownReady = true;
  }

  /** Runs `change` on the record in one transaction (the beacon outbox's claims and settlements). */
  const mutate = async (change: (record: VisitorRecord) => void): Promise<VisitorRecord> => {
    const committed = (await store.update((stored) => {
      const record = revive(stored);
      change(record);
      return record;
    })) as VisitorRecord;
    latest = committed;
    observeStages(committed);
    return committed;
  };

  const delivery: Delivery | null = config.endpoint
    ? createDelivery({
        endpoint: config.endpoint,
        tab,
        page: pageId,
        mutate,
        // A page left between a crossing's commit and this page hearing of it still sends it: the
        // record its write is committing (the id is the same whoever sends it).
        latest: () => uncommitted ?? latest,
        now,
        random,
        monotonic,
        qualifiedAt,
        vitals: () => readVitals(),
        guard,
        log,
        policy: { ...DEFAULT_RETRY, maxAttempts: config.retryMaxAttempts, maxAgeMs: config.retryMaxAgeDays * DAY_MS },
      })
    : null;
  const deliver = (force = false): Promise<void> =>
    delivery && canSend() ? delivery.deliver(force) : Promise.resolve();

  const openChannel = (): void => {
    if (channel || typeof BroadcastChannel !== 'function' || !canPersist()) return;
    // Only to hear about other tabs' qualifications sooner; correctness never depends on it.
    channel = new BroadcastChannel('leadscore');
    channel.onmessage = guard(() => void refresh());
  };
  const closeChannel = (): void => {
    // An open BroadcastChannel can keep the page out of the back/forward cache (whatwg/html#7253).
    channel?.close();
    channel = null;
  };
  const refresh = (): Promise<void> =>
    (chain = chain.then(
      guard(async () => {
        const record = parseRecord(await store.read());
        if (record) {
          latest = record;
          observeStages(record);
        }
      }),
    ));

  /**
   * Applies the pending signals and traits in one transaction, then tells subscribers. `drain`
   * (an explicit flush, the page being hidden or left): until nothing is pending. Otherwise (the
   * write timer): only a backlog of full batches goes on at once; signals that arrived while the
   * write was in flight wait for the next timer, so a busy page gets one write per interval.
   */
  async function runBatch(drain: boolean): Promise<void> {
    startStorage();
    if (!pendingSignals.length && !Object.keys(pendingTraits).length) return;
    lastWrite = monotonic();
    // A huge burst is written in chunks, each its own short task: no long task on the page.
    const signals = (inFlight = pendingSignals.slice(0, MAX_BATCH));
    const traits = pendingTraits;
    pendingSignals = pendingSignals.slice(MAX_BATCH);
    pendingTraits = {};
    let result!: ReturnType<typeof applySignals>;
    let beacons: StoredBeacon[] = [];
    await store.update((stored) => {
      const base = revive(stored);
      for (const key of Object.keys(traits)) {
        if (getOwn(base.traits, key) !== undefined || Object.keys(base.traits).length < MAX_TRAITS) base.traits[key] = traits[key]!;
      }
      result = applySignals(base, signals, model);
      // The crossing, its beacon and this tab's claim on it commit together: one tab sends.
      beacons = result.crossed.map((crossing) => {
        const beacon = beaconFor(result.record, crossing);
        if (canSend()) addToOutbox(result.record, beacon, { now: now(), tab, page: pageId });
        return beacon;
      });
      return (uncommitted = result.record);
    });
    uncommitted = null;
    inFlight = [];
    latest = result.record;
    if (journaled && store.mode === 'idb') forgetJournal(new Set(signals.map((signal) => signal.id!)));
    fallbackId = result.record.id;
    // Per-signal payloads only for someone to hear them: a burst of 1 000 signals is 1 000 objects.
    if (listeners.signal.size || (__DEBUG__ && debug)) {
      for (const applied of result.applied) {
        const points = applied.hits.reduce((sum, hit) => sum + hit.points, 0);
        __DEBUG__ && log(`${applied.signal.name}`, applied.signal.props, applied.hits.length ? applied.hits : 'no rule', `${round(applied.before)} -> ${round(applied.after)}`);
        emit('signal', { name: applied.signal.name, props: applied.signal.props, rules: applied.hits, points, score: applied.after });
      }
    }
    const score = round(scoreAt(result.record, model, now()));
    if (score !== lastScore) emit('score', { score, previous: lastScore });
    lastScore = score;
    result.crossed.forEach((crossing, i) => {
      __DEBUG__ && log(`stage ${crossing.stage} reached at ${round(crossing.score)} (threshold ${crossing.threshold})`);
      const beacon = beacons[i]!;
      qualifiedAt.set(beacon.id, monotonic());
      known.set(crossing.stage, crossing.n);
      emit('qualified', { ...crossing, id: beacon.id, beacon });
    });
    observeStages(result.record);
    if (result.crossed.length) {
      try {
        channel?.postMessage(1);
      } catch {
        // Another tab hears of it on its next write or visit instead.
      }
    }
    if (result.record.outbox.length) void deliver();
    if (pendingSignals.length >= (drain ? 1 : MAX_BATCH)) {
      // The next chunk in a new task: nextTask, not setTimeout, which hidden tabs throttle to once a second.
      await new Promise<void>((resolve) => nextTask(resolve));
      await runBatch(drain);
    } else if (pendingSignals.length) {
      // What is left of a timed write waits for the next one (traits schedule their own).
      schedule();
    }
  }

  const flush = (drain = true): Promise<void> => {
    clearTimeout(scheduled);
    scheduled = undefined;
    return (chain = chain.then(() => started).then(guard(() => runBatch(drain))));
  };
  const schedule = (): void => {
    // Listeners only record; storing waits a moment so a burst of signals is one transaction.
    scheduled ??= setTimeout(guard(() => flush(false)), Math.max(WRITE_DELAY_MS, lastWrite + WRITE_INTERVAL_MS - monotonic()));
  };

  const record = (name: string, props: Props, navigating?: boolean): void => {
    if (destroyed || automation || optedOut) return;
    const signal: Signal = { name, props, time: now(), id: pageId + (sequence++).toString(36) };
    if (navigating === true && canPersist()) {
      // The next page tells whether the store took it; if this page stays, it tells.
      provisional.push(signal);
      setTimeout(guard(decideProvisional), PROVISIONAL_STAY_MS);
      return;
    }
    pendingSignals.push(signal);
    if (!canPersist() && memorySignals.length < MAX_MEMORY_SIGNALS) memorySignals.push(signal);
    schedule();
  };

  const addTraits = (traits: Props): void => {
    if (destroyed || automation || optedOut) return;
    Object.assign(pendingTraits, traits);
    schedule();
  };
  let capture: ReturnType<typeof installCapture> | null = null;
  // Capture, page-experience metrics and the tab channel start after this task, one step per task
  // (each detector, web-vitals, the channel): the page's parsing and scripts go first, and no
  // start-up task of ours is long on a slow phone (npm run bench). flush() waits for all of it.
  const steps: (() => void)[] = [
    () => {
      if (deps.capture !== false) {
        capture = installCapture({
          emit: guard(record),
          hashChange: config.hashChange,
          onEmail: config.captureEmail ? (email) => addTraits({ email }) : undefined,
          captureSearch: config.captureSearch,
          guard,
          defer: (step) => void steps.push(step),
        });
      }
      if (__WEB_VITALS__) steps.push(() => (readVitals = watchVitals(guard, (step) => void steps.push(step))));
      steps.push(openChannel);
    },
  ];
  const started = new Promise<void>((resolve) => {
    const next = guard((): void => {
      const step = steps.shift();
      if (!step) return resolve();
      if (!destroyed) guard(step)();
      nextTask(next);
    });
    nextTask(next);
  });
  /**
   * Hidden or leaving: journal what is not committed yet, synchronously, and start no IndexedDB
   * transaction. A transaction started as the page goes can outlive it: in WebKit one started in
   * `pagehide` of a page entering the back/forward cache blocked every IndexedDB read of the next
   * pages (seen in WebKitGTK 2.50, also without this library). The next page replays the journal;
   * a page that is only hidden writes on its timer as usual.
   */
  const persistNow = (): void => {
    startStorage();
    if (canPersist()) writeProvisional(provisional);
    if (canPersist() && (inFlight.length || pendingSignals.length)) {
      writeJournal([...inFlight, ...pendingSignals]);
      journaled = true;
    }
  };
  const onHide = guard((): void => {
    if (document.visibilityState === 'hidden') {
      persistNow();
      if (canSend()) delivery?.leave();
    } else {
      // Still here: this page keeps its provisional adds (and decides them itself).
      if (canPersist()) writeProvisional([]);
      void refresh().then(() => deliver());
    }
  });
  const onPageHide = guard(() => {
    // A form post or link that is taking the visitor away is recorded before the page goes.
    capture?.settle();
    persistNow();
    if (canSend()) delivery?.leave();
    closeChannel();
  });
  const onPageShow = guard((event: PageTransitionEvent) => {
    if (!event.persisted) return;
    // Restored from the back/forward cache: the page that followed decided this page's provisional adds.
    provisional = [];
    // Restored from the back/forward cache: other tabs may have moved on.
    openChannel();
    void refresh().then(() => deliver());
  });
  const onOnline = guard(() => void deliver());
  const options = { capture: true, passive: true } as const;
  document.addEventListener('visibilitychange', onHide, options);
  window.addEventListener('pagehide', onPageHide, options);
  window.addEventListener('pageshow', onPageShow, options);
  window.addEventListener('online', onOnline, options);
  if (deps.leaving) void Promise.resolve().then(onPageHide);

  async function forget(): Promise<void> {
    pendingSignals = [];
    pendingTraits = {};
    memorySignals = [];
    provisional = [];
    clearJournal();
    await chain;
    await store.clear();
    latest = null;
    known.clear();
    fallbackId = randomId();
    lastScore = 0;
  }

  function setConsent(granted: boolean): void {
    if (granted === true && !consented) {
      consented = true;
      startStorage();
      if (!canPersist()) return;
      // Replay this page's in-memory signals into the stored record.
      store = openStore();
      pendingSignals = [...memorySignals, ...pendingSignals.filter((signal) => !memorySignals.includes(signal))];
      memorySignals = [];
      __DEBUG__ && log('consent granted: storing');
      openChannel();
      schedule();
    } else if (granted === false && consented) {
      consented = false;
      __DEBUG__ && log('consent revoked: deleting visitor data');
      const old = store;
      store = openStore();
      clearJournal();
      closeChannel();
      latest = null;
      chain = chain.then(() => old.clear());
    }
  }
  const stopConsent = config.consent === 'auto' ? followConsent(guard(setConsent), guard) : noop;
  if (__DEBUG__ && !consented) log(`waiting for consent (${config.consent === 'required' ? 'consent: required' : 'the consent platform'}): memory only`);

  const tracker: Tracker = {
    track: guard((name: string, props?: Record<string, unknown>) => {
      const signalName = toSignalName(name);
      if (!signalName) return void (__DEBUG__ && log('track() needs a signal name, got', name));
      record(signalName, toProps(props));
    }),
    identify: guard((traits: Record<string, unknown>) => {
      const clean = toProps(traits, MAX_TRAITS);
      if (!Object.keys(clean).length) return void (__DEBUG__ && log('identify() needs an object of traits, got', traits));
      addTraits(clean);
    }),
    getState: guard(async () => {
      await flush();
      const stored = await store.read();
      return toVisitorState(revive(stored), model, {
        now: now(),
        storage: store.mode,
      });
    }, Promise.resolve(emptyState(''))),
    on: guard(<E extends keyof TrackerEvents>(event: E, callback: (payload: TrackerEvents[E]) => void) => {
      const set = listeners[event] as Set<typeof callback> | undefined;
      if (!set || typeof callback !== 'function') {
        __DEBUG__ && log('on() needs "signal", "score" or "qualified" and a function');
        return noop;
      }
      // Guarded once here, not on every event: emit() is on the per-signal path.
      const guarded = guard(callback);
      set.add(guarded);
      return () => void set.delete(guarded);
    }, noop),
    consent: guard((granted: boolean) => setConsent(granted)),

    optOut: guard(() => {
      optedOut = true;
      try {
        localStorage.setItem(OPT_OUT_KEY, '1');
      } catch {
        // Without localStorage the opt-out lasts for this page only; the data is deleted anyway.
      }
      __DEBUG__ && log('opted out: deleting visitor data');
      void forget();
    }),
    reset: guard(forget, Promise.resolve()),
    flush: guard(() => {
      const before = latest;
      // A write made by this flush read every tab's outbox (each write or read replaces `latest`):
      // if it held nothing, there is nothing to send and no claim to take, so no second transaction.
      // (Entries queued since are their tab's.)
      return flush().then(() => (latest !== before && !latest?.outbox.length ? undefined : deliver(true)));
    }, Promise.resolve()),
    destroy: guard(() => {
      if (destroyed) return;
      void flush();
      destroyed = true;
      capture?.stop();
      stopConsent();
      delivery?.stop();
      closeChannel();
      document.removeEventListener('visibilitychange', onHide, options);
      window.removeEventListener('pagehide', onPageHide, options);
      window.removeEventListener('pageshow', onPageShow, options);
      window.removeEventListener('online', onOnline, options);
    }),
  };
  if (__DEBUG__ && debug && deps.panel !== false) {
    const removePanel = installPanel(tracker, guard);
    const destroy = tracker.destroy;
    tracker.destroy = guard(() => {
      removePanel();
      destroy();
    });
  }
  return tracker;
}

const round = (value: number): number => Math.round(value * 100) / 100;
