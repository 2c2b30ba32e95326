import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach } from 'vitest';

// A fresh IndexedDB per test: tests never see each other's visitors.
beforeEach(() => {
  globalThis.indexedDB = new IDBFactory();
});

/** Errors that reached the page; the host-safe invariant is that this stays empty. */
export const pageErrors: unknown[] = [];
const onError = (event: Event): void => void pageErrors.push((event as ErrorEvent).error ?? event);
window.addEventListener('error', onError);
window.addEventListener('unhandledrejection', onError);
process.on('unhandledRejection', (reason) => void pageErrors.push(reason));
afterEach(() => {
  if (pageErrors.length) {
    const errors = pageErrors.splice(0);
    throw new Error('errors reached the page: ' + errors.map(String).join('; '));
  }
});
