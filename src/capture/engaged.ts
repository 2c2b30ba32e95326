import { monotonic } from '../util/env';
import { guard } from '../util/guard';
import { listen } from './dom';
import { whenActivated, type Emit } from './pageview';

/** Without input, scroll or pointer activity for this long, the visitor is no longer engaged. */
export const IDLE_MS = 30_000;
/** engaged_time is reported in chunks of this many seconds; a shorter remainder is sent on leave. */
export const CHUNK_SECONDS = 15;
const TICK_MS = 5000;

const ACTIVITY = ['pointerdown', 'pointermove', 'keydown', 'scroll', 'wheel', 'touchstart'];

/**
 * `engaged_time`: counts only while the page is visible, focused and the visitor was active within
 * IDLE_MS; never in background tabs or prerendered pages. Accumulated per page (a bfcache restore
 * starts a new page) and reported as whole seconds in chunks of CHUNK_SECONDS; the remainder is
 * reported when the page is hidden or left.
 */
export function onEngagedTime(emit: Emit, now: () => number = monotonic): () => void {
  let accrued = 0;
  let reported = 0;
  let since = 0;
  let counting = false;
  let lastActive = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  const engaged = (): boolean =>
    document.visibilityState === 'visible' && document.hasFocus() && now() - lastActive < IDLE_MS;

  const report = (all: boolean): void => {
    let seconds = Math.floor(accrued / 1000) - reported;
    while (seconds >= CHUNK_SECONDS) {
      emit('engaged_time', { seconds: CHUNK_SECONDS });
      reported += CHUNK_SECONDS;
      seconds -= CHUNK_SECONDS;
    }
    if (all && seconds > 0) {
      emit('engaged_time', { seconds });
      reported += seconds;
    }
  };

  const tick = (): void => {
    const time = now();
    if (counting) accrued += Math.max(0, Math.min(time, lastActive + IDLE_MS) - since);
    since = time;
    counting = engaged();
    report(false);
    if (counting && !timer) timer = setInterval(guard(tick), TICK_MS);
    if (!counting && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const onActivity = (): void => {
    lastActive = now();
    if (!counting) tick();
  };
  const onLeave = (): void => {
    tick();
    report(true);
  };

  const stops: (() => void)[] = [];
  stops.push(
    whenActivated(() => {
      lastActive = now();
      tick();
      for (const type of ACTIVITY) stops.push(listen(document, type, onActivity));
      stops.push(
        listen(window, 'focus', tick),
        listen(window, 'blur', tick),
        listen(document, 'visibilitychange', () => (document.visibilityState === 'hidden' ? onLeave() : tick())),
        listen(window, 'pagehide', onLeave),
        listen(window, 'pageshow', (event) => {
          if (!(event as PageTransitionEvent).persisted) return;
          accrued = reported = 0;
          lastActive = now();
          tick();
        }),
      );
    }),
  );
  return () => {
    stops.forEach((stop) => stop());
    clearInterval(timer);
  };
}
