import { isFlagged, type Lead } from '../leads/lead';
import type { EventType, Route } from './config';

/**
 * Which destinations get a lead event: pure, run inside the transaction that stores the event (the
 * transactional outbox), so an event and its delivery jobs are committed together or not at all.
 */
export interface PlannedJob {
  destination: string;
  /** Waits for an email (the destination needs one); released when the lead is identified. */
  held: boolean;
}

/** The beacon's type (`qualified`, ...) as a destination event type (`lead.qualified`). */
export const eventTypeOf = (beaconType: string): EventType => `lead.${beaconType}` as EventType;

export function planJobs(routes: readonly Route[], lead: Lead, type: EventType): PlannedJob[] {
  return routes
    .filter((route) => route.events.includes(type) && (!route.sites.length || route.sites.includes(lead.site)) && (route.flagged || !isFlagged(lead)))
    .map((route) => ({ destination: route.name, held: !route.anonymous && !lead.email }));
}

/** A delivery job: one lead event for one destination. Its id is the idempotency key's base. */
export const JOB_STATES = ['held', 'pending', 'done', 'dead', 'skipped'] as const;
export type JobState = (typeof JOB_STATES)[number];
export interface StatusChange {
  from: string;
  to: string;
  by: string;
  at: number;
}
export interface Job {
  seq: number;
  id: string;
  destination: string;
  leadId: string;
  eventId: string;
  type: EventType;
  /** `lead.status_changed`: the change (there is no beacon). */
  change: StatusChange | null;
  state: JobState;
  attempts: number;
  createdAt: number;
  nextAt: number;
  lastStatus: number | null;
  lastResponse: string | null;
  lastError: string | null;
  doneAt: number | null;
}

/** How an attempt ended, as the outbox records it. */
export interface JobResult {
  state: 'done' | 'pending' | 'dead' | 'skipped';
  at: number;
  nextAt?: number;
  status?: number | null;
  response?: string | null;
  error?: string | null;
}

export const jobIdOf = (destination: string, eventId: string): string => `${destination}/${eventId}`;
