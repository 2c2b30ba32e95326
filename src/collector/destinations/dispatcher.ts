import { randomBytes } from 'node:crypto';
import type { Logger } from '../log';
import type { ClaimedJob, LeadStore } from '../store/types';
import type { Destination } from './config';
import { buildPayload, sampleLead } from './payload';
import { isFlagged, type Lead } from '../leads/lead';
import type { JobResult } from './plan';
import { judge, nextAttempt, refill, untilToken, type Bucket } from './retry';
import { requestsFor, type HttpRequest } from './senders';

/**
 * Delivers the outbox: one loop per destination (so one slow or failing destination never delays
 * another), each with its own concurrency, rate (a token bucket) and pause (a 429/503's
 * Retry-After). Jobs are claimed from the database with a lease, so any number of collector
 * instances share the work and a job is attempted by one of them at a time; a job whose instance
 * died is claimed again when its lease ends. Delivery is at least once, made exactly once at the
 * destination by the idempotency key every request carries.
 */
export interface DispatcherOptions {
  store: LeadStore;
  destinations: readonly Destination[];
  log: Logger;
  publicUrl: string | null;
  /** A site's half-life in days, for "why". */
  halfLifeDays?: (site: string) => number | undefined;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  /** How often an idle destination looks for due jobs (default 1 000 ms); new events wake it at once. */
  pollMs?: number;
}

export interface AttemptOutcome {
  ok: boolean;
  status: number | null;
  response: string | null;
  error: string | null;
  retryAfterMs: number | null;
  verdict: 'done' | 'retry' | 'final';
}

export interface Dispatcher {
  start(): void;
  /** New jobs may be due: look now. */
  wake(): void;
  /** For tests and tools: claims and delivers every due job, destination by destination, until none is due. */
  drain(): Promise<number>;
  /** Sends a sample event (marked test) to one destination now, outside the outbox. */
  sendTest(name: string): Promise<AttemptOutcome | null>;
  /** Stops claiming; resolves when the attempts in flight have ended (and been recorded). */
  stop(): Promise<void>;
  readonly owner: string;
}

