import { promisifyRequest, type UseStore } from 'idb-keyval';
import { createIdbStore, OPEN_TIMEOUT_MS, type IdbStore } from './idb';

/**
 * Every IndexedDB operation of ours has this deadline (opening has its own, OPEN_TIMEOUT_MS): a
 * database another page holds locked (WebKit, see tracker persistNow) must not hang the page. After
 * it the store continues in memory from the last committed record. Generous, because abandoning a
 * slow transaction that would have committed leaves the page on a copy.
 */
export const OPERATION_TIMEOUT_MS = 10_000;

/** Our own database, never idb-keyval's default `keyval-store`, which host pages may use and clear. */
export const DB_NAME = 'leadscore';
export const STORE_NAME = 'kv';
/** The key carries the record's shape version (see engine/record.ts). */
export const VISITOR_KEY = 'visitor.v1';

export type StorageMode = 'idb' | 'memory';

export interface VisitorStore {
  readonly mode: StorageMode;
  /**
   * Atomic read-modify-write of the visitor record (one readwrite transaction, so tabs never lose
   * each other's updates). `updater` must be synchronous; it receives the untrusted stored value
   * and returns the value to store. It may run more than once (retry, memory fallback): callers
   * that need more than the stored value capture it in a closure and trust it once this resolves.
   * Resolves to the committed value; never rejects: after a storage failure the store continues in
   * memory for the page's life.
   */
  update(updater: (stored: unknown) => unknown): Promise<unknown>;
  /** The stored value (untrusted), or the in-memory one. Never rejects. */
  read(): Promise<unknown>;
  /** Deletes the record and the database. Never rejects. */
  clear(): Promise<void>;
}

export interface VisitorStoreOptions {
  /** false: memory only (no consent, privacy signals, opt-out). */
  persist: boolean;
  /** Told once, when IndexedDB fails and the store switches to memory. */
  onFallback?: (reason: unknown) => void;
  timeoutMs?: number;
  operationTimeoutMs?: number;
}

/*
 * idb-keyval's get/update/del, on our one key. Its own functions take the store as a parameter
 * whose default creates idb-keyval's `keyval-store`; no bundler can drop that default, and it cost
 * the snippet ~0.1 KB brotli for code that never runs. `update` is theirs line for line: the read
 * and the write are one readwrite transaction.
 */
const get = (key: string, use: UseStore): Promise<unknown> => use('readonly', (store) => promisifyRequest(store.get(key)));
const update = (key: string, updater: (old: unknown) => unknown, use: UseStore): Promise<void> =>
  use(
    'readwrite',
    (store) =>
      new Promise<void>((resolve, reject) => {
        store.get(key).onsuccess = function (this: IDBRequest) {
          try {
            store.put(updater(this.result), key);
            resolve(promisifyRequest(store.transaction) as Promise<unknown> as Promise<void>);
          } catch (error) {
            reject(error);
          }
        };
      }),
  );
const del = (key: string, use: UseStore): Promise<void> =>
  use('readwrite', (store) => {
    store.delete(key);
    return promisifyRequest(store.transaction) as Promise<unknown> as Promise<void>;
  });

// Errors after which one retry on a fresh connection usually succeeds (idb-keyval #142, #158, #165).
const RETRYABLE = ['InvalidStateError', 'UnknownError', 'TransactionInactiveError'];
const isRetryable = (error: unknown): boolean => error instanceof Error && RETRYABLE.includes(error.name);

export function createVisitorStore(options: VisitorStoreOptions): VisitorStore {
  const timeoutMs = options.timeoutMs ?? OPEN_TIMEOUT_MS;
  const operationTimeoutMs = options.operationTimeoutMs ?? OPERATION_TIMEOUT_MS;
  let idb: IdbStore | null = options.persist ? createIdbStore(DB_NAME, STORE_NAME, timeoutMs) : null;
  let memory: unknown;

  const fallBack = (reason: unknown): void => {
    if (!idb) return;
    idb.close();
    idb = null;
    options.onFallback?.(reason);
  };
  if (options.persist && !idb) options.onFallback?.(new Error('IndexedDB is not available'));

  /**
   * Runs an IndexedDB operation with one retry; null when it failed for good. The deadline is on
   * opening (store/idb.ts), not on each operation: a slow transaction on a busy device is still
   * a transaction that will commit, and abandoning it would leave the page with a stale copy.
   */
  async function attempt<T>(operation: (store: IdbStore) => Promise<T>, onTimeout?: () => void): Promise<{ value: T } | null> {
    for (let tries = 0; idb && tries < 2; tries++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            onTimeout?.();
            reject(new Error('IndexedDB operation timed out'));
          }, operationTimeoutMs);
        });
        return { value: await Promise.race([operation(idb), deadline]) };
      } catch (error) {
        if (tries > 0 || !isRetryable(error)) fallBack(error);
      } finally {
        clearTimeout(timer);
      }
    }
    return null;
  }

  return {
    get mode(): StorageMode {
      return idb ? 'idb' : 'memory';
    },

    async update(updater) {
      let next: unknown;
      let abandoned = false;
      const outcome = await attempt(
        (store) =>
          update(
            VISITOR_KEY,
            (stored) => {
              // A transaction that starts after its deadline writes nothing: the page went on in memory.
              if (abandoned) throw new Error('abandoned');
              return (next = updater(stored));
            },
            store.use,
          ),
        () => (abandoned = true),
      );
      return (memory = outcome ? next : updater(memory));
    },

    async read() {
      const outcome = await attempt((store) => get(VISITOR_KEY, store.use));
      return outcome ? outcome.value : memory;
    },

    async clear() {
      memory = undefined;
      const store = idb;
      if (!store) return;
      await attempt(() => del(VISITOR_KEY, store.use));
      store.close();
      // Wait for the deletion: a write queued after clear() (consent granted again) must land in
      // the new database, not in the one being deleted. Bounded: other tabs close their
      // connections on `versionchange`, but a page that does not must not hang us.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        try {
          const request = indexedDB.deleteDatabase(DB_NAME);
          request.onsuccess = request.onerror = done;
        } catch {
          done(); // Deleting the key above already removed the visitor's data.
        }
      });
    },
  };
}
