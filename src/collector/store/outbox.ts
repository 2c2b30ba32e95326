import { randomBytes } from 'node:crypto';
import type { Route } from '../destinations/config';
import { eventTypeOf, jobIdOf, planJobs, type Job, type JobResult, type JobState, type StatusChange } from '../destinations/plan';
import type { Lead } from '../leads/lead';
import { parseStored } from '../values';

/**
 * The transactional outbox, shared by both dialects: the rows a lead event's delivery jobs are
 * written as (in the transaction that stores the event), and the claim that hands due jobs to one
 * worker at a time. A job for a lead waits while an earlier job of that lead for the same
 * destination is still pending, so each destination hears a lead's events in order.
 */
export const JOB_COLUMNS = 'seq, id, destination, lead_id, event_id, type, extra, state, attempts, created_at, next_at, last_status, last_response, last_error, done_at';

export interface JobRow {
  id: string;
  destination: string;
  lead_id: string;
  event_id: string;
  type: string;
  extra: string | null;
  state: JobState;
  created_at: number;
  next_at: number;
}

/** The job rows for one stored event (or status change), per the routes. */
export function jobRows(routes: readonly Route[], lead: Lead, beaconType: string | null, eventId: string, at: number, change: StatusChange | null = null): JobRow[] {
  if (!routes.length) return [];
  const type = beaconType ? eventTypeOf(beaconType) : 'lead.status_changed';
  return planJobs(routes, lead, type).map((job) => ({
    id: jobIdOf(job.destination, eventId),
    destination: job.destination,
    lead_id: lead.id,
    event_id: eventId,
    type,
    extra: change ? JSON.stringify(change) : null,
    state: job.held ? 'held' : 'pending',
    created_at: at,
    next_at: at,
  }));
}

/** A status change has no beacon: its event id is made here, unique and stable for its jobs. */
const statusEventId = (leadId: string, at: number): string => `${leadId}.status.${at}.${randomBytes(4).toString('hex')}`;

/** The job rows for a change made in the dashboard: `lead.status_changed` when the status changed, else none. */
export function changeJobRows(routes: readonly Route[], before: Lead, after: Lead, by: string, at: number): JobRow[] {
  return after.status === before.status ? [] : jobRows(routes, after, null, statusEventId(after.id, at), at, { from: before.status, to: after.status, by, at });
}

export const INSERT_JOB = (p: (i: number) => string) =>
  `INSERT INTO deliveries (id, destination, lead_id, event_id, type, extra, state, attempts, created_at, next_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, 0, ${p(8)}, ${p(9)}) ON CONFLICT (id) DO NOTHING`;
export const jobValues = (row: JobRow): unknown[] => [row.id, row.destination, row.lead_id, row.event_id, row.type, row.extra, row.state, row.created_at, row.next_at];

/** Held jobs go when the lead gives an email, in their order, with the whole story. */
export const RELEASE_HELD = (p: (i: number) => string) => `UPDATE deliveries SET state = 'pending', next_at = ${p(1)} WHERE lead_id = ${p(2)} AND state = 'held'`;

/**
 * Claims up to `limit` due jobs (the oldest pending job of each lead only: order per lead). Written
 * so the plan holds without table statistics: the outer scan walks deliveries_due in claim order and
 * stops at the limit; the head-of-line check is a MIN over deliveries_lead (a NOT EXISTS anti-join
 * was planned as a nested loop over deliveries_due on a fresh table: 3.7 s for 3 000 pending jobs,
 * against 0.4 ms for this form). Params: (1) lease end, (2) owner, (3) destination, (4) now (twice:
 * SQLite's `?` are positional), (5) limit. `lock` is PostgreSQL's `FOR UPDATE SKIP LOCKED` (SQLite
 * has one writer at a time, so its claim is already exclusive).
 */
export const CLAIM_JOBS = (p: (i: number) => string, lock: string) => `
UPDATE deliveries SET locked_until = ${p(1)}, locked_by = ${p(2)}, attempts = attempts + 1
WHERE seq IN (
  SELECT d.seq FROM deliveries d
  WHERE d.destination = ${p(3)} AND d.state = 'pending' AND d.next_at <= ${p(4)} AND d.locked_until <= ${p(4)}
    AND d.seq = (SELECT MIN(e.seq) FROM deliveries e WHERE e.lead_id = d.lead_id AND e.destination = d.destination AND e.state = 'pending')
  ORDER BY d.next_at, d.seq
  LIMIT ${p(5)} ${lock}
)
RETURNING ${JOB_COLUMNS}`;

