import pg from 'pg';
import type { LeadEvent } from '../../receiver/parse';
import { foldEvent, leadIdOf, type EventMeta, type Lead } from '../leads/lead';
import { MIGRATIONS } from './migrations';
import { parseLead, applyChange, encodeCursor, statsQueries, toDetail, toStats, pageOptions, ROW_COLUMNS, sortValue, toEvent, toRow, whereOf } from './shared';
import { changeJobRows, CLAIM_JOBS, FINISH_JOB, finishValues, grouped, INSERT_JOB, JOB_COUNTS, jobRows, jobValues, listJobsQuery, RELEASE_HELD, REQUEUE_JOB, toJob } from './outbox';
import { parseStored } from '../values';
import type { ClaimedJob, LeadChange, LeadPage, LeadQuery, LeadStore, StoreOptions } from './types';

const $ = (i: number): string => `$${i}`;

/** Any number of collector instances share one PostgreSQL: nothing of the lead model lives in process memory. */
const MIGRATION_LOCK = 7_512_019;

const UPSERT = `INSERT INTO leads (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${ROW_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ')}`;
const upsertValues = (lead: Lead): unknown[] => Object.values(toRow(lead));

/**
 * PostgreSQL through node-postgres. An insert is one transaction: the event row (its id is the
 * primary key: the de-duplication), a per-lead advisory lock (two instances folding events of one
 * lead take turns), the lead read, folded and written. The promise resolves after COMMIT.
 */
