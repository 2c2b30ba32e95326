import { guard } from '../util/guard';
import type { Props } from '../types';
import { listen } from './dom';
import { onEngagedTime } from './engaged';
import { onDataLayer } from './datalayer';
import { onInteractions } from './interactions';
import { createActionMerger } from './merge';
import { observePage, readProduct } from './page';
import { onPageViews } from './pageview';
import { onCartRequests, onPlatformEvents } from './platforms';

export interface CaptureOptions {
  /** Receives every captured signal (already de-duplicated). */
  emit: (name: string, props: Props, navigating?: boolean) => void;
  hashChange: boolean;
  /** `data-capture-email`: receives emails of submitted newsletter/contact/sign-up forms. */
  onEmail?: (email: string) => void;
  /** `data-capture-search`: keep search terms; otherwise a search is only counted. */
  captureSearch: boolean;
  /** Our own beacon endpoint (absolute): its requests are ours, never proof of a store's add. */
  endpoint: string | null;
  /**
   * Runs a start-up step later, in its own task and in order (the tracker's start-up queue), so
   * installing the detectors never makes one long task.
   */
  defer: (step: () => void) => void;
}

export interface Capture {
  /** The page is being left: pending trusted actions are emitted now. */
  settle(): void;
  stop(): void;
}

/** SPA frameworks render the new route after the history change; product markup comes a moment later. */
const ROUTE_RENDER_MS = 600;

/** Installs every automatic detector. Each is independent; one failing never stops the others. */
export function installCapture(options: CaptureOptions): Capture {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (callback: () => void, ms: number): void => {
    const timer = setTimeout(
      guard(() => {
        timers.delete(timer);
        callback();
      }),
      ms,
    );
    timers.add(timer);
  };
  const merger = createActionMerger({
    // The one place search terms leave capture: only when the site opted in.
    emit: (name, props, navigating) => {
      if (name === 'search' && !options.captureSearch) delete props.term;
      options.emit(name, props, navigating);
    },
    now: Date.now,
    setTimer: (callback, ms) => setTimeout(guard(callback), ms),
    clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
  });
  const stops: (() => void)[] = [merger.stop];
  let stopped = false;
  const install = (start: () => (() => void) | void): void =>
    options.defer(() => {
      if (stopped) return;
      const stop = guard(start)();
      if (stop) stops.push(stop);
    });

  let dataLayer: ReturnType<typeof onDataLayer> | undefined;
  let platforms: ReturnType<typeof onPlatformEvents> | undefined;
  let checkedAt = -Infinity;
  /**
   * Late globals: jQuery and prestashop on every interaction (two property reads; the click that
   * adds may be the first moment they exist, and only their events confirm some adds), a replaced
   * dataLayer at most once a second (it reads the whole array).
   */
  const recheck = (): void => {
    platforms?.hook();
    const time = Date.now();
    if (time - checkedAt < 1000) return;
    checkedAt = time;
    dataLayer?.check();
  };
  const recheckNow = (): void => {
    checkedAt = -Infinity;
    recheck();
  };
  install(() => {
    dataLayer = onDataLayer(merger);
    return dataLayer.stop;
  });
  install(() => {
    platforms = onPlatformEvents(merger);
    return platforms.stop;
  });
  install(() => onCartRequests(merger, options.endpoint));
  install(() =>
    onInteractions({ merger, readProduct: () => readProduct() ?? {}, onInteraction: guard(recheck), onEmail: options.onEmail }),
  );
  install(() => onEngagedTime(guard(options.emit)));
  install(() =>
    onPageViews(guard(options.emit), {
      hashChange: options.hashChange,
      onView: guard((url: URL, initial: boolean) => {
        const inspect = (): void => {
          recheckNow();
          observePage(merger, url);
        };
        if (!initial) later(inspect, ROUTE_RENDER_MS);
        else if (document.readyState === 'loading') stops.push(listen(document, 'DOMContentLoaded', guard(inspect)));
        // A start-up step of its own: with the page view's listeners it made one long start-up task.
        else install(inspect);
      }),
    }),
  );
  // Late globals: Magento loads jQuery through RequireJS after the page; GTM replaces dataLayer.push.
  install(() => listen(window, 'load', guard(() => (recheckNow(), later(recheckNow, 2000)))));

  return {
    settle: guard(() => merger.settle()),
    stop: guard(() => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      stops.forEach((stop) => stop());
    }),
  };
}