/** Records an attempt's end, only if this worker still holds the job (its lease did not pass to another). */
export const FINISH_JOB = (p: (i: number) => string) =>
  `UPDATE deliveries SET state = ${p(1)}, next_at = ${p(2)}, locked_until = 0, locked_by = NULL, last_status = ${p(3)}, last_response = ${p(4)}, last_error = ${p(5)}, done_at = ${p(6)}
   WHERE seq = ${p(7)} AND locked_by = ${p(8)}`;

export const finishValues = (seq: number, owner: string, result: JobResult): unknown[] => [result.state, result.nextAt ?? result.at, result.status ?? null, result.response ?? null, result.error ?? null, result.state === 'done' ? result.at : null, seq, owner];

/**
 * Calls that arrive in one turn of the event loop run as one batch (one transaction: one fsync or
 * WAL flush for all), each caller getting its own result; `flush()` runs a waiting batch now.
 */
export function grouped<T, R>(run: (items: T[]) => R[] | Promise<R[]>): { add(item: T): Promise<R>; flush(): Promise<void> } {
  let waiting: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  const flush = async (): Promise<void> => {
    const batch = waiting;
    waiting = [];
    if (!batch.length) return;
    try {
      const results = await run(batch.map((entry) => entry.item));
      batch.forEach((entry, i) => entry.resolve(results[i]!));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  };
  return {
    add: (item) =>
      new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (waiting.length === 1) setImmediate(() => void flush());
      }),
    flush,
  };
}

/** "Send again": a dead (or skipped) job goes back in line with fresh attempts and a fresh time window. */
export const REQUEUE_JOB = (p: (i: number) => string) =>
  `UPDATE deliveries SET state = 'pending', attempts = 0, created_at = ${p(1)}, next_at = ${p(1)}, locked_until = 0, locked_by = NULL, done_at = NULL
   WHERE seq = ${p(2)} AND state IN ('dead', 'skipped') RETURNING ${JOB_COLUMNS}`;

export function listJobsQuery(filter: { state?: JobState; destination?: string; leadId?: string; limit?: number }, p: (i: number) => string) {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.state) where.push(`state = ${p(values.push(filter.state))}`);
  if (filter.destination) where.push(`destination = ${p(values.push(filter.destination))}`);
  if (filter.leadId) where.push(`lead_id = ${p(values.push(filter.leadId))}`);
  const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 100)), 500);
  return { sql: `SELECT ${JOB_COLUMNS} FROM deliveries ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ${limit}`, values };
}

export const JOB_COUNTS = 'SELECT destination, state, COUNT(*) AS count FROM deliveries GROUP BY destination, state';

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const parseChange = (text: unknown): StatusChange | null => {
  const value = parseStored<StatusChange>(text);
  return value && typeof value.to === 'string' ? value : null;
};

export function toJob(row: Record<string, unknown>): Job {
  return {
    seq: Number(row.seq),
    id: String(row.id),
    destination: String(row.destination),
    leadId: String(row.lead_id),
    eventId: String(row.event_id),
    type: String(row.type) as Job['type'],
    change: parseChange(row.extra),
    state: String(row.state) as JobState,
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
    nextAt: Number(row.next_at),
    lastStatus: num(row.last_status),
    lastResponse: row.last_response == null ? null : String(row.last_response),
    lastError: row.last_error == null ? null : String(row.last_error),
    doneAt: num(row.done_at),
  };
}

export const deliveriesTable = (bigint: string, serial: string) => `
CREATE TABLE deliveries (
  seq ${serial},
  id TEXT NOT NULL UNIQUE,
  destination TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  extra TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at ${bigint} NOT NULL,
  next_at ${bigint} NOT NULL,
  locked_until ${bigint} NOT NULL DEFAULT 0,
  locked_by TEXT,
  last_status INTEGER,
  last_response TEXT,
  last_error TEXT,
  done_at ${bigint}
);
CREATE INDEX deliveries_due ON deliveries (destination, state, next_at, seq);
CREATE INDEX deliveries_lead ON deliveries (lead_id, destination, seq);
CREATE INDEX deliveries_state ON deliveries (state, seq);
`;

