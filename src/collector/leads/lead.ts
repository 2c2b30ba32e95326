import type { LeadEvent } from '../../receiver/parse';
import type { Props, RuleState, WireInterest } from '../../types';
import { classifySource, type Source } from './source';

/**
 * The lead model: one lead per (site, visitor), folded from its events in any order. Pure: both
 * databases store what `foldEvent` returns, so the dialects differ only in SQL.
 */
export type LeadStatus = 'new' | 'working' | 'sql' | 'customer' | 'rejected' | 'spam';
export const LEAD_STATUSES: readonly LeadStatus[] = ['new', 'working', 'sql', 'customer', 'rejected', 'spam'];

export interface StageReached {
  at: number;
  threshold: number;
  n: number;
}

export interface Lead {
  id: string;
  site: string;
  visitor: string;
  email: string | null;
  traits: Props;
  /** The highest stage reached (by threshold), and every stage with when. */
  stage: string;
  stages: Record<string, StageReached>;
  /** The score of the newest event (by its time) and that time; its explanation by rule and its page. */
  score: number;
  scoreAt: number;
  rules: Record<string, RuleState>;
  page: string;
  /** Signal counts and sessions of the newest event. */
  signals: Record<string, number>;
  visits: number;
  /** The score at the first qualification. */
  qualifiedScore: number;
  qualifiedAt: number;
  source: Source;
  campaign: string | null;
  via: string | null;
  attribution: Record<string, string>;
  landing: string | null;
  interest: WireInterest;
  /** Orders told by `purchased` events: count and value (in the currency of the first). */
  orders: number;
  revenue: number;
  currency: string | null;
  firstSeen: number;
  lastSeen: number;
  /** Flags: a likely bot, or an event that did not add up (reasons kept). Flagged leads are never forwarded by default. */
  bot: boolean;
  suspicious: boolean;
  flags: string[];
  status: LeadStatus;
  statusBy: string | null;
  statusAt: number | null;
  owner: string | null;
  events: number;
  createdAt: number;
  updatedAt: number;
}

/** What the collector knows about an event beyond its body. */
export interface EventMeta {
  receivedAt: number;
  bot: boolean;
  /** Reasons the event was flagged (no Origin, implausible scores). */
  flags: string[];
}

/** Flagged: a likely bot or an event that did not add up. Kept and shown apart, never forwarded by default. */
export const isFlagged = (lead: Pick<Lead, 'bot' | 'suspicious'>): boolean => lead.bot || lead.suspicious;

/** The lowercase text `q` searches: email, visitor id, product names and ids (the database's search column, and the dashboard's live filter). */
export function searchText(lead: Pick<Lead, 'email' | 'visitor' | 'interest'>): string {
  const parts = [lead.email ?? '', lead.visitor, ...lead.interest.items.flatMap((item) => [item.item_id, item.name ?? ''])];
  return parts.join('\n').toLowerCase().slice(0, 2000);
}

/** A lead's id: stable for (site, visitor), safe in URLs. */
export const leadIdOf = (site: string, visitor: string): string => Buffer.from(`${site}\n${visitor}`).toString('base64url');

const MAX_FLAGS = 10;

/** The lead after one more event (`lead` null: the first). Events may arrive in any order. */
export function foldEvent(lead: Lead | null, event: LeadEvent, meta: EventMeta): Lead {
  const time = event.at;
  const newer = !lead || time >= lead.scoreAt;
  const source = classifySource(event.attribution);
  const base: Lead = lead
    ? { ...lead, traits: { ...lead.traits }, stages: { ...lead.stages }, flags: [...lead.flags] }
    : {
        id: leadIdOf(event.site, event.visitor),
        site: event.site,
        visitor: event.visitor,
        email: null,
        traits: {},
        stage: event.stage,
        stages: {},
        score: event.score,
        scoreAt: time,
        rules: event.rules,
        page: event.page,
        signals: event.signals,
        visits: event.visits,
        qualifiedScore: event.score,
        qualifiedAt: event.qualifiedAt,
        source: source.source,
        campaign: source.campaign ?? null,
        via: source.via ?? null,
        attribution: event.attribution,
        landing: event.attribution.landing ?? null,
        interest: event.interest,
        orders: 0,
        revenue: 0,
        currency: null,
        firstSeen: event.firstSeen,
        lastSeen: time,
        bot: false,
        suspicious: false,
        flags: [],
        status: 'new',
        statusBy: null,
        statusAt: null,
        owner: null,
        events: 0,
        createdAt: meta.receivedAt,
        updatedAt: meta.receivedAt,
      };
  const next = base;
  next.events++;
  next.updatedAt = meta.receivedAt;
  next.lastSeen = Math.max(next.lastSeen, time);
  next.firstSeen = Math.min(next.firstSeen, event.firstSeen);
  // Traits: the newer event's value wins per trait.
  for (const key of Object.keys(event.traits)) if (newer || !Object.prototype.hasOwnProperty.call(next.traits, key)) next.traits[key] = event.traits[key]!;
  const email = next.traits.email;
  next.email = typeof email === 'string' && email.includes('@') ? email.slice(0, 254) : next.email;
  if (newer) {
    next.score = event.score;
    next.scoreAt = time;
    next.rules = event.rules;
    next.page = event.page;
    next.signals = event.signals;
    next.visits = event.visits;
    next.interest = event.interest;
  }
  // The stage the event reached (crossings) or held (the others): the lead keeps every stage.
  const known = next.stages[event.stage];
  if (!known || event.n > known.n || (event.n === known.n && event.qualifiedAt < known.at)) {
    next.stages[event.stage] = { at: event.qualifiedAt, threshold: event.threshold, n: event.n };
  }
  next.stage = Object.keys(next.stages).reduce((top, name) => (next.stages[name]!.threshold > (next.stages[top]?.threshold ?? -1) ? name : top), next.stage);
  // The first qualification's score: a `qualified` event at or before the one known (an event of
  // another type that arrived first only stood in for it).
  if (event.type === 'qualified' && (event.qualifiedAt <= next.qualifiedAt || !lead)) {
    next.qualifiedScore = event.score;
    next.qualifiedAt = event.qualifiedAt;
  }
  // First-visit attribution: the earliest first visit wins (every event carries the same, normally).
  if (lead && event.firstSeen < lead.firstSeen) {
    next.attribution = event.attribution;
    next.landing = event.attribution.landing ?? null;
    next.source = source.source;
    next.campaign = source.campaign ?? null;
    next.via = source.via ?? null;
  }
  if (event.type === 'purchased') {
    next.orders++;
    const value = event.order?.value;
    if (typeof value === 'number' && (!next.currency || !event.order?.currency || event.order.currency === next.currency)) next.revenue += value;
    next.currency ??= event.order?.currency ?? null;
    // A purchase makes an open lead a customer (rejected and spam stay as the team set them).
    if (next.status === 'new' || next.status === 'working' || next.status === 'sql') {
      next.status = 'customer';
      next.statusBy = 'leadscore';
      next.statusAt = meta.receivedAt;
    }
  }
  next.bot ||= meta.bot;
  if (meta.flags.length) {
    next.suspicious = true;
    for (const flag of meta.flags) if (!next.flags.includes(flag) && next.flags.length < MAX_FLAGS) next.flags.push(flag);
  }
  return next;
}
