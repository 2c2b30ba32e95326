import { DB_NAME, STORE_NAME, VISITOR_KEY } from '../../src/store/visitor';

/** The raw stored visitor record, read straight from IndexedDB as another tab would (undefined if none). */
export function readStoredRecord(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(STORE_NAME)) return resolve(undefined), db.close();
      const request = db.transaction(STORE_NAME).objectStore(STORE_NAME).get(VISITOR_KEY);
      request.onsuccess = () => (resolve(request.result), db.close());
      request.onerror = () => (reject(request.error), db.close());
    };
  });
}
