import type { UseStore } from 'idb-keyval';

/** Safari 14 could leave the first open pending forever (WebKit bug 226547): every open gets a deadline. */
export const OPEN_TIMEOUT_MS = 3000;

export interface IdbStore {
  use: UseStore;
  /** Closes the connection (so `deleteDatabase` is not blocked by us). */
  close(): void;
}

/**
 * An idb-keyval `UseStore` on our own database, hardened for the failures real browsers show
 * (reliability.md section 2): a deadline on open, `blocked` treated as failure instead of a hang,
 * the connection dropped on `versionchange` (another tab deleting or upgrading the database) and on
 * `close` (WebKit killing the IndexedDB process), and a reopen on the next call.
 * Returns null when IndexedDB is missing. Never throws synchronously from `use`.
 */
export function createIdbStore(dbName: string, storeName: string, timeoutMs = OPEN_TIMEOUT_MS): IdbStore | null {
  let factory: IDBFactory | undefined;
  try {
    factory = globalThis.indexedDB;
  } catch {
    // Some privacy modes throw SecurityError on the mere property access.
  }
  if (!factory) return null;
  let dbp: Promise<IDBDatabase> | undefined;

  const open = (): Promise<IDBDatabase> =>
    (dbp ??= new Promise<IDBDatabase>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error('IndexedDB open timed out')), timeoutMs);
      const req = factory.open(dbName, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(storeName)) req.result.createObjectStore(storeName);
      };
      req.onblocked = () => fail(new Error('IndexedDB open blocked'));
      req.onerror = () => fail(req.error);
      req.onsuccess = () => {
        const db = req.result;
        // An open that succeeds after we gave up must not hold a connection that blocks deletion.
        if (settled) return db.close();
        settled = true;
        clearTimeout(timer);
        db.onversionchange = () => {
          db.close();
          dbp = undefined;
        };
        db.onclose = () => (dbp = undefined);
        resolve(db);
      };
    }).catch((error: unknown) => {
      dbp = undefined;
      throw error;
    }));

  const use: UseStore = (mode, callback) =>
    open().then((db) => callback(db.transaction(storeName, mode).objectStore(storeName)));

  return {
    use,
    close() {
      const pending = dbp;
      dbp = undefined;
      pending?.then(
        (db) => db.close(),
        () => undefined,
      );
    },
  };
}
