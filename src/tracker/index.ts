import { installCapture } from '../capture/index';
import { readStoreError } from '../capture/page';
import { installPanel } from '../debug/panel';
import { parseConfig, type Config, type ConfigProblem, type Options } from '../config';
import { getOwn, newRecord, parseRecord, MAX_TRAITS, type VisitorRecord } from '../engine/record';
import { applySignals, DAY_MS, round2, scoreAt, toVisitorState, type Crossing } from '../engine/score';
import { followConsent, hasConsentPlatform } from '../privacy/consent';
import { createGate, readPrivacySignal } from '../privacy/gate';
import { clearJournal, forgetJournal, takeJournal, takeProvisional, writeJournal, writeProvisional } from '../store/journal';
import { readOptOut, writeOptOut } from '../store/optout';
import { createVisitorStore, type VisitorStore } from '../store/visitor';
import { createDelivery, type Delivery } from '../transport/delivery';
import { addToOutbox } from '../transport/outbox';
import { DEFAULT_RETRY } from '../transport/retry';
import { planEvents, startHearing, toCrossingEvent } from '../transport/journey';
import { beaconId, readAttribution, toSafeUrl, type StoredBeacon, type StoredEvent } from '../transport/payload';
import { watchVitals } from '../transport/vitals';
import type { Props, Signal } from '../types';
import { hasDom, monotonic, nextTask, randomId, readAutomation, readPageUrl } from '../util/env';
import { guard, onGuardError } from '../util/guard';
import { toProps, toSignalName } from '../util/sanitize';
import { noteInterest } from '../engine/interest';
import { announce } from './announce';
import { createInertTracker, emptyState, noop } from './inert';
import { onLifecycle, runSteps } from './lifecycle';
import { createRecords } from './records';
import { createStages } from './stages';
import type { Tracker, TrackerDeps, TrackerEvents } from './types';
import { createWriter } from './writer';

export { createInertTracker } from './inert';
export { MAX_BATCH } from './writer';
export { OPT_OUT_KEY } from '../store/optout';
export type { QualifiedEvent, ScoreEvent, SignalEvent, Tracker, TrackerDeps, TrackerEvents } from './types';

export { VERSION } from './version';
import { VERSION } from './version';

/** Signals kept in memory while storage is not allowed, replayed when consent arrives. */
const MAX_MEMORY_SIGNALS = 200;
/**
 * A cart add posted with a navigation is provisional: the page it leads to says whether the store
 * refused it. That page decides this long after its load (Magento renders its messages late); a
 * page that was not left decides this long after the add.
 */
const PROVISIONAL_MS = 1000;
const PROVISIONAL_STAY_MS = 10_000;

