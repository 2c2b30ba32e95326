import type { Props } from '../types';
import { hookAfter, listen } from './dom';

export type Emit = (name: string, props: Props) => void;

/**
 * Runs `callback` once the page is really shown: at once, or when a prerendered page is activated
 * (prerendered pages count nothing until the visitor sees them). Returns an unsubscribe.
 */
export function whenActivated(callback: () => void): () => void {
  if (!(document as Document & { prerendering?: boolean }).prerendering) {
    callback();
    return () => undefined;
  }
  const stop = listen(document, 'prerenderingchange', () => {
    stop();
    callback();
  });
  return stop;
}

export interface PageViewOptions {
  /** Count a change of `location.hash` as a page view (hash-routed single-page apps). */
  hashChange: boolean;
  /** Called with each counted page view's URL (after emit). */
  onView: (url: URL, initial: boolean) => void;
}

/**
 * `page_view` on load (after prerender activation), on every single-page-app navigation and on a
 * back/forward-cache restore. A navigation counts when the path changes (or the hash, if
 * configured), so duplicate notifications (a host wrapper calling pushState twice, replaceState of
 * the same path, popstate after pushState) never double-count. Same-document navigations are
 * observed through the Navigation API where the browser has it; elsewhere through `hookAfter` on
 * `history.pushState` and `replaceState`.
 */
export function onPageViews(emit: Emit, options: PageViewOptions): () => void {
  let last = '';
  const key = (): string => location.pathname + (options.hashChange ? location.hash : '');
  const view = (force: boolean, initial = false): void => {
    if (!force && key() === last) return;
    last = key();
    emit('page_view', { path: location.pathname });
    options.onView(new URL(location.href), initial);
  };
  const check = (): void => view(false);
  const stops: (() => void)[] = [];

  stops.push(
    whenActivated(() => {
      view(true, true);
      const navigation = (window as unknown as { navigation?: EventTarget }).navigation;
      if (navigation && typeof navigation.addEventListener === 'function') {
        stops.push(listen(navigation, 'currententrychange', check));
      } else {
        stops.push(hookAfter(history, 'pushState', check), hookAfter(history, 'replaceState', check));
      }
      stops.push(listen(window, 'popstate', check), listen(window, 'hashchange', check));
      stops.push(
        listen(window, 'pageshow', (event) => {
          if ((event as PageTransitionEvent).persisted) view(true);
        }),
      );
    }),
  );
  return () => stops.forEach((stop) => stop());
}
