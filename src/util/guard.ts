/**
 * The one boundary between the snippet and the host page. Every entry point (API method, queued
 * call, listener, timer, observer, promise continuation) runs through `guard`, so no exception or
 * unhandled rejection of ours ever reaches the page.
 */
export type ErrorReporter = (error: unknown) => void;

let reporter: ErrorReporter | undefined;

/** Installs the reporter used in debug mode; returns a function that removes it. */
export function onGuardError(report: ErrorReporter): () => void {
  reporter = report;
  return () => {
    if (reporter === report) reporter = undefined;
  };
}

function swallow(error: unknown): void {
  try {
    reporter?.(error);
  } catch {
    // A failing reporter must not escape either.
  }
}

/**
 * Runs `fn`; a throw returns `fallback`, a returned promise that rejects resolves to `fallback`.
 * Promises from the host page are never awaited here: only values the snippet produced.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function guard<F extends (...args: any[]) => any>(fn: F, fallback?: ReturnType<F>): F {
  return function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
    try {
      const result = fn.apply(this, args);
      if (result instanceof Promise) {
        return result.catch((error: unknown) => {
          swallow(error);
          return fallback;
        }) as ReturnType<F>;
      }
      return result;
    } catch (error) {
      swallow(error);
      return fallback as ReturnType<F>;
    }
  } as F;
}

/** The guard's type, for modules that receive it (capture) instead of importing it. */
export type Guard = typeof guard;
