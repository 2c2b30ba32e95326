import type { LeadEvent } from '../../receiver/parse';
import { isFlagged, searchText, type Lead } from '../leads/lead';
import { isObject, parseStored } from '../values';
import { SORT_FIELDS, type LeadChange, type LeadFilter, type LeadQuery, type LeadStats, type SortField, type StoredEvent } from './types';

/**
 * What both dialects share: the columns a lead is filtered and sorted on (the full lead is one JSON
 * column beside them), keyset cursors and the search text.
 */

/** Sort field -> column expression (NULL-free, so keyset comparisons hold). */
export const SORT_COLUMNS: Record<SortField, string> = {
  lastSeen: 'last_seen',
  score: 'score',
  qualifiedAt: 'qualified_at',
  firstSeen: 'first_seen',
  email: "COALESCE(email, '')",
  stage: 'stage',
  status: 'status',
  source: 'source',
  cartValue: 'cart_value',
};

export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;

/** The row a lead is stored as (the same columns in both dialects). */
export function toRow(lead: Lead) {
  return {
    id: lead.id,
    site: lead.site,
    visitor: lead.visitor,
    email: lead.email,
    stage: lead.stage,
    score: lead.score,
    qualified_score: lead.qualifiedScore,
    qualified_at: lead.qualifiedAt,
    source: lead.source,
    status: lead.status,
    owner: lead.owner,
    first_seen: lead.firstSeen,
    last_seen: lead.lastSeen,
    flagged: isFlagged(lead) ? 1 : 0,
    cart_value: lead.interest.cart?.value ?? 0,
    search: searchText(lead),
    data: JSON.stringify(lead),
  };
}
export const ROW_COLUMNS = Object.keys(toRow({ interest: { items: [] } } as unknown as Lead));

