import type { OutboxEntry, VisitorRecord } from '../engine/record';
import { guard } from '../util/guard';
import { CLAIM_RENEW_MS, claimDue, isClaimable, isDue, nextDueAt, renewClaims, settleEntry } from './outbox';
import { encodeBeacon, type BeaconV1, type BeaconV2 } from './payload';
import { DEFAULT_RETRY, judgeAttempt, type RetryPolicy } from './retry';
import { sendOnLeave, sendWithFetch } from './send';
import type { Vitals } from './vitals';

/**
 * Network failures (what an ad blocker or a CSP block looks like) per beacon per page load: a blocked
 * endpoint costs a page at most this many requests; the next page load tries again, with backoff.
 */
export const MAX_NETWORK_FAILURES_PER_PAGE = 3;

export interface DeliveryOptions {
  endpoint: string;
  /** This page's claim id. */
  tab: string;
  /** This page load. */
  page: string;
  /**
   * The owner of the visitor record (tracker/records.ts): the outbox's claims and settlements are
   * transactions on it; `latest()` serves the synchronous leave path.
   */
  records: {
    update: (change: (record: VisitorRecord) => void) => Promise<VisitorRecord>;
    latest: () => VisitorRecord | null;
  };
  clock: { now: () => number; monotonic: () => number; random: () => number };
  /** Monotonic time at which each beacon qualified on this page. */
  qualifiedAt: Map<string, number>;
  vitals: () => Vitals | undefined;
  log: (...args: unknown[]) => void;
  policy?: RetryPolicy;
}

/**
 * Delivers the outbox: claims due entries in one transaction, POSTs each with fetch (reading the
 * status), settles it in another transaction, and schedules the next attempt. On leave, due
 * entries this page may send go out with sendBeacon; they stay in the outbox until a 2xx, so the
 * next page load re-sends with the same id when the beacon did not arrive.
 */
export function createDelivery(options: DeliveryOptions) {
  const { endpoint, tab, log, records } = options;
  const { now } = options.clock;
  const policy = options.policy ?? DEFAULT_RETRY;
  const failuresOnPage = new Map<string, number>();
  /** Sent with sendBeacon, or in flight with a keepalive fetch: not sent again as the page goes. */
  const leftOnPage = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let renewal: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let queued = false;
  let queuedForce = false;
  let stopped = false;

  function body(entry: OutboxEntry): string {
    const stored = entry.beacon;
    const mark = options.qualifiedAt.get(entry.id);
    const time = now();
    // `offset` counts from the event (v2 `at`; a v1 entry, queued by an older script, from its qualification).
    const beacon: BeaconV1 | BeaconV2 = {
      ...stored,
      sentAt: time,
      offset: Math.max(0, Math.round(mark !== undefined ? options.clock.monotonic() - mark : time - ('at' in stored ? stored.at : stored.qualifiedAt))),
    } as BeaconV1 | BeaconV2;
    const vitals = entry.page === options.page ? options.vitals() : undefined;
    if (vitals) beacon.vitals = vitals;
    return encodeBeacon(beacon);
  }

  function schedule(record: VisitorRecord | null): void {
    clearTimeout(timer);
    const due = record ? nextDueAt(record, tab) : null;
    if (due === null || stopped) return;
    // Never sooner than a second: claims by another tab expire on their own clock.
    timer = setTimeout(guard(() => void deliver()), Math.min(Math.max(due - now(), 1000), 2 ** 31 - 1));
  }

  async function run(force: boolean): Promise<void> {
    if (stopped) return;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      __DEBUG__ && log('offline: beacons wait for the online event');
      return;
    }
    let claimed: OutboxEntry[] = [];
    let record = await records.update((current) => {
      claimed = claimDue(current, { now: now(), tab, force, accept: (entry) => (failuresOnPage.get(entry.id) ?? 0) < MAX_NETWORK_FAILURES_PER_PAGE });
    });
    // While this page sends, it renews its claims; if it dies, they lapse within CLAIM_TTL_MS.
    let sending = true;
    const renew = (): void => {
      if (sending && !stopped) renewal = setTimeout(
        guard(() => void records.update((current) => renewClaims(current, tab, now())).then(renew)),
        CLAIM_RENEW_MS,
      );
    };
    if (claimed.length) renew();
    try {
      for (const entry of claimed) {
        const first = !leftOnPage.has(entry.id);
        leftOnPage.add(entry.id);
        const outcome = await sendWithFetch(endpoint, body(entry));
        if (first) leftOnPage.delete(entry.id);
        if (!outcome.status) failuresOnPage.set(entry.id, (failuresOnPage.get(entry.id) ?? 0) + 1);
        const verdict = judgeAttempt(outcome, entry, { now: now(), random: options.clock.random, policy });
        __DEBUG__ && log(`beacon ${entry.id}: ${outcome.status || 'network error'} -> ${verdict.kind}`, verdict);
        record = await records.update((current) => settleEntry(current, entry.id, verdict, { now: now(), tab }));
      }
    } finally {
      sending = false;
      clearTimeout(renewal);
    }
    schedule(record);
  }

  /** Attempts the due entries (all claimable ones with `force`). Calls coalesce; never rejects. */
  function deliver(force = false): Promise<void> {
    queuedForce ||= force;
    if (queued) return chain;
    queued = true;
    return (chain = chain.then(
      guard(() => {
        queued = false;
        const forced = queuedForce;
        queuedForce = false;
        return run(forced);
      }),
    ));
  }

  /** The page is hidden or left: hand due entries this page may send to the browser's beacon queue. */
  function leave(): void {
    const record = records.latest();
    if (!record || stopped) return;
    const time = now();
    for (const entry of record.queue) {
      if (leftOnPage.has(entry.id) || !isDue(entry, time) || !isClaimable(entry, tab, time)) continue;
      leftOnPage.add(entry.id);
      __DEBUG__ && log(`beacon ${entry.id}: sent with sendBeacon as the page is hidden`);
      sendOnLeave(endpoint, body(entry));
    }
  }

  return {
    deliver,
    leave,
    schedule,
    stop(): void {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(renewal);
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
