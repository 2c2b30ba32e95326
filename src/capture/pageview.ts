import type { Props } from '../types';

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
  const listener = (): void => {
    document.removeEventListener('prerenderingchange', listener);
    callback();
  };
  document.addEventListener('prerenderingchange', listener);
  return () => document.removeEventListener('prerenderingchange', listener);
}

/** Emits `page_view` for the current page. Issue #3 adds SPA navigations. */
export function onPageView(emit: Emit): () => void {
  return whenActivated(() => emit('page_view', { path: location.pathname }));
}