function reportProblems(problems: ConfigProblem[], debug: boolean): void {
  const fatal = problems.filter((problem) => problem.fatal).map((problem) => problem.message);
  // Fatal problems get one concise warning even outside debug mode: the tracker is off the network.
  if (fatal.length) console.warn('[leadscore] not sending: ' + fatal.join('; '));
  if (__DEBUG__ && debug) for (const problem of problems) if (!problem.fatal) console.info('[leadscore] config: ' + problem.message);
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

/**
 * Starts a tracker from an already parsed configuration (the script tag parses its own). The
 * composition root: capture -> writer (engine, store) -> stages -> delivery, behind the privacy gate.
 */
export function startTracker(config: Config, problems: ConfigProblem[], deps: TrackerDeps = {}): Tracker {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const { model, debug } = config;
  // Every log() call site is behind __DEBUG__, so the production builds carry none of the text.
  const log = debug ? (...args: unknown[]) => console.info('[leadscore]', ...args) : noop;
  reportProblems(problems, debug);
  if (__DEBUG__ && debug) onGuardError((error) => console.warn('[leadscore] internal error (contained):', error));

  const gate = createGate(
    { consent: config.consent, respectPrivacySignals: config.respectPrivacySignals, allowAutomation: config.allowAutomation, endpoint: config.endpoint, consentPlatform: hasConsentPlatform() },
    { automation: readAutomation, privacySignal: readPrivacySignal, optOut: readOptOut },
  );
  if (gate.automation) __DEBUG__ && log('automation detected: not scoring (set data-allow-automation to allow)');
  if (gate.privacySignal) __DEBUG__ && log('Global Privacy Control / Do Not Track: scoring in memory only');
  if (!config.endpoint) __DEBUG__ && log('no endpoint: scoring locally, nothing will be sent');

  const openStore = (): VisitorStore =>
    createVisitorStore({
      persist: gate.canPersist(),
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

  // The landing page as the page started (a route may change before the first write); parsed only
  // for a new visitor's record.
  const landing = location.href;
  // Claims are per page: a claim its page no longer renews is taken over (transport/outbox.ts).
  const pageId = randomId().slice(0, 8);
  const tab = pageId;
  let sequence = 0;
  let readVitals: () => ReturnType<ReturnType<typeof watchVitals>> = () => undefined;
  /** This page's signals while storage is not allowed, for replay when consent arrives. */
  let memorySignals: Signal[] = [];
  /** Cart adds whose outcome the next page (or this one, later) tells: see PROVISIONAL_MS. */
  let provisional: Signal[] = [];
  let fallbackId = randomId();
  let lastScore = 0;
  let destroyed = false;
  let storageStarted = false;

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

  const journey = (time: number) => ({
    model,
    updates: config.updates,
    updateMinPoints: config.updateMinPoints,
    identityTraits: config.identityTraits,
    now: time,
    context: { site: config.site, page: toSafeUrl(location.href, config.urlParams), lib: 'leadscore@' + VERSION },
  });
  /** A crossing's event: the queued one if any (another tab's), else built from the record. */
  const beaconFor = (record: VisitorRecord, crossing: Crossing): StoredBeacon =>
    record.queue.find((entry) => entry.id === beaconId(record.id, crossing.stage, crossing.n))?.beacon ??
    toCrossingEvent(record, crossing, journey(crossing.at));

  const stages = createStages({ model, beaconFor, emit: (event) => emit('qualified', event), monotonic, guard });

  const records = createRecords({ store: () => store, revive, onSeen: stages.observe });

  const delivery: Delivery | null = config.endpoint
    ? createDelivery({
        endpoint: config.endpoint,
        tab,
        page: pageId,
        // latest() includes a record a write is committing: a page left between a crossing's commit
        // and hearing of it still sends it (the id is the same whoever sends it).
        records,
        clock: { now, monotonic, random },
        qualifiedAt: stages.qualifiedAt,
        vitals: () => readVitals(),
        log,
        policy: { ...DEFAULT_RETRY, maxAttempts: config.retryMaxAttempts, maxAgeMs: config.retryMaxAgeDays * DAY_MS },
      })
    : null;
  const deliver = (force = false): Promise<void> => (delivery && gate.canSend() ? delivery.deliver(force) : Promise.resolve());

  /**
   * One batch in one transaction: traits merged, signals scored, crossings queued with their
   * beacon and this tab's claim (one tab sends), then subscribers told. Resolves to whether the
   * batch reached IndexedDB.
   */
  async function write(signals: Signal[], traits: Props): Promise<boolean> {
    let result!: ReturnType<typeof applySignals>;
    let events: StoredEvent[] = [];
    await records.update(
      (base) => {
        const plan = journey(now());
        // What the record held before this write counts as told (a record from before lead events).
        startHearing(base, plan);
        for (const key of Object.keys(traits)) {
          if (getOwn(base.traits, key) !== undefined || Object.keys(base.traits).length < MAX_TRAITS) base.traits[key] = traits[key]!;
        }
        result = applySignals(base, signals, model);
        for (const applied of result.applied) noteInterest(result.record.interest, applied.signal.name, applied.signal.props);
        events = planEvents(result.record, result.crossed, result.applied, plan);
        if (gate.canSend()) for (const event of events) addToOutbox(result.record, event, { now: plan.now, tab, page: pageId });
        return result.record;
      },
      // This tab's crossings are told first (stages.crossed), then the record is seen.
      { seen: false },
    );
    fallbackId = result.record.id;
    // Per-signal payloads only for someone to hear them: a burst of 1 000 signals is 1 000 objects.
    if (listeners.signal.size || (__DEBUG__ && debug)) {
      for (const applied of result.applied) {
        const points = applied.hits.reduce((sum, hit) => sum + hit.points, 0);
        __DEBUG__ && log(`${applied.signal.name}`, applied.signal.props, applied.hits.length ? applied.hits : 'no rule', `${round2(applied.before)} -> ${round2(applied.after)}`);
        emit('signal', { name: applied.signal.name, props: applied.signal.props, rules: applied.hits, points, score: applied.after });
      }
    }
    const score = round2(scoreAt(result.record, model, now()));
    if (score !== lastScore) emit('score', { score, previous: lastScore });
    lastScore = score;
    if (__DEBUG__) for (const crossing of result.crossed) log(`stage ${crossing.stage} reached at ${round2(crossing.score)} (threshold ${crossing.threshold})`);
    stages.crossed(
      result.crossed,
      result.crossed.map((crossing) => events.find((event) => event.id === beaconId(result.record.id, crossing.stage, crossing.n)) ?? beaconFor(result.record, crossing)),
      result.record,
    );
    // Each on its own guard: a page's broken dataLayer.push never holds up delivery.
    if (gate.canPersist()) for (const event of events) guard(announce)(event, config.dataLayer);
    if (result.record.queue.length) void deliver();
    return store.mode === 'idb';
  }

  const steps: (() => void)[] = [];
  const writer = createWriter({
    ready: runSteps(steps, { next: nextTask, guard, stopped: () => destroyed }),
    monotonic,
    beforeWrite: () => startStorage(),
    write,
    journal: { write: writeJournal, forget: forgetJournal },
    traitsId: () => pageId + 't' + (sequence++).toString(36),
    nextTask,
    guard,
  });

  /** The deferred part of start-up: opt-out marker, journal replay and provisional adds, once storage may be read. */
  function startStorage(): void {
    if (storageStarted || !gate.mayReadStorage()) return;
    storageStarted = true;
    if (gate.readStoredOptOut()) {
      __DEBUG__ && log('visitor opted out: not scoring');
      writer.clear();
      store = openStore();
      return;
    }
    const replay = takeJournal();
    if (replay.length) {
      __DEBUG__ && log(`replaying ${replay.length} signal(s) and traits journaled by a page that was left`);
      writer.prepend(replay.filter((entry) => !entry.traits));
      // identify() calls the page did not commit, oldest first.
      writer.prependTraits(Object.assign({}, ...replay.filter((entry) => entry.traits).map((entry) => entry.props)));
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
  /** Commits the provisional adds unless this page shows the store's error notice. */
  function decideProvisional(): void {
    if (!provisional.length) return;
    const refused = readStoreError();
    __DEBUG__ && log(`${provisional.length} cart add(s) posted by the last page ${refused ? 'refused by the store: not counted' : 'accepted'}`);
    if (!refused) provisional.forEach(writer.add);
    provisional = [];
  }

  const refresh = (): Promise<void> => writer.queue(records.read);
  const openChannel = (): void => void (gate.canPersist() && stages.open(() => void refresh()));

  const record = (name: string, props: Props, navigating?: boolean): void => {
    if (destroyed || !gate.canRecord()) return;
    const signal: Signal = { name, props, time: now(), id: pageId + (sequence++).toString(36) };
    if (navigating === true && gate.canPersist()) {
      // The next page tells whether the store took it; if this page stays, it tells.
      provisional.push(signal);
      setTimeout(guard(decideProvisional), PROVISIONAL_STAY_MS);
      return;
    }
    if (!gate.canPersist() && memorySignals.length < MAX_MEMORY_SIGNALS) memorySignals.push(signal);
    writer.add(signal);
  };
  const addTraits = (traits: Props): void => {
    if (!destroyed && gate.canRecord()) writer.addTraits(traits);
  };

  let capture: ReturnType<typeof installCapture> | null = null;
  // Capture, page-experience metrics and the tab channel start after this task, one step per task
  // (each detector, web-vitals, the channel): the page's parsing and scripts go first, and no
  // start-up task of ours is long on a slow phone. writer.flush() waits for all of it.
  steps.push(() => {
    if (deps.capture !== false) {
      capture = installCapture({
        emit: guard(record),
        hashChange: config.hashChange,
        onEmail: config.captureEmail ? (email) => addTraits({ email }) : undefined,
        captureSearch: config.captureSearch,
        endpoint: config.endpoint,
        defer: (step) => void steps.push(step),
      });
    }
    if (__WEB_VITALS__) steps.push(() => (readVitals = watchVitals(guard, (step) => void steps.push(step))));
    steps.push(openChannel);
  });

  /** Hidden or leaving: journal what is not written, synchronously; no IndexedDB (see ARCHITECTURE.md). */
  const persistNow = (): void => {
    startStorage();
    if (!gate.canPersist()) return;
    writeProvisional(provisional);
    writer.journalNow();
  };
  const sendOnLeave = (): void => void (gate.canSend() && delivery?.leave());
  const leave = (): void => {
    // A form post or link that is taking the visitor away is recorded before the page goes.
    capture?.settle();
    persistNow();
    sendOnLeave();
    stages.close();
  };
  const stopLifecycle = onLifecycle(
    {
      hidden: () => (persistNow(), sendOnLeave()),
      visible: () => {
        // Still here: this page keeps its provisional adds (and decides them itself).
        if (gate.canPersist()) writeProvisional([]);
        void refresh().then(() => deliver());
      },
      leave,
      restored: () => {
        // Restored from the back/forward cache: the page that followed decided this page's
        // provisional adds, and other tabs may have moved on.
        provisional = [];
        openChannel();
        void refresh().then(() => deliver());
      },
      online: () => void deliver(),
    },
    guard,
  );
  if (deps.leaving) void Promise.resolve().then(guard(leave));

  async function forget(): Promise<void> {
    writer.clear();
    memorySignals = [];
    provisional = [];
    clearJournal();
    await writer.queue(() => store.clear());
    records.forget();
    stages.forget();
    fallbackId = randomId();
    lastScore = 0;
  }

  function setConsent(granted: boolean): void {
    // Only a boolean changes anything: consent(undefined) must not revoke.
    if ((granted !== true && granted !== false) || !gate.setConsent(granted)) return;
    if (granted === true) {
      startStorage();
      if (!gate.canPersist()) return;
      // Replay this page's in-memory signals into the stored record.
      store = openStore();
      writer.prepend(memorySignals);
      memorySignals = [];
      __DEBUG__ && log('consent granted: storing');
      openChannel();
      writer.schedule();
    } else {
      __DEBUG__ && log('consent revoked: deleting visitor data');
      const old = store;
      store = openStore();
      clearJournal();
      stages.close();
      records.forget();
      void writer.queue(() => old.clear());
    }
  }
  const stopConsent = config.consent === 'auto' ? followConsent(guard(setConsent), guard) : noop;
  if (__DEBUG__ && !gate.consented()) log(`waiting for consent (${config.consent === 'required' ? 'consent: required' : 'the consent platform'}): memory only`);

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
      await writer.flush();
      const stored = await store.read();
      return toVisitorState(revive(stored), model, { now: now(), storage: store.mode });
    }, Promise.resolve(emptyState(''))),
    on: guard(<E extends keyof TrackerEvents>(event: E, callback: (payload: TrackerEvents[E]) => void) => {
      const set = Object.prototype.hasOwnProperty.call(listeners, event) ? (listeners[event] as Set<typeof callback>) : undefined;
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
      gate.optOut();
      writeOptOut();
      __DEBUG__ && log('opted out: deleting visitor data');
      void forget();
    }),
    reset: guard(forget, Promise.resolve()),
    flush: guard(() => {
      const before = records.committed();
      // A write made by this flush read every tab's outbox (each write or read replaces the copy):
      // if it held nothing, there is nothing to send and no claim to take, so no second transaction.
      return writer.flush().then(() => {
        const after = records.committed();
        return after !== before && !after?.queue.length ? undefined : deliver(true);
      });
    }, Promise.resolve()),
    destroy: guard(() => {
      if (destroyed) return;
      void writer.flush();
      destroyed = true;
      capture?.stop();
      stopConsent();
      delivery?.stop();
      stages.close();
      stopLifecycle();
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
