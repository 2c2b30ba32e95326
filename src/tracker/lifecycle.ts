import type { Guard } from '../util/guard';

export interface LifecycleHandlers {
  /** The page became hidden (tab switch, app switch, or the first step of leaving). */
  hidden(): void;
  /** The page is shown again. */
  visible(): void;
  /** The page is being left (`pagehide`). */
  leave(): void;
  /** The page came back from the back/forward cache. */
  restored(): void;
  online(): void;
}

/** Where the events come from: the page's `document` and `window` (injected for unit tests). */
export interface LifecycleTargets {
  document: EventTarget & { visibilityState: string };
  window: EventTarget;
}

/**
 * The page lifecycle in one place: hidden / visible, `pagehide`, a bfcache `pageshow`, `online`.
 * Capture-phase passive listeners behind the guard; no `unload`. Returns the unsubscribe.
 */
export function onLifecycle(handlers: LifecycleHandlers, guard: Guard, targets: LifecycleTargets = { document, window }): () => void {
  const options = { capture: true, passive: true } as const;
  const listeners: [EventTarget, string, (event: Event) => void][] = [
    [targets.document, 'visibilitychange', () => (targets.document.visibilityState === 'hidden' ? handlers.hidden() : handlers.visible())],
    [targets.window, 'pagehide', () => handlers.leave()],
    [targets.window, 'pageshow', (event) => (event as PageTransitionEvent).persisted && handlers.restored()],
    [targets.window, 'online', () => handlers.online()],
  ];
  const guarded = listeners.map(([target, type, listener]) => [target, type, guard(listener)] as const);
  for (const [target, type, listener] of guarded) target.addEventListener(type, listener, options);
  return () => {
    for (const [target, type, listener] of guarded) target.removeEventListener(type, listener, options);
  };
}

/**
 * Runs start-up steps one per task, in order, through `next` (nextTask); a step may push more
 * steps. `done` resolves when the queue is empty. Steps are skipped once `stopped()` holds.
 */
export function runSteps(steps: (() => void)[], options: { next: (run: () => void) => void; guard: Guard; stopped: () => boolean }): Promise<void> {
  return new Promise<void>((resolve) => {
    const step = options.guard((): void => {
      const current = steps.shift();
      if (!current) return resolve();
      if (!options.stopped()) options.guard(current)();
      options.next(step);
    });
    options.next(step);
  });
}
