import { MAX_OUTBOX, type OutboxEntry, type VisitorRecord } from '../engine/record';
import type { StoredBeacon } from './payload';
import { DEFAULT_RETRY, type Verdict } from './retry';

/**
 * Pure operations on the outbox inside the visitor record. The tracker runs each inside one
 * IndexedDB `update()` transaction, which is what makes the claims atomic across tabs.
 */

/**
 * A claim not renewed for this long is dead (its page closed mid-send) and may be taken over. A page
 * renews its claims every CLAIM_RENEW_MS while it sends, so a claim outlives its page by a few
 * seconds at most and the next page view delivers what a closed tab left.
 */
export const CLAIM_TTL_MS = 5_000;
export const CLAIM_RENEW_MS = 2_000;

/** Queues a new beacon, already claimed by the tab that qualified (it sends first). */
export function addToOutbox(record: VisitorRecord, beacon: StoredBeacon, context: { now: number; tab: string; page: string }): void {
  if (record.queue.some((entry) => entry.id === beacon.id)) return;
  record.queue.push({
    id: beacon.id,
    beacon,
    created: context.now,
    attempts: 0,
    next: context.now,
    claim: context.tab,
    claimAt: context.now,
    page: context.page,
  });
  if (record.queue.length > MAX_OUTBOX) record.queue.splice(0, record.queue.length - MAX_OUTBOX);
}

/** Whether `tab` may take the entry: unclaimed, its own, or a claim outside the TTL (either way: a clock jump is not a live claim). */
export const isClaimable = (entry: OutboxEntry, tab: string, now: number): boolean =>
  !entry.claim || entry.claim === tab || Math.abs(now - entry.claimAt) > CLAIM_TTL_MS;

/**
 * Claims the entries that are due (or all claimable ones with `force`) for `tab`; returns copies of
 * the claimed entries. Nobody else sends them until the claim is released or expires.
 */
/** Due now: its time has come, or it lies further ahead than any backoff can (the clock went back). */
export const isDue = (entry: OutboxEntry, now: number): boolean => entry.next <= now || entry.next - now > DEFAULT_RETRY.maxDelayMs;

export function claimDue(
  record: VisitorRecord,
  context: { now: number; tab: string; force?: boolean; accept?: (entry: OutboxEntry) => boolean },
): OutboxEntry[] {
  const claimed: OutboxEntry[] = [];
  for (const entry of record.queue) {
    if (!isClaimable(entry, context.tab, context.now) || (!context.force && !isDue(entry, context.now))) continue;
    if (context.accept && !context.accept(entry)) continue;
    entry.claim = context.tab;
    entry.claimAt = context.now;
    claimed.push({ ...entry });
  }
  return claimed;
}

/** Applies an attempt's verdict: done or dropped entries leave; a retry is rescheduled and released. */
export function settleEntry(record: VisitorRecord, id: string, verdict: Verdict, context: { now: number; tab: string }): void {
  const index = record.queue.findIndex((entry) => entry.id === id);
  if (index < 0) return;
  const entry = record.queue[index]!;
  if (verdict.kind !== 'retry') {
    record.queue.splice(index, 1);
    return;
  }
  // Another tab took the entry over meanwhile: its attempt decides.
  if (entry.claim !== context.tab) return;
  entry.attempts++;
  entry.next = context.now + verdict.delayMs;
  entry.claim = '';
}

/** Keeps this tab's claims alive while its sends are in flight. */
export function renewClaims(record: VisitorRecord, tab: string, now: number): void {
  for (const entry of record.queue) if (entry.claim === tab) entry.claimAt = now;
}

/** Releases this tab's claims (its sends were cut short), so any tab may send at once. */
export function releaseClaims(record: VisitorRecord, tab: string): void {
  for (const entry of record.queue) if (entry.claim === tab) entry.claim = '';
}

/** When the next entry becomes due or its claim expires; null when the outbox is empty. */
export function nextDueAt(record: VisitorRecord, tab: string): number | null {
  let due: number | null = null;
  for (const entry of record.queue) {
    const at = isClaimable(entry, tab, entry.claimAt) ? entry.next : Math.max(entry.next, entry.claimAt + CLAIM_TTL_MS);
    due = due === null ? at : Math.min(due, at);
  }
  return due;
}