const MAX_RESPONSE = 1000;
/** How long a claimed job is this worker's: twice its requests' timeouts, plus a second. */
const leaseOf = (destination: Destination): number => destination.timeoutMs * (destination.type === 'hubspot' ? 2 : 1) * 2 + 1000;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, log } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const send = options.fetch ?? fetch;
  const pollMs = options.pollMs ?? 1000;
  const owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
  let running = false;
  const inFlight = new Set<Promise<void>>();

  interface Lane {
    destination: Destination;
    active: number;
    bucket: Bucket;
    pausedUntil: number;
    timer: NodeJS.Timeout | null;
    busy: boolean;
    again: boolean;
    /** Claimed, waiting for a free slot (claims are batched: fewer, larger transactions). */
    buffer: ClaimedJob[];
  }
  const lanes = options.destinations.map((destination): Lane => ({ destination, active: 0, bucket: { tokens: Math.max(1, destination.ratePerSecond), at: now() }, pausedUntil: 0, timer: null, busy: false, again: false, buffer: [] }));

  function begin(lane: Lane, job: ClaimedJob): void {
    lane.active++;
    const task = deliver(lane, job)
      .catch((error: unknown) => log.error('delivery failed unexpectedly; it is attempted again when its lease ends', { job: job.id, error: String(error) }))
      .finally(() => {
        lane.active--;
        inFlight.delete(task);
        schedule(lane, 0);
      });
    inFlight.add(task);
  }

  /** One HTTP request: its verdict, never a throw. */
  async function attempt(request: HttpRequest, timeoutMs: number): Promise<AttemptOutcome> {
    try {
      const response = await send(request.url, { method: request.method, headers: request.headers, body: request.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      const text = (await response.text().catch(() => '')).slice(0, MAX_RESPONSE);
      const verdict = judge(response.status, response.headers.get('retry-after'), now());
      return { ok: verdict.kind === 'done', status: response.status, response: text, error: verdict.kind === 'final' && response.status >= 300 && response.status < 400 ? 'redirects are not followed: use the final URL' : null, retryAfterMs: verdict.kind === 'retry' ? verdict.afterMs : null, verdict: verdict.kind };
    } catch (error) {
      const name = (error as Error).name;
      const message = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : String((error as Error).cause ?? (error as Error).message ?? error);
      return { ok: false, status: null, response: null, error: message.slice(0, MAX_RESPONSE), retryAfterMs: null, verdict: 'retry' };
    }
  }

  /** One attempt of one lead event: every request of the destination, in order, until one fails. */
  async function run(destination: Destination, what: Pick<ClaimedJob, 'type' | 'eventId' | 'event' | 'change'> & { lead: Lead }, test = false): Promise<AttemptOutcome> {
    const { lead } = what;
    const payload = buildPayload({ type: what.type, eventId: what.eventId, lead, event: what.event, change: what.change, halfLifeDays: options.halfLifeDays?.(lead.site), publicUrl: options.publicUrl, test });
    const items = (lead.interest?.items ?? []).map((item) => ({ id: item.item_id, name: item.name ?? null, price: item.price ?? null, currency: item.currency ?? null, in_cart: item.in_cart }));
    let outcome: AttemptOutcome = { ok: true, status: null, response: null, error: null, retryAfterMs: null, verdict: 'done' };
    for (const request of requestsFor(destination, payload, items, now())) {
      outcome = await attempt(request, destination.timeoutMs);
      if (!outcome.ok) break;
    }
    return outcome;
  }

  async function deliver(lane: Lane, job: ClaimedJob): Promise<void> {
    const { destination } = lane;
    let result: JobResult;
    if (!job.lead) {
      result = { state: 'dead', at: now(), error: 'the lead is missing or damaged in the database' };
    } else if ((isFlagged(job.lead) && !destination.flagged) || (job.lead.status === 'spam' && job.type !== 'lead.status_changed')) {
      // Flagged (or marked spam) after the job was written: never forwarded unless configured.
      result = { state: 'skipped', at: now(), error: job.lead.status === 'spam' ? 'the lead is marked spam' : 'the lead is flagged (bot or suspicious)' };
    } else {
      let outcome: AttemptOutcome;
      try {
        outcome = await run(destination, { ...job, lead: job.lead });
      } catch (error) {
        // A stored row this code cannot turn into a request (it should not happen): failed, with why,
        // rather than an exception that would leave the job leased for ever.
        outcome = { ok: false, status: null, response: null, error: `cannot build the request: ${String((error as Error).message ?? error)}`.slice(0, MAX_RESPONSE), retryAfterMs: null, verdict: 'final' };
      }
      const at = now();
      if (outcome.ok) result = { state: 'done', at, status: outcome.status, response: outcome.response };
      else {
        const next = outcome.verdict === 'retry' ? nextAttempt(job, destination.retry, at, outcome.retryAfterMs, random()) : null;
        if (outcome.retryAfterMs !== null) lane.pausedUntil = Math.max(lane.pausedUntil, at + outcome.retryAfterMs);
        result = next === null ? { state: 'dead', at, status: outcome.status, response: outcome.response, error: outcome.error ?? (outcome.verdict === 'final' ? 'refused: not retried' : 'out of attempts') } : { state: 'pending', at, nextAt: next, status: outcome.status, response: outcome.response, error: outcome.error };
      }
    }
    const level = result.state === 'dead' ? 'warn' : 'info';
    log[level]('delivery', { destination: destination.name, job: job.id, attempt: job.attempts, state: result.state, status: result.status ?? undefined, error: result.error ?? undefined });
    try {
      const kept = await store.finishJob(job.seq, owner, result);
      if (!kept) log.warn('delivery outcome dropped: the lease passed to another worker', { job: job.id });
    } catch (error) {
      // The lease ends and the job is attempted again (the idempotency key makes that harmless).
      log.error('cannot record a delivery; it will be retried', { job: job.id, error: String(error) });
    }
  }

  function schedule(lane: Lane, delay: number): void {
    if (!running) return;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = setTimeout(() => {
      lane.timer = null;
      void pass(lane);
    }, Math.max(0, delay));
    lane.timer.unref?.();
  }

  /** Claims what this lane may start now and starts it. */
  async function pass(lane: Lane): Promise<void> {
    if (lane.busy) {
      lane.again = true;
      return;
    }
    lane.busy = true;
    try {
      const { destination } = lane;
      const at = now();
      if (lane.pausedUntil > at) return schedule(lane, lane.pausedUntil - at);
      while (lane.active < destination.concurrency && lane.buffer.length) begin(lane, lane.buffer.shift()!);
      lane.bucket = refill(lane.bucket, at, destination.ratePerSecond);
      const free = destination.concurrency - lane.active;
      if (free <= 0) return;
      const wait = untilToken(lane.bucket, destination.ratePerSecond);
      if (wait > 0) return schedule(lane, wait);
      // Up to one more round than the free slots: the rest wait in the buffer, under their lease.
      const limit = Math.min(free + destination.concurrency, Math.floor(lane.bucket.tokens));
      let jobs: ClaimedJob[];
      try {
        jobs = await store.claimJobs(destination.name, at, limit, at + leaseOf(destination), owner);
      } catch (error) {
        log.error('cannot claim deliveries', { destination: destination.name, error: String(error) });
        return schedule(lane, pollMs * 5);
      }
      lane.bucket.tokens -= jobs.length;
      for (const job of jobs) {
        if (lane.active < destination.concurrency) begin(lane, job);
        else lane.buffer.push(job);
      }
      if (!jobs.length) schedule(lane, pollMs);
      else if (lane.active < destination.concurrency) schedule(lane, untilToken(lane.bucket, destination.ratePerSecond));
    } finally {
      lane.busy = false;
      if (lane.again) {
        lane.again = false;
        schedule(lane, 0);
      }
    }
  }

  return {
    owner,
    start() {
      if (running) return;
      running = true;
      for (const lane of lanes) schedule(lane, 0);
    },
    wake() {
      for (const lane of lanes) if (lane.active < lane.destination.concurrency) schedule(lane, 0);
    },
    async drain() {
      let total = 0;
      for (const lane of lanes) {
        for (;;) {
          const at = now();
          if (lane.pausedUntil > at) break;
          const jobs = await store.claimJobs(lane.destination.name, at, lane.destination.concurrency, at + leaseOf(lane.destination), owner);
          if (!jobs.length) break;
          await Promise.all(jobs.map((job) => deliver(lane, job)));
          total += jobs.length;
        }
      }
      return total;
    },
    async sendTest(name) {
      const destination = options.destinations.find((item) => item.name === name);
      if (!destination) return null;
      const at = now();
      const outcome = await run(destination, { type: 'lead.qualified', eventId: `leadscore-test.${at}.${randomBytes(3).toString('hex')}`, lead: sampleLead(at), event: null, change: null }, true);
      log.info('test delivery', { destination: name, ok: outcome.ok, status: outcome.status ?? undefined, error: outcome.error ?? undefined });
      return outcome;
    },
    async stop() {
      running = false;
      for (const lane of lanes) if (lane.timer) clearTimeout(lane.timer);
      // Claimed but not started: back in line now rather than when their lease ends.
      const waiting = lanes.flatMap((lane) => lane.buffer.splice(0));
      await Promise.allSettled([...inFlight, ...waiting.map((job) => store.finishJob(job.seq, owner, { state: 'pending', at: now(), nextAt: now(), status: job.lastStatus, response: job.lastResponse, error: job.lastError }))]);
    },
  };
}
