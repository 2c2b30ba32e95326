import type { RetryPolicy } from './config';

/**
 * When to try again. Pure: the dispatcher passes the clock and the randomness.
 *
 * - 2xx: delivered. 408, 409, 425, 429 and 5xx: try again (the outcome may be unknown, so every
 *   request carries the destination's idempotency key). Any other 4xx, and redirects (never followed
 *   with a signed body), are final: retrying cannot help.
 * - No answer (a network error, a timeout): try again.
 */
export type Verdict = { kind: 'done' } | { kind: 'retry'; afterMs: number | null } | { kind: 'final' };

const RETRYABLE = new Set([408, 409, 425, 429]);

export function judge(status: number, retryAfter: string | null, now: number): Verdict {
  if (status >= 200 && status < 300) return { kind: 'done' };
  if (RETRYABLE.has(status) || status >= 500) return { kind: 'retry', afterMs: status === 429 || status === 503 ? parseRetryAfter(retryAfter, now) : null };
  return { kind: 'final' };
}

/** `Retry-After`: seconds or an HTTP date; ms from now, or null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/** Exponential backoff with jitter: base × 2^(attempt−1), capped, then between half and all of it. */
export function backoffMs(attempts: number, policy: RetryPolicy, random: number): number {
  const full = Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** Math.max(0, attempts - 1)) * 1000;
  return Math.round(full * (0.5 + 0.5 * random));
}

/** When the job goes next after a failed attempt, or null when it is dead (out of attempts or of time). */
export function nextAttempt(job: { attempts: number; createdAt: number }, policy: RetryPolicy, now: number, retryAfterMs: number | null, random: number): number | null {
  if (job.attempts >= policy.maxAttempts) return null;
  const at = now + (retryAfterMs ?? backoffMs(job.attempts, policy, random));
  return at - job.createdAt > policy.maxHours * 3_600_000 ? null : at;
}

/** A token bucket per destination: `ratePerSecond`, bursting up to one second's worth (at least 1). */
export interface Bucket {
  tokens: number;
  at: number;
}
export function refill(bucket: Bucket, now: number, ratePerSecond: number): Bucket {
  const capacity = Math.max(1, ratePerSecond);
  return { tokens: Math.min(capacity, bucket.tokens + (Math.max(0, now - bucket.at) * ratePerSecond) / 1000), at: now };
}
/** Ms until the next whole token. */
export const untilToken = (bucket: Bucket, ratePerSecond: number): number => (bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / ratePerSecond));