export interface Cursor {
  value: string | number;
  id: string;
}
export const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify([cursor.value, cursor.id])).toString('base64url');
export function decodeCursor(text: string | undefined): Cursor | null {
  if (!text) return null;
  try {
    const [value, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if ((typeof value === 'string' || typeof value === 'number') && typeof id === 'string') return { value, id };
  } catch {
    // A cursor that does not parse starts from the first page.
  }
  return null;
}

/** A sort value of a lead, as its column holds it. */
export function sortValue(lead: Lead, sort: SortField): string | number {
  switch (sort) {
    case 'lastSeen':
      return lead.lastSeen;
    case 'score':
      return lead.score;
    case 'qualifiedAt':
      return lead.qualifiedAt;
    case 'firstSeen':
      return lead.firstSeen;
    case 'email':
      return lead.email ?? '';
    case 'cartValue':
      return lead.interest.cart?.value ?? 0;
    default:
      return lead[sort];
  }
}

/**
 * WHERE clause and parameters for a filter, with `param(i)` naming the i-th parameter (`?` in
 * SQLite, `$i` in PostgreSQL) and `like` the case-insensitive substring operator.
 */
export function whereOf(filter: LeadFilter, param: (index: number) => string, cursor: { column: string; order: 'asc' | 'desc'; at: Cursor } | null) {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown): void => {
    values.push(value);
    clauses.push(sql(param(values.length)));
  };
  if (filter.site) add((p) => `site = ${p}`, filter.site);
  if (filter.stage) add((p) => `stage = ${p}`, filter.stage);
  if (filter.status) add((p) => `status = ${p}`, filter.status);
  if (filter.source) add((p) => `source = ${p}`, filter.source);
  if (filter.from !== undefined) add((p) => `last_seen >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `last_seen <= ${p}`, filter.to);
  if (filter.identified) clauses.push('email IS NOT NULL');
  if (filter.hideFlagged) clauses.push('flagged = 0');
  if (filter.q) add((p) => `search LIKE ${p} ESCAPE '\\'`, `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`);
  if (cursor) {
    values.push(cursor.at.value, cursor.at.value, cursor.at.id);
    const [a, b, c] = [values.length - 2, values.length - 1, values.length].map(param);
    const op = cursor.order === 'desc' ? '<' : '>';
    clauses.push(`(${cursor.column} ${op} ${a} OR (${cursor.column} = ${b} AND id ${op} ${c}))`);
  }
  return { sql: clauses.length ? 'WHERE ' + clauses.join(' AND ') : '', values };
}

export function pageOptions(query: LeadQuery) {
  const sort: SortField = SORT_FIELDS.includes(query.sort as SortField) ? (query.sort as SortField) : 'lastSeen';
  const order = query.order === 'asc' ? 'asc' : 'desc';
  const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(query.limit ?? DEFAULT_PAGE)));
  return { sort, order, limit, column: SORT_COLUMNS[sort], cursor: decodeCursor(query.cursor) } as const;
}

export function toEvent(row: Record<string, unknown>): StoredEvent {
  return {
    id: String(row.id),
    type: String(row.type),
    at: Number(row.at),
    receivedAt: Number(row.received_at),
    // A damaged row shows as an empty body and a flag, never a failing page.
    body: (typeof row.body === 'string' ? (parseStored<LeadEvent>(row.body) ?? {}) : (row.body ?? {})) as LeadEvent,
    bot: Number(row.bot) === 1,
    flags: (() => {
      const flags = parseStored<unknown[]>(row.flags);
      return Array.isArray(flags) ? flags.map(String) : ['damaged row'];
    })(),
  };
}

/** A status, owner or note change, recorded in the history with who and when. Pure but for `record`. */
export function applyChange(lead: Lead, change: LeadChange, by: string, at: number, record: (kind: string, value: string) => void): Lead {
  const next = { ...lead, updatedAt: at };
  if (change.status !== undefined && change.status !== lead.status) {
    next.status = change.status;
    next.statusBy = by;
    next.statusAt = at;
    record('status', change.status);
  }
  if (change.owner !== undefined && change.owner !== lead.owner) {
    next.owner = change.owner;
    record('owner', change.owner ?? '');
  }
  if (change.note) record('note', change.note);
  return next;
}


/**
 * A stored lead, or null when its row is damaged (not JSON, or not a lead's shape). Documented
 * fallback: lists leave it out, its page answers 404, and the next event of that visitor rebuilds it.
 */
export function parseLead(data: unknown): Lead | null {
  const lead = parseStored<Lead>(data);
  return lead && typeof lead.id === 'string' && typeof lead.site === 'string' && typeof lead.visitor === 'string' && isObject(lead.interest) && Array.isArray(lead.interest.items) && Array.isArray(lead.interest.categories) && isObject(lead.rules) && isObject(lead.signals) && isObject(lead.attribution) ? lead : null;
}

/** A lead's detail from its rows (null when the lead's row is damaged): the lead, its events, and its history split into changes and notes. */
export function toDetail(data: string, events: StoredEvent[], history: Record<string, unknown>[]) {
  const lead = parseLead(data);
  if (!lead) return null;
  const entries = history.map((row) => ({ at: Number(row.at), by: String(row.by_user), kind: String(row.kind), change: String(row.value) }));
  const without = ({ kind: _kind, ...entry }: (typeof entries)[number]) => entry;
  return {
    lead,
    events,
    history: entries.filter((entry) => entry.kind !== 'note').map(without),
    notes: entries.filter((entry) => entry.kind === 'note').map(without),
  };
}

/** The overview's queries for a filter; `band` is the dialect's integer band of a score. */
export function statsQueries(filter: LeadFilter, param: (index: number) => string, band: string) {
  const where = whereOf(filter, param, null);
  const from = `FROM leads ${where.sql}`;
  return {
    values: where.values,
    sql: {
      totals: `SELECT COUNT(*) AS total, SUM(flagged) AS flagged, SUM(CASE WHEN email IS NULL THEN 0 ELSE 1 END) AS identified ${from}`,
      byDay: `SELECT qualified_at / 86400000 AS day, COUNT(*) AS n ${from} GROUP BY qualified_at / 86400000 ORDER BY day`,
      byStatus: `SELECT status AS k, COUNT(*) AS n ${from} GROUP BY status`,
      bySource: `SELECT source AS k, COUNT(*) AS n ${from} GROUP BY source`,
      byScore: `SELECT ${band} AS band, COUNT(*) AS n ${from} GROUP BY ${band} ORDER BY band`,
      sites: 'SELECT DISTINCT site AS k FROM leads ORDER BY site LIMIT 200',
      stages: 'SELECT DISTINCT stage AS k FROM leads ORDER BY stage LIMIT 50',
    },
  };
}

/** Rows of the overview's queries -> LeadStats. */
type Rows = Record<string, unknown>[];
export function toStats(rows: { totals: Rows; byDay: Rows; byStatus: Rows; bySource: Rows; byScore: Rows; sites: Rows; stages: Rows }): LeadStats {
  const counts = (list: Record<string, unknown>[]) => Object.fromEntries(list.map((row) => [String(row.k), Number(row.n)]));
  const totals = rows.totals[0] ?? {};
  return {
    total: Number(totals.total ?? 0),
    flagged: Number(totals.flagged ?? 0),
    identified: Number(totals.identified ?? 0),
    byDay: rows.byDay.map((row) => ({ day: Number(row.day), count: Number(row.n) })),
    byStatus: counts(rows.byStatus),
    bySource: counts(rows.bySource),
    byScore: rows.byScore.map((row) => ({ band: Number(row.band), count: Number(row.n) })),
    sites: rows.sites.map((row) => String(row.k)),
    stages: rows.stages.map((row) => String(row.k)),
  };
}
