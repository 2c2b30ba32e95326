import type { LeadEvent } from '../../receiver/parse';
import type { EventMeta, Lead, LeadStatus } from '../leads/lead';
import type { Source } from '../leads/source';
import type { Route } from '../destinations/config';
import type { Job, JobResult, JobState } from '../destinations/plan';
import type { Migration } from './migrations';

/** The outcome of storing one event: committed (durable) before the promise resolves. */
export type InsertOutcome = { stored: true; lead: Lead } | { stored: false; duplicate: true };

export interface LeadFilter {
  site?: string;
  stage?: string;
  status?: LeadStatus;
  source?: Source;
  /** Last seen within [from, to], epoch ms. */
  from?: number;
  to?: number;
  /** Email, visitor id or product names, case-insensitive substring. */
  q?: string;
  identified?: boolean;
  /** Hide bot and suspicious leads. */
  hideFlagged?: boolean;
}

export const SORT_FIELDS = ['lastSeen', 'score', 'qualifiedAt', 'firstSeen', 'email', 'stage', 'status', 'source', 'cartValue'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface LeadQuery extends LeadFilter {
  sort?: SortField;
  order?: 'asc' | 'desc';
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

export interface LeadPage {
  leads: Lead[];
  /** Present when there is a next page. */
  next?: string;
}

export interface StoredEvent {
  id: string;
  type: string;
  at: number;
  receivedAt: number;
  body: LeadEvent;
  bot: boolean;
  flags: string[];
}

/** Counts for the overview: over the leads a filter matches. */
export interface LeadStats {
  total: number;
  /** Qualifications per UTC day (epoch day number). */
  byDay: { day: number; count: number }[];
  byStatus: Record<string, number>;
  bySource: Record<string, number>;
  /** Leads per band of 10 points of their current score (band 10 holds 100 and over). */
  byScore: { band: number; count: number }[];
  flagged: number;
  identified: number;
  /** Every site and stage among the leads (for the dashboard's filters). */
  sites: string[];
  stages: string[];
}

export interface LeadChange {
  status?: LeadStatus;
  owner?: string | null;
  note?: string;
}

export interface LeadHistory {
  at: number;
  by: string;
  change: string;
}

/**
 * A lead database: the embedded one (SQLite) or PostgreSQL. Every method is one transaction; an
 * insert resolves only once committed (a 2xx acknowledges only what is durable) and rejects when it
 * was not, so the client's retry is accepted.
 */
export interface LeadStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs the versioned migrations (safe when several instances start together); tests pass their own list. */
  migrate(migrations?: readonly Migration[]): Promise<void>;
  insert(event: LeadEvent, meta: EventMeta): Promise<InsertOutcome>;
  list(query: LeadQuery): Promise<LeadPage>;
  stats(filter: LeadFilter): Promise<LeadStats>;
  get(id: string): Promise<{ lead: Lead; events: StoredEvent[]; history: LeadHistory[]; notes: LeadHistory[] } | null>;
  update(id: string, change: LeadChange, by: string, at: number): Promise<Lead | null>;
  /** Sessions live in the database, so any instance serves any logged-in user. */
  createSession(session: { id: string; csrf: string; user: string; expires: number }): Promise<void>;
  readSession(id: string, now: number): Promise<{ csrf: string; user: string } | null>;
  deleteSession(id: string): Promise<void>;
  // The outbox (destinations). `insert` and `update` write an event's jobs in their transaction.
  /** Hands up to `limit` due jobs of one destination to `owner` until `leaseUntil`; no other worker gets them meanwhile. */
  claimJobs(destination: string, now: number, limit: number, leaseUntil: number, owner: string): Promise<ClaimedJob[]>;
  /** Records an attempt's end; false when the lease had passed to another worker (nothing written). */
  finishJob(seq: number, owner: string, result: JobResult): Promise<boolean>;
  /** "Send again": a dead or skipped job goes back in line; null when there is no such job in those states. */
  requeueJob(seq: number, now: number): Promise<Job | null>;
  listJobs(filter: { state?: JobState; destination?: string; leadId?: string; limit?: number }): Promise<Job[]>;
  jobCounts(): Promise<{ destination: string; state: JobState; count: number }[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A claimed job with what its payload is built from (the lead as it is now, and the stored event). */
export interface ClaimedJob extends Job {
  lead: Lead | null;
  event: LeadEvent | null;
}

export interface StoreOptions {
  /** Where events go (no secrets): which destinations get a job for each stored event. */
  routes?: readonly Route[];
}
