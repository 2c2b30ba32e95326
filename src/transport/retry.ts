/** Retry policy for beacons. Pure: time and randomness come in as arguments. */

export interface RetryPolicy {
  /** First retry delay; doubles each attempt. */
  baseMs: number;
  /** Ceiling of one delay (and of Retry-After). */
  maxDelayMs: number;
  /** Give up after this many attempts... */
  maxAttempts: number;
  /** ...or when the entry is older than this. */
  maxAgeMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  baseMs: 2000,
  // Segment caps Retry-After at 300 s and PostHog backoff at 30 min (reliability.md section 4).
  maxDelayMs: 30 * 60_000,
  maxAttempts: 12,
  maxAgeMs: 7 * 86_400_000,
};

/** What a delivery attempt came to. `status` 0 is a network failure (offline, blocked, CORS, timeout). */
export type Outcome = { status: number; retryAfter?: string | null };

export type Verdict = { kind: 'done' } | { kind: 'drop'; reason: string } | { kind: 'retry'; delayMs: number };

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from `now`; null when absent or garbage. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/** Exponential backoff with full ±50 % jitter, so tabs and visitors that failed together spread out. */
export function backoffMs(attempt: number, random: () => number, policy: RetryPolicy = DEFAULT_RETRY): number {
  const exponential = policy.baseMs * Math.pow(2, Math.min(attempt, 30));
  return Math.round(Math.min(policy.maxDelayMs, exponential) * (0.5 + random()));
}

/**
 * Decides what follows an attempt. 2xx: done. 400/413/422: final (the body will never be accepted).
 * 429/503 honour Retry-After (capped). Other statuses and network failures: back off, until the
 * attempt count or the age runs out.
 */
export function judgeAttempt(
  outcome: Outcome,
  entry: { attempts: number; created: number },
  options: { now: number; random: () => number; policy?: RetryPolicy },
): Verdict {
  const policy = options.policy ?? DEFAULT_RETRY;
  const { status } = outcome;
  if (status >= 200 && status < 300) return { kind: 'done' };
  if (status === 400 || status === 413 || status === 422) return { kind: 'drop', reason: `rejected with ${status}` };
  const attempts = entry.attempts + 1;
  if (attempts >= policy.maxAttempts) return { kind: 'drop', reason: `gave up after ${attempts} attempts` };
  if (options.now - entry.created >= policy.maxAgeMs) return { kind: 'drop', reason: 'gave up: too old' };
  const retryAfter = status === 429 || status === 503 ? parseRetryAfter(outcome.retryAfter, options.now) : null;
  const delayMs = retryAfter !== null ? Math.min(retryAfter, policy.maxDelayMs) : backoffMs(entry.attempts, options.random, policy);
  return { kind: 'retry', delayMs };
}