export function openPostgresStore(url: string, options: { max?: number } & StoreOptions = {}): LeadStore {
  const routes = options.routes ?? [];
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // A connection's error (the server restarted, the connection was killed) must never crash the
  // process: idle clients report it to the pool, busy ones to themselves; the query in flight
  // rejects (its request answers 503 and is retried), and the broken client is not reused.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => void client.on('error', () => undefined));

  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let failed = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failed = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // After a failure the connection may be broken: close it rather than hand it to the next request.
      client.release(failed);
    }
  }

  // Outcomes that arrive together are committed in one transaction (one WAL flush).
  const finishes = grouped((batch: unknown[][]) =>
    transaction(async (client) => {
      const kept: boolean[] = [];
      for (const values of batch) kept.push(((await client.query(FINISH_JOB($), values)).rowCount ?? 0) > 0);
      return kept;
    }),
  );

  return {
    kind: 'postgres',
    async migrate(migrations = MIGRATIONS) {
      const client = await pool.connect();
      let failed = false;
      try {
        // Instances starting together: one migrates, the others wait here and then find it done.
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
        const done = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((row) => Number(row.version)));
        for (const migration of migrations) {
          if (done.has(migration.version)) continue;
          // One transaction per version: a crash (or a dropped connection) half-way rolls it all back.
          await client.query('BEGIN');
          try {
            await client.query(migration.sql.postgres);
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        }
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        if (!failed) await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        // A connection that failed is closed, not reused: closing it also frees the session's lock.
        client.release(failed);
      }
    },
    insert(event: LeadEvent, meta: EventMeta) {
      const leadId = leadIdOf(event.site, event.visitor);
      return transaction(async (client) => {
        const inserted = await client.query(
          'INSERT INTO events (id, lead_id, type, at, received_at, bot, flags, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING',
          [event.id, leadId, event.type, event.at, meta.receivedAt, meta.bot ? 1 : 0, JSON.stringify(meta.flags), JSON.stringify(event)],
        );
        if (inserted.rowCount === 0) return { stored: false as const, duplicate: true as const };
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [leadId]);
        const row = (await client.query('SELECT data FROM leads WHERE id = $1', [leadId])).rows[0] as { data: string } | undefined;
        // A damaged row is rebuilt from this event (the documented fallback), never a failing insert.
        const previous = row ? parseLead(row.data) : null;
        const lead = foldEvent(previous, event, meta);
        await client.query(UPSERT, upsertValues(lead));
        // The outbox: this event's delivery jobs commit with it.
        for (const job of jobRows(routes, lead, event.type, event.id, meta.receivedAt)) await client.query(INSERT_JOB($), jobValues(job));
        if (lead.email && !previous?.email && routes.length) await client.query(RELEASE_HELD($), [meta.receivedAt, leadId]);
        return { stored: true as const, lead };
      });
    },
    async list(query: LeadQuery): Promise<LeadPage> {
      const page = pageOptions(query);
      const where = whereOf(query, (i) => `$${i}`, page.cursor ? { column: page.column, order: page.order, at: page.cursor } : null);
      const { rows } = await pool.query(`SELECT data FROM leads ${where.sql} ORDER BY ${page.column} ${page.order}, id ${page.order} LIMIT ${page.limit + 1}`, where.values);
      const leads = rows.slice(0, page.limit).map((row) => parseLead(row.data)).filter((lead): lead is Lead => lead !== null);
      const last = leads.at(-1);
      return rows.length > page.limit && last ? { leads, next: encodeCursor({ value: sortValue(last, page.sort), id: last.id }) } : { leads };
    },
    async stats(filter) {
      const { sql: queries, values } = statsQueries(filter, (i) => `$${i}`, 'LEAST(10, FLOOR(score / 10))::int');
      const run = async (text: string, params: unknown[] = values) => (await pool.query(text, params)).rows as Record<string, unknown>[];
      const [totals, byDay, byStatus, bySource, byScore, sites, stages] = await Promise.all([run(queries.totals), run(queries.byDay), run(queries.byStatus), run(queries.bySource), run(queries.byScore), run(queries.sites, []), run(queries.stages, [])]);
      return toStats({ totals, byDay, byStatus, bySource, byScore, sites, stages });
    },
    async get(id) {
      const row = (await pool.query('SELECT data FROM leads WHERE id = $1', [id])).rows[0] as { data: string } | undefined;
      if (!row) return null;
      const events = (await pool.query('SELECT id, type, at, received_at, bot, flags, body FROM events WHERE lead_id = $1 ORDER BY at, id LIMIT 1000', [id])).rows.map(toEvent);
      const history = (await pool.query('SELECT at, by_user, kind, value FROM lead_history WHERE lead_id = $1 ORDER BY at, ctid', [id])).rows;
      return toDetail(row.data, events, history);
    },
    update(id: string, change: LeadChange, by: string, at: number) {
      return transaction(async (client) => {
        const row = (await client.query('SELECT data FROM leads WHERE id = $1 FOR UPDATE', [id])).rows[0] as { data: string } | undefined;
        if (!row) return null;
        const records: [string, string][] = [];
        const before = parseLead(row.data);
        if (!before) return null;
        const lead = applyChange(before, change, by, at, (kind, value) => void records.push([kind, value]));
        for (const [kind, value] of records) await client.query('INSERT INTO lead_history (lead_id, at, by_user, kind, value) VALUES ($1, $2, $3, $4, $5)', [id, at, by, kind, value]);
        await client.query(UPSERT, upsertValues(lead));
        for (const job of changeJobRows(routes, before, lead, by, at)) await client.query(INSERT_JOB($), jobValues(job));
        return lead;
      });
    },
    async createSession(session) {
      await pool.query('DELETE FROM sessions WHERE expires < $1', [Date.now()]);
      await pool.query('INSERT INTO sessions (id, csrf, user_name, expires) VALUES ($1, $2, $3, $4)', [session.id, session.csrf, session.user, session.expires]);
    },
    async readSession(id, now) {
      const row = (await pool.query('SELECT csrf, user_name FROM sessions WHERE id = $1 AND expires > $2', [id, now])).rows[0];
      return row ? { csrf: String(row.csrf), user: String(row.user_name) } : null;
    },
    async deleteSession(id) {
      await pool.query('DELETE FROM sessions WHERE id = $1', [id]);
    },
    async claimJobs(destination, now, limit, leaseUntil, owner) {
      // SKIP LOCKED: instances claiming together each get other jobs, never the same one.
      const { rows } = await pool.query(CLAIM_JOBS($, 'FOR UPDATE SKIP LOCKED'), [leaseUntil, owner, destination, now, limit]);
      const jobs = rows.map(toJob).sort((a, b) => a.seq - b.seq);
      if (!jobs.length) return [];
      const leads = new Map((await pool.query('SELECT id, data FROM leads WHERE id = ANY($1)', [jobs.map((job) => job.leadId)])).rows.map((row) => [String(row.id), parseLead(row.data)]));
      const events = new Map((await pool.query('SELECT id, body FROM events WHERE id = ANY($1)', [jobs.map((job) => job.eventId)])).rows.map((row) => [String(row.id), parseStored<LeadEvent>(row.body)]));
      return jobs.map((job): ClaimedJob => ({ ...job, lead: leads.get(job.leadId) ?? null, event: job.change ? null : (events.get(job.eventId) ?? null) }));
    },
    finishJob(seq, owner, result) {
      return finishes.add(finishValues(seq, owner, result));
    },
    async requeueJob(seq, now) {
      const { rows } = await pool.query(REQUEUE_JOB($), [now, seq]);
      return rows[0] ? toJob(rows[0]) : null;
    },
    async listJobs(filter) {
      const query = listJobsQuery(filter, $);
      return (await pool.query(query.sql, query.values)).rows.map(toJob);
    },
    async jobCounts() {
      return (await pool.query(JOB_COUNTS)).rows.map((row) => ({ destination: String(row.destination), state: row.state, count: Number(row.count) }));
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await finishes.flush();
      await pool.end();
    },
  };
}
