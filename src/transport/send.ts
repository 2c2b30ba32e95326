import type { Outcome } from './retry';

/** A visible send that has not answered by then is treated as a network failure (and retried later). */
export const SEND_TIMEOUT_MS = 10_000;

/**
 * POSTs the body as `text/plain` (a CORS "simple request": no preflight, no custom headers, no
 * cookies) and reads the status. `keepalive`, so a send in flight survives the page being left and
 * the page-hide path need not send the same entry a second time (one send per page per entry).
 * The body is capped at 8 KiB (MAX_BEACON_BYTES), far inside keepalive's 64 KiB. A page's `fetch` wrapper that throws or never settles cannot hold
 * us: the attempt resolves as a network failure. Never rejects.
 */
export function sendWithFetch(url: string, body: string): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve({ status: 0 }), SEND_TIMEOUT_MS);
    const done = (outcome: Outcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    try {
      fetch(url, { method: 'POST', body, credentials: 'omit', keepalive: true }).then(
        (response) => done({ status: response.status, retryAfter: response.headers.get('Retry-After') }),
        () => done({ status: 0 }),
      );
    } catch {
      done({ status: 0 });
    }
  });
}

/**
 * The page is being hidden or left: `sendBeacon` (queued by the browser, survives the unload),
 * then `fetch` with `keepalive` when the beacon is refused (over the shared 64 KiB budget) or
 * missing. The outcome cannot be read; the entry stays in the outbox until a later 2xx.
 */
export function sendOnLeave(url: string, body: string): void {
  try {
    if (navigator.sendBeacon(url, body)) return;
  } catch {
    // Illegal invocation on patched navigators, missing API: fall through to keepalive fetch.
  }
  try {
    void fetch(url, { method: 'POST', body, credentials: 'omit', keepalive: true }).catch(() => undefined);
  } catch {
    // Nothing else to try; the next page load sends it.
  }
}
