/** Shared types only: no code lives here. */

/** A signal property value. Anything else is dropped when a signal is recorded. */
export type PropValue = string | number | boolean;
export type Props = Record<string, PropValue>;

/** What a rule's `max` is counted over. */
export type RulePeriod = 'visitor' | 'session' | 'day';

/**
 * How a rule filters on one signal property:
 * - a string is a case-insensitive glob (`*` = any characters except `/`, `**` = any characters);
 * - a number or boolean must be equal;
 * - an array matches when any of its items matches;
 * - `{ gte, lte }` is an inclusive numeric range.
 */
export type MatchValue = PropValue | PropValue[] | { gte?: number; lte?: number };

export interface Rule {
  /** Stable id: it names the rule in the state, the beacon and the debug output. */
  id: string;
  /** The signal name this rule scores. */
  signal: string;
  /** Points per counted signal; may be negative. */
  points: number;
  /** Every listed property must match. */
  match?: Record<string, MatchValue>;
  /** How many times the rule counts per `per` period. */
  max?: number;
  /** The period `max` is counted over; default `visitor`. */
  per?: RulePeriod;
  /** Only signals from the last `windowDays` days count towards this rule. */
  windowDays?: number;
}

export interface Stage {
  name: string;
  threshold: number;
}

export interface Signal {
  name: string;
  props: Props;
  /** Epoch milliseconds. */
  time: number;
  /** Unique per recorded signal: a signal replayed from the journal is applied at most once. */
  id?: string;
}

/** The part of the configuration the pure engine needs. */
export interface ScoringModel {
  rules: readonly Rule[];
  /** Ordered by ascending threshold. */
  stages: readonly Stage[];
  /** 0 turns decay off. */
  halfLifeDays: number;
  sessionMinutes: number;
  /** Minimum days between two qualifications for the same stage. */
  coolOffDays: number;
}

export interface RuleState {
  count: number;
  points: number;
}

/** The visitor state as `getState()` reports it. */
export interface VisitorState {
  visitorId: string;
  score: number;
  stage: string | null;
  signals: Record<string, number>;
  rules: Record<string, RuleState>;
  visits: number;
  firstSeen: number;
  lastSeen: number;
  qualified: Record<string, number>;
  traits: Props;
  /** `idb` while the record lives in IndexedDB; `memory` when storage is unavailable or not allowed. */
  storage: 'idb' | 'memory';
}

/**
 * The qualification beacon, schema v1 (`schema/beacon.v1.json`). Wire keys are defined here and
 * nowhere else (transport/payload.ts builds and encodes them). Every field is documented in the README ("Beacon").
 */
export interface BeaconV1 {
  v: 1;
  /** Idempotency id: the same for every re-send of this qualification, from any tab or page. */
  id: string;
  site: string;
  visitor: string;
  stage: string;
  threshold: number;
  score: number;
  /** Qualification number for this stage: 1, then 2 after a lapse and cool-off. */
  n: number;
  rules: Record<string, RuleState>;
  signals: Record<string, number>;
  visits: number;
  firstSeen: number;
  qualifiedAt: number;
  /** Client wall-clock time at send. */
  sentAt: number;
  /** Milliseconds from qualification to send (monotonic when on the same page): server time - offset = qualification time. */
  offset: number;
  page: string;
  attribution: Record<string, string>;
  traits: Props;
  /** Page experience of the qualifying page (leadscore.js only; absent in leadscore.lite.js). */
  vitals?: Partial<Record<'lcp' | 'inp' | 'cls' | 'ttfb', number>>;
  lib: string;
}

/** One product the visitor looked at or added (`interest.items`). */
export interface InterestItem {
  item_id: string;
  name?: string;
  variant?: string;
  price?: number;
  currency?: string;
  views: number;
  adds: number;
  /** Added and not removed this session. */
  in_cart: boolean;
}

/** What the lead wanted: every v2 event carries it. */
export interface WireInterest {
  /** Up to 5 products, most engaged first. */
  items: InterestItem[];
  /** Up to 3 categories or collections, most viewed first. */
  categories: string[];
  /** Estimated cart value this session, when it holds something. */
  cart?: { value: number; currency?: string };
  /** On-site searches, ever. */
  searches: number;
  /** The latest search terms, only with `data-capture-search`. */
  terms?: string[];
}

/** The lead event types of wire format v2. */
export type LeadEventType = 'qualified' | 'identified' | 'purchased' | 'stage' | 'score';
/** The events after qualification, which a site may turn off (`data-updates`). */
export type UpdateType = Exclude<LeadEventType, 'qualified'>;

/**
 * A lead event, wire format v2 (`schema/beacon.v2.json`): everything v1 has (about the visitor's
 * current stage for the types after qualification), the event's `type` and time, what the lead
 * wanted (`interest`) and, for `purchased`, the order.
 */
export interface BeaconV2 extends Omit<BeaconV1, 'v'> {
  v: 2;
  type: LeadEventType;
  /** When the event happened, epoch ms (client clock); `offset` counts from here. */
  at: number;
  interest: WireInterest;
  /** `purchased` only: what the page said about the order. */
  order?: { id?: string; value?: number; currency?: string };
}

/** What is stored in the outbox: the event without the per-send fields. Entries a v1 script queued stay v1. */
export type StoredBeacon = Omit<BeaconV2, 'sentAt' | 'offset' | 'vitals'> | Omit<BeaconV1, 'sentAt' | 'offset' | 'vitals'>;
export type StoredEvent = Omit<BeaconV2, 'sentAt' | 'offset' | 'vitals'>;
