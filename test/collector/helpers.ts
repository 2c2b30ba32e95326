import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseCollectorConfig, type CollectorConfig } from '../../src/collector/config';
import { createCollector, type CollectorOptions } from '../../src/collector/http/server';
import { toRoute } from '../../src/collector/destinations/config';
import { silentLogger } from '../../src/collector/log';
import { openStore } from '../../src/collector/store/open';
import type { LeadStore } from '../../src/collector/store/types';
import { leadEvent, VISITOR } from '../helpers/events';
import type { BeaconV2 } from '../../src/transport/payload';
import type { LeadEventType } from '../../src/types';

/** The PostgreSQL server the tests use (Debian's, started by .ci/run); each test makes its own database. */
export const PG_URL = process.env.LEADSCORE_TEST_DATABASE_URL ?? 'postgresql://root@/postgres?host=/var/run/postgresql';

let pgAvailable: Promise<string | null> | undefined;
/** Null when PostgreSQL answers; else why not. */
export function postgresMissing(): Promise<string | null> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (error) {
      return `no PostgreSQL at ${PG_URL}: ${(error as Error).message}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return pgAvailable;
}

export const skipPostgres = await (async () => {
  const missing = await postgresMissing();
  if (!missing) return false;
  const line = '='.repeat(78);
  console.error(`${line}\n  POSTGRESQL TESTS SKIPPED: ${missing}\n  Install and start it: apt-get install -y postgresql && pg_ctlcluster 15 main start\n  && su postgres -c "createuser -s $(whoami)"  (or set LEADSCORE_TEST_DATABASE_URL)\n${line}`);
  if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`REQUIRE_POSTGRES=1: ${missing}`);
  return true;
})();

/** A fresh database of each kind: its config, and a way to drop it. */
export interface TestDatabase {
  db: CollectorConfig['db'];
  /** Raw SQL on the same database (fault injection, checks). */
  sql(query: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

export async function sqliteDatabase(): Promise<TestDatabase> {
  const folder = mkdtempSync(join(tmpdir(), 'leadscore-test-'));
  const Database = (await import('better-sqlite3')).default;
  let raw: InstanceType<typeof Database> | null = null;
  return {
    db: { kind: 'sqlite', folder },
    async sql(query) {
      raw ??= new Database(join(folder, 'leadscore.sqlite'));
      const statement = raw.prepare(query);
      return statement.reader ? (statement.all() as Record<string, unknown>[]) : (statement.run(), []);
    },
    async drop() {
      raw?.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

export async function postgresDatabase(): Promise<TestDatabase> {
  const name = `leadscore_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const databaseUrl = PG_URL.replace(/\/postgres(\?|$)/, `/${name}$1`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    db: { kind: 'postgres', url: databaseUrl },
    async sql(query) {
      return (await client.query(query)).rows;
    },
    async drop() {
      await client.end().catch(() => undefined);
      const again = new pg.Client({ connectionString: PG_URL });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

export const KINDS: ['sqlite' | 'postgres', () => Promise<TestDatabase>][] = [
  ['sqlite', sqliteDatabase],
  ...(skipPostgres ? [] : ([['postgres', postgresDatabase]] as ['postgres', () => Promise<TestDatabase>][])),
];

export interface Running {
  url: string;
  store: LeadStore;
  config: CollectorConfig;
  close(): Promise<void>;
  streams: Awaited<ReturnType<typeof createCollector>>['streams'];
  dispatcher: Awaited<ReturnType<typeof createCollector>>['dispatcher'];
}

/** A collector on a random port over `database`, with settings as a config file would give them. */
export async function startCollector(
  database: TestDatabase,
  file: Record<string, unknown> = {},
  env: Record<string, string> = { LEADSCORE_ADMIN_PASSWORD: 'correct horse battery' },
  extra: Partial<CollectorOptions> = {},
): Promise<Running> {
  const { config, problems } = parseCollectorConfig({ file: { rateLimit: 100_000, ...file }, env, flags: {} });
  if (problems.length) throw new Error(problems.join('; '));
  config.db = database.db;
  const store = await openStore(config.db, { routes: config.destinations.map(toRoute) });
  const collector = await createCollector({ config, store, log: silentLogger, scripts: join(process.cwd(), 'dist'), version: 'test', ...extra });
  await new Promise<void>((resolve) => collector.server.listen(0, '127.0.0.1', resolve));
  const { port } = collector.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, store, config, close: () => collector.close(), streams: collector.streams, dispatcher: collector.dispatcher };
}

let counter = 0;
/** A lead event of a fresh visitor (or the given one). */
export function makeEvent(type: LeadEventType = 'qualified', overrides: Partial<BeaconV2> = {}): BeaconV2 {
  const visitor = overrides.visitor ?? `visitor-${process.pid}-${++counter}`;
  const base = leadEvent(type);
  return { ...base, visitor, id: base.id.replace(VISITOR, visitor), ...overrides };
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url + '/collect', { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Signs in; returns headers for cookie requests (with the CSRF token) . */
export async function signIn(url: string, password = 'correct horse battery'): Promise<Record<string, string>> {
  const response = await fetch(url + '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
  if (response.status !== 200) throw new Error(`sign-in: ${response.status}`);
  const { csrf } = (await response.json()) as { csrf: string };
  return { cookie: response.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': csrf };
}
