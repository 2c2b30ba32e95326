import type { JournalEntry } from '../store/journal';
import type { Props, Signal } from '../types';
import type { Guard } from '../util/guard';

/**
 * Signals per transaction: small enough that one transaction stays under a long task on a slow
 * phone (npm run bench measures it).
 */
export const MAX_BATCH = 500;
/** A signal is stored this long after it happened, so a burst of signals is one transaction. */
export const WRITE_DELAY_MS = 50;
/**
 * While signals keep coming, transactions start at most this often: each costs the main thread a
 * few milliseconds however few signals it carries. What waits is journaled if the page is left.
 */
export const WRITE_INTERVAL_MS = 250;
/**
 * The first write waits this long after the start: it makes the page's first localStorage access
 * (opt-out marker, journal), a synchronous read that is slow while the page is still loading.
 * Leaving before then journals the signals; flush() and getState() do not wait.
 */
export const FIRST_WRITE_MS = 1000;

export interface WriterOptions {
  /** Start-up: no write runs before it. */
  ready: Promise<void>;
  monotonic: () => number;
  /** Runs before each write (the deferred storage start-up: opt-out marker, journal replay). */
  beforeWrite: () => void;
  /** Applies one batch in one transaction; resolves to true when it was stored in IndexedDB. */
  write: (signals: Signal[], traits: Props) => Promise<boolean>;
  /** Journals signals synchronously (the page is going); `forget` drops committed ones. */
  journal: { write: (entries: JournalEntry[]) => void; forget: (ids: ReadonlySet<string>) => void };
  /** A new id for a journal entry of traits. */
  traitsId: () => string;
  /** The next task (not setTimeout, which hidden tabs throttle to once a second). */
  nextTask: (run: () => void) => void;
  guard: Guard;
}

/**
 * The write queue: signals and traits wait a moment so a burst is one transaction, a busy page gets
 * one write per interval, a huge burst is written in chunks of MAX_BATCH, each in its own task, and
 * what is not committed when the page goes is journaled. Every storage operation of the tracker
 * runs on this one chain, in order.
 */
export function createWriter(options: WriterOptions) {
  let pending: Signal[] = [];
  /** The batch being written: journaled too if the page is left before it commits. */
  let inFlight: Signal[] = [];
  let traits: Props = {};
  let inFlightTraits: Props = {};
  /** Ids of the traits entries this page journaled and has not yet seen committed. */
  let traitIds: string[] = [];
  let journaled = false;
  let scheduled: ReturnType<typeof setTimeout> | undefined;
  // As if a write had happened so that the next one may start FIRST_WRITE_MS from now.
  let lastWrite = options.monotonic() + FIRST_WRITE_MS - WRITE_INTERVAL_MS;
  let chain: Promise<unknown> = Promise.resolve();

  /**
   * `drain` (an explicit flush): until nothing is pending. Otherwise (the timer): only a backlog of
   * full batches goes on at once; what arrived during the write waits for the next timer.
   */
  async function run(drain: boolean): Promise<void> {
    options.beforeWrite();
    if (!pending.length && !Object.keys(traits).length) return;
    lastWrite = options.monotonic();
    const signals = (inFlight = pending.slice(0, MAX_BATCH));
    const batchTraits = (inFlightTraits = traits);
    pending = pending.slice(MAX_BATCH);
    traits = {};
    const stored = await options.write(signals, batchTraits);
    inFlight = [];
    inFlightTraits = {};
    // Journaled traits are all committed once no newer ones wait.
    const committed = signals.map((signal) => signal.id!).concat(Object.keys(traits).length ? [] : traitIds.splice(0));
    if (journaled && stored) options.journal.forget(new Set(committed));
    if (pending.length >= (drain ? 1 : MAX_BATCH)) {
      await new Promise<void>((resolve) => options.nextTask(resolve));
      await run(drain);
    } else if (pending.length) {
      schedule();
    }
  }

  function flush(drain = true): Promise<void> {
    clearTimeout(scheduled);
    scheduled = undefined;
    return queue(() => options.ready.then(options.guard(() => run(drain))));
  }
  function schedule(): void {
    // Listeners only record; storing waits a moment so a burst of signals is one transaction.
    scheduled ??= setTimeout(options.guard(() => flush(false)), Math.max(WRITE_DELAY_MS, lastWrite + WRITE_INTERVAL_MS - options.monotonic()));
  }
  /** Runs `task` after everything queued before it; never rejects. */
  function queue(task: () => unknown): Promise<void> {
    const next = chain.then(options.guard(task));
    chain = next;
    return next.then(() => undefined);
  }

  return {
    flush,
    schedule,
    queue,
    add(signal: Signal): void {
      pending.push(signal);
      schedule();
    },
    addTraits(more: Props): void {
      Object.assign(traits, more);
      schedule();
    },
    /** Traits older than the pending ones (a journal replay): pending values win. */
    prependTraits(older: Props): void {
      traits = { ...older, ...traits };
    },
    /** Puts signals before the pending ones (a journal replay, a consent replay), without duplicates. */
    prepend(signals: readonly Signal[]): void {
      pending = [...signals, ...pending.filter((signal) => !signals.includes(signal))];
    },
    /** The page is going: journal what is pending or in flight, synchronously. */
    journalNow(): void {
      const entries: JournalEntry[] = [...inFlight, ...pending];
      const waiting = { ...inFlightTraits, ...traits };
      if (Object.keys(waiting).length) {
        const id = options.traitsId();
        traitIds.push(id);
        entries.push({ name: 'identify', props: waiting, time: 0, id, traits: true });
      }
      if (!entries.length) return;
      options.journal.write(entries);
      journaled = true;
    },
    /** Drops pending signals and traits (opt-out, reset). */
    clear(): void {
      pending = [];
      traits = {};
      traitIds = [];
    },
  };
}

export type Writer = ReturnType<typeof createWriter>;
