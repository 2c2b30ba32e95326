import type { CollectorConfig } from '../config';
import type { LeadStore, StoreOptions } from './types';

/**
 * Opens the configured database and runs its migrations. The embedded driver (better-sqlite3, a
 * native addon) is an optional dependency: when it could not be built, this says how to fix it
 * instead of crashing on import.
 */
export async function openStore(db: CollectorConfig['db'], options: StoreOptions = {}): Promise<LeadStore> {
  let store: LeadStore;
  if (db.kind === 'postgres') {
    const { openPostgresStore } = await import('./postgres.js');
    store = openPostgresStore(db.url, options);
  } else {
    let sqlite: typeof import('./sqlite.js');
    try {
      sqlite = await import('./sqlite.js');
    } catch (error) {
      throw new Error(
        `the embedded database needs better-sqlite3, which is not installed or not built for this Node.js (${(error as Error).message}). ` +
          'Run `npm install better-sqlite3@12` (it builds with python3, make and a C++ compiler), or set DATABASE_URL to a PostgreSQL server.',
      );
    }
    store = sqlite.openSqliteStore(db.folder, options);
  }
  await store.migrate();
  return store;
}
