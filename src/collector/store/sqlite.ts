import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LeadEvent } from '../../receiver/parse';
import { foldEvent, leadIdOf, type EventMeta, type Lead } from '../leads/lead';
import { MIGRATIONS } from './migrations';
import { parseLead, applyChange, encodeCursor, statsQueries, toDetail, toStats, pageOptions, ROW_COLUMNS, sortValue, toEvent, toRow, whereOf } from './shared';
import { changeJobRows, CLAIM_JOBS, FINISH_JOB, finishValues, grouped, INSERT_JOB, JOB_COUNTS, jobRows, jobValues, listJobsQuery, RELEASE_HELD, REQUEUE_JOB, toJob } from './outbox';
import { parseStored } from '../values';
import type { ClaimedJob, InsertOutcome, LeadChange, LeadPage, LeadQuery, LeadStore, StoreOptions } from './types';

interface Pending {
  event: LeadEvent;
  meta: EventMeta;
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * The embedded database: SQLite through better-sqlite3, one file in the data folder, WAL journal
 * with `synchronous = FULL` (every commit is on disk before it returns). Inserts that arrive
 * together are committed together (group commit: one fsync for the batch, each event in its own
 * savepoint), and each insert's promise settles only after that commit.
 */
export function openSqliteStore(folder: string, options: StoreOptions = {}): LeadStore {
  const routes = options.routes ?? [];
  mkdirSync(folder, { recursive: true });
  const db = new Database(join(folder, 'leadscore.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');

  let statements: ReturnType<typeof prepare> | null = null;
  const prepare = () => ({
    insertEvent: db.prepare('INSERT OR IGNORE INTO events (id, lead_id, type, at, received_at, bot, flags, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    readLead: db.prepare('SELECT data FROM leads WHERE id = ?'),
    upsertLead: db.prepare(
      `INSERT INTO leads (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map((c) => '@' + c).join(', ')})
       ON CONFLICT (id) DO UPDATE SET ${ROW_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ),
    history: db.prepare('INSERT INTO lead_history (lead_id, at, by_user, kind, value) VALUES (?, ?, ?, ?, ?)'),
    insertJob: db.prepare(INSERT_JOB(() => '?')),
    releaseHeld: db.prepare(RELEASE_HELD(() => '?')),
    claimJobs: db.prepare(CLAIM_JOBS(() => '?', '')),
    finishJob: db.prepare(FINISH_JOB(() => '?')),
    readEventBody: db.prepare('SELECT body FROM events WHERE id = ?'),
  });
  const q = () => '?';
  const sql = () => (statements ??= prepare());

  const insertOne = db.transaction((event: LeadEvent, meta: EventMeta): InsertOutcome => {
    const leadId = leadIdOf(event.site, event.visitor);
    const result = sql().insertEvent.run(event.id, leadId, event.type, event.at, meta.receivedAt, meta.bot ? 1 : 0, JSON.stringify(meta.flags), JSON.stringify(event));
    if (result.changes === 0) return { stored: false, duplicate: true };
    const row = sql().readLead.get(leadId) as { data: string } | undefined;
    // A damaged row is rebuilt from this event (the documented fallback), never a failing insert.
    const previous = row ? parseLead(row.data) : null;
    const lead = foldEvent(previous, event, meta);
    sql().upsertLead.run(toRow(lead));
    // The outbox: this event's delivery jobs commit with it.
    for (const job of jobRows(routes, lead, event.type, event.id, meta.receivedAt)) sql().insertJob.run(...jobValues(job));
    if (lead.email && !previous?.email && routes.length) sql().releaseHeld.run(meta.receivedAt, leadId);
    return { stored: true, lead };
  });

  let queue: Pending[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const batch = queue;
    queue = [];
    const outcomes: (InsertOutcome | { error: unknown })[] = [];
    try {
      db.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push(insertOne(item.event, item.meta));
          } catch (error) {
            // Its savepoint rolled back; the others in the batch still commit.
            outcomes.push({ error });
          }
        }
      })();
    } catch (error) {
      // The commit itself failed: nothing of the batch is durable.
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if ('error' in outcome) item.reject(outcome.error);
      else item.resolve(outcome);
    });
  };

  // Outcomes that arrive together are committed together (one fsync), like inserts.
  const finishes = grouped((batch: unknown[][]) => db.transaction(() => batch.map((values) => sql().finishJob.run(...values).changes > 0))());

  return {
    kind: 'sqlite',
    async migrate(migrations = MIGRATIONS) {
      db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
      const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => row.version));
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        db.transaction(() => {
          db.exec(migration.sql.sqlite);
          db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
        }).immediate();
      }
      statements = null;
    },
    insert(event, meta) {
      return new Promise((resolve, reject) => {
        queue.push({ event, meta, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // Everything that arrived in this turn of the event loop shares one commit.
          setImmediate(flush);
        }
      });
    },
    async list(query: LeadQuery): Promise<LeadPage> {
      const page = pageOptions(query);
      const where = whereOf(query, () => '?', page.cursor ? { column: page.column, order: page.order, at: page.cursor } : null);
      const rows = db
        .prepare(`SELECT data FROM leads ${where.sql} ORDER BY ${page.column} ${page.order}, id ${page.order} LIMIT ${page.limit + 1}`)
        .all(...where.values) as { data: string }[];
      const leads = rows.slice(0, page.limit).map((row) => parseLead(row.data)).filter((lead): lead is Lead => lead !== null);
      const last = leads.at(-1);
      return rows.length > page.limit && last ? { leads, next: encodeCursor({ value: sortValue(last, page.sort), id: last.id }) } : { leads };
    },
    async stats(filter) {
      const { sql: queries, values } = statsQueries(filter, () => '?', 'MIN(10, CAST(score / 10 AS INTEGER))');
      const run = (text: string, params: unknown[] = values) => db.prepare(text).all(...params) as Record<string, unknown>[];
      return toStats({ totals: run(queries.totals), byDay: run(queries.byDay), byStatus: run(queries.byStatus), bySource: run(queries.bySource), byScore: run(queries.byScore), sites: run(queries.sites, []), stages: run(queries.stages, []) });
    },
    async get(id) {
      const row = sql().readLead.get(id) as { data: string } | undefined;
      if (!row) return null;
      const events = (db.prepare('SELECT id, type, at, received_at, bot, flags, body FROM events WHERE lead_id = ? ORDER BY at, id LIMIT 1000').all(id) as Record<string, unknown>[]).map(toEvent);
      const history = db.prepare('SELECT at, by_user, kind, value FROM lead_history WHERE lead_id = ? ORDER BY at, rowid').all(id) as Record<string, unknown>[];
      return toDetail(row.data, events, history);
    },
    async update(id: string, change: LeadChange, by: string, at: number) {
      return db.transaction((): Lead | null => {
        const row = sql().readLead.get(id) as { data: string } | undefined;
        if (!row) return null;
        const before = parseLead(row.data);
        if (!before) return null;
        const lead = applyChange(before, change, by, at, (kind, value) => sql().history.run(id, at, by, kind, value));
        sql().upsertLead.run(toRow(lead));
        for (const job of changeJobRows(routes, before, lead, by, at)) sql().insertJob.run(...jobValues(job));
        return lead;
      }).immediate();
    },
    async createSession(session) {
      db.prepare('DELETE FROM sessions WHERE expires < ?').run(Date.now());
      db.prepare('INSERT INTO sessions (id, csrf, user_name, expires) VALUES (?, ?, ?, ?)').run(session.id, session.csrf, session.user, session.expires);
    },
    async readSession(id, now) {
      const row = db.prepare('SELECT csrf, user_name FROM sessions WHERE id = ? AND expires > ?').get(id, now) as { csrf: string; user_name: string } | undefined;
      return row ? { csrf: row.csrf, user: row.user_name } : null;
    },
    async deleteSession(id) {
      db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
    },
    async claimJobs(destination, now, limit, leaseUntil, owner) {
      const rows = db.transaction(() => sql().claimJobs.all(leaseUntil, owner, destination, now, now, limit) as Record<string, unknown>[]).immediate();
      const jobs = rows.map(toJob).sort((a, b) => a.seq - b.seq);
      return jobs.map((job): ClaimedJob => {
        const lead = sql().readLead.get(job.leadId) as { data: string } | undefined;
        const event = job.change ? undefined : (sql().readEventBody.get(job.eventId) as { body: string } | undefined);
        return { ...job, lead: parseLead(lead?.data), event: parseStored<LeadEvent>(event?.body) };
      });
    },
    finishJob(seq, owner, result) {
      return finishes.add(finishValues(seq, owner, result));
    },
    async requeueJob(seq, now) {
      const row = db.prepare(REQUEUE_JOB(q)).get(now, now, seq) as Record<string, unknown> | undefined;
      return row ? toJob(row) : null;
    },
    async listJobs(filter) {
      const query = listJobsQuery(filter, q);
      return (db.prepare(query.sql).all(...query.values) as Record<string, unknown>[]).map(toJob);
    },
    async jobCounts() {
      return (db.prepare(JOB_COUNTS).all() as { destination: string; state: string; count: number }[]).map((row) => ({ destination: row.destination, state: row.state as never, count: Number(row.count) }));
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      if (queue.length) flush();
      await finishes.flush();
      db.close();
    },
  };
}

