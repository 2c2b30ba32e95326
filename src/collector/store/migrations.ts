import { deliveriesTable } from './outbox';

/**
 * Versioned migrations, per dialect. Each version runs in one transaction with its record in
 * `schema_migrations`, so a restart mid-migration re-runs it from the start; PostgreSQL takes an
 * advisory lock first, so instances starting together migrate once. Append only: a shipped
 * version is never edited.
 */
export interface Migration {
  version: number;
  name: string;
  sql: { sqlite: string; postgres: string };
}

const leads = (json: string, bigint: string) => `
CREATE TABLE leads (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  visitor TEXT NOT NULL,
  email TEXT,
  stage TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  qualified_score DOUBLE PRECISION NOT NULL,
  qualified_at ${bigint} NOT NULL,
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  owner TEXT,
  first_seen ${bigint} NOT NULL,
  last_seen ${bigint} NOT NULL,
  flagged INTEGER NOT NULL,
  search TEXT NOT NULL,
  data ${json} NOT NULL,
  UNIQUE (site, visitor)
);
CREATE INDEX leads_last_seen ON leads (last_seen, id);
CREATE INDEX leads_score ON leads (score, id);
CREATE INDEX leads_qualified_at ON leads (qualified_at, id);
CREATE INDEX leads_site_last_seen ON leads (site, last_seen, id);
CREATE INDEX leads_status_last_seen ON leads (status, last_seen, id);
CREATE INDEX leads_source_last_seen ON leads (source, last_seen, id);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  lead_id TEXT NOT NULL,
  type TEXT NOT NULL,
  at ${bigint} NOT NULL,
  received_at ${bigint} NOT NULL,
  bot INTEGER NOT NULL,
  flags TEXT NOT NULL,
  body ${json} NOT NULL
);
CREATE INDEX events_lead ON events (lead_id, at);
CREATE TABLE lead_history (
  lead_id TEXT NOT NULL,
  at ${bigint} NOT NULL,
  by_user TEXT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX lead_history_lead ON lead_history (lead_id, at);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  csrf TEXT NOT NULL,
  user_name TEXT NOT NULL,
  expires ${bigint} NOT NULL
);
`;

/** The same SQL in both dialects. */
const CART_VALUE = 'ALTER TABLE leads ADD COLUMN cart_value DOUBLE PRECISION NOT NULL DEFAULT 0; CREATE INDEX leads_cart_value ON leads (cart_value, id);';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'leads, events, history, sessions',
    sql: { sqlite: leads('TEXT', 'INTEGER'), postgres: leads('TEXT', 'BIGINT') },
  },
  {
    // Sort leads by what they want: the cart's value (leads stored before it count 0 until their next event).
    version: 2,
    name: 'cart value column',
    sql: { sqlite: CART_VALUE, postgres: CART_VALUE },
  },
  {
    // The transactional outbox: one delivery job per lead event and destination.
    version: 3,
    name: 'deliveries',
    sql: { sqlite: deliveriesTable('INTEGER', 'INTEGER PRIMARY KEY AUTOINCREMENT'), postgres: deliveriesTable('BIGINT', 'BIGSERIAL PRIMARY KEY') },
  },
];
