import type { Props, PropValue, StoredBeacon } from '../types';
import { MAX_CATEGORIES, MAX_ITEMS, MAX_TERMS, newInterest, type Interest } from './interest';

/**
 * The persisted visitor record. Storage keys carry this version: a new shape means a new
 * version and key, with a tested migration or a documented reset.
 */
export const RECORD_VERSION = 1;

/** Bounds that keep the record small whatever the page does. */
export const MAX_SIGNAL_NAMES = 64;
export const MAX_RECENT = 20;
export const MAX_TRAITS = 20;
/** Ids of the latest applied signals, so a journal replay never applies one twice. */
export const MAX_SEEN = 50;
export const MAX_RULES = 100;
export const MAX_STRING = 200;
/** A tally's points are clamped here, so a runaway rule can never make the score non-finite. */
export const MAX_TALLY_POINTS = 1e9;

export interface RuleTally {
  /** Times this rule has counted, ever (for the explanation). */
  count: number;
  /** Points valued at time `at` (decay is applied lazily from there). */
  points: number;
  at: number;
  /** The cap period this tally is counting in (session number, UTC day, or 0 for the visitor). */
  key: number;
  /** Times counted within `key`. */
  used: number;
  /** Windowed rules only: `[utcDay, points valued at at, count]` per day inside the window. */
  days?: [number, number, number][];
}

export interface StageMark {
  /** When the stage was (last) reached. */
  at: number;
  /** Qualification number: 1 for the first, incremented by each re-qualification after a lapse. */
  n: number;
  /** The score was seen below the threshold after `at`. */
  lapsed: boolean;
}

/**
 * An undelivered qualification beacon. It lives in the visitor record so that the stage crossing,
 * the beacon and its claim are written in one transaction (one tab sends).
 */
export interface OutboxEntry {
  /** The beacon's idempotency id. */
  id: string;
  /** The beacon without its per-send fields (transport/payload.ts: StoredBeacon). */
  beacon: StoredBeacon;
  created: number;
  attempts: number;
  /** Not to be attempted before this time (backoff, Retry-After). */
  next: number;
  /** The tab sending it now ('' when nobody is), and since when. */
  claim: string;
  claimAt: number;
  /** The page that qualified (its page-experience metrics go with the beacon). */
  page: string;
}

export const MAX_OUTBOX = 10;

/**
 * What the backend has been told, so each later lead event is queued once (transport/journey.ts).
 * Absent in a record written before lead events existed: it is then set from the record as it is,
 * as if everything in it had been told.
 */
export interface Heard {
  /** The identity (the identifying traits' values) the last event carried. */
  identity: string;
  /** `identified` events queued so far. */
  identified: number;
  /** The score the last event carried. */
  score: number;
  /** The session (`visits`) of the last `score` event. */
  scoreVisit: number;
  /** Purchase keys already told (transaction ids), newest last. */
  orders: string[];
}
export const MAX_ORDERS = 10;

export interface VisitorRecord {
  version: typeof RECORD_VERSION;
  id: string;
  firstSeen: number;
  lastSeen: number;
  visits: number;
  sessionStart: number;
  signals: Record<string, number>;
  rules: Record<string, RuleTally>;
  stages: Record<string, StageMark>;
  /** Newest last: `[signal name, time, points]`. */
  recent: [string, number, number][];
  traits: Props;
  /** Ids of the latest applied signals, newest last (see MAX_SEEN). */
  seen: string[];
  /** First-visit attribution: landing page, referrer origin, utm_* and click ids. */
  attribution: Record<string, string>;
  /**
   * Undelivered lead events (transport/outbox.ts). Not `outbox`: a tab still running a script from
   * before wire format v2 validates that key's entries as v1 and would drop ours.
   */
  queue: OutboxEntry[];
  /**
   * The queue of scripts before wire format v2, kept an empty array (they discard a record without
   * it); entries they queue there are adopted into `queue` on the next read.
   */
  outbox: OutboxEntry[];
  /** What the visitor wanted (engine/interest.ts). */
  interest: Interest;
  heard?: Heard;
}

/**
 * A record's maps are keyed by names that come from the page (signal names) and from configuration
 * (rule ids, stage names). Reading `map['toString']` would find Object.prototype's function: only
 * own properties count.
 */
export function getOwn<T>(map: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

export function newRecord(id: string, now: number): VisitorRecord {
  return {
    version: RECORD_VERSION,
    id,
    firstSeen: now,
    lastSeen: now,
    visits: 0,
    sessionStart: 0,
    signals: {},
    rules: {},
    stages: {},
    recent: [],
    traits: {},
    seen: [],
    attribution: {},
    queue: [],
    outbox: [],
    interest: newInterest(),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isPoints = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_TALLY_POINTS;
const isName = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_STRING;
const isPropValue = (value: unknown): value is PropValue =>
  (typeof value === 'string' && value.length <= MAX_STRING * 5) ||
  (typeof value === 'number' && Number.isFinite(value)) ||
  typeof value === 'boolean';

function everyEntry<T>(value: unknown, limit: number, check: (key: string, item: unknown) => boolean): value is Record<string, T> {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length <= limit && keys.every((key) => isName(key) && key !== '__proto__' && check(key, value[key]));
}

function isTally(value: unknown): value is RuleTally {
  return (
    isObject(value) &&
    isCount(value.count) &&
    isPoints(value.points) &&
    isTime(value.at) &&
    isCount(value.key) &&
    isCount(value.used) &&
    (value.days === undefined ||
      (Array.isArray(value.days) &&
        value.days.length <= 400 &&
        value.days.every(
          (day) => Array.isArray(day) && day.length === 3 && isCount(day[0]) && isPoints(day[1]) && isCount(day[2]),
        )))
  );
}

const isText = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max;

function isOutboxEntry(value: unknown): value is OutboxEntry {
  if (!isObject(value)) return false;
  const beacon = value.beacon;
  return (
    isName(value.id) &&
    isObject(beacon) &&
    (beacon.v === 1 || beacon.v === 2) &&
    beacon.id === value.id &&
    isName(beacon.stage) &&
    isName(beacon.visitor) &&
    isTime(value.created) &&
    isCount(value.attempts) &&
    isTime(value.next) &&
    isText(value.claim, 64) &&
    isTime(value.claimAt) &&
    isText(value.page, 64)
  );
}

const isHeard = (value: unknown): value is Heard =>
  isObject(value) &&
  isText(value.identity, 2000) &&
  isCount(value.identified) &&
  isPoints(value.score) &&
  isCount(value.scoreVisit) &&
  Array.isArray(value.orders) &&
  value.orders.length <= MAX_ORDERS &&
  value.orders.every(isName);

const isShort = (value: unknown): boolean => value === undefined || isText(value, MAX_STRING);
const isItem = (item: unknown): boolean =>
  isObject(item) &&
  isName(item.item_id) &&
  isShort(item.name) &&
  isShort(item.variant) &&
  isShort(item.currency) &&
  (item.price === undefined || isAmount(item.price)) &&
  isCount(item.views) &&
  isCount(item.adds) &&
  typeof item.in_cart === 'boolean';
const isAmount = (value: unknown): boolean => isTime(value) && (value as number) < 1e9;

/**
 * Validates stored interest (engine/interest.ts); a missing or corrupt one (a record written before
 * interest existed, or tampered with) is a fresh one: it is not worth the record.
 */
const parseInterest = (value: unknown): Interest =>
  isObject(value) &&
  Array.isArray(value.items) &&
  value.items.length <= MAX_ITEMS &&
  value.items.every(isItem) &&
  everyEntry(value.categories, MAX_CATEGORIES, (_, count) => isCount(count)) &&
  isAmount(value.cart) &&
  isShort(value.currency) &&
  Array.isArray(value.terms) &&
  value.terms.length <= MAX_TERMS &&
  value.terms.every((term) => isText(term, MAX_STRING))
    ? (value as unknown as Interest)
    : newInterest();

const isStageMark = (value: unknown): value is StageMark =>
  isObject(value) && isTime(value.at) && isCount(value.n) && value.n > 0 && typeof value.lapsed === 'boolean';

/**
 * Validates a record read from storage. Anything corrupt, foreign-shaped, of another version or
 * over the size bounds yields null: stored data is never trusted.
 */
export function parseRecord(value: unknown): VisitorRecord | null {
  if (
    !isObject(value) ||
    value.version !== RECORD_VERSION ||
    !isName(value.id) ||
    !isTime(value.firstSeen) ||
    !isTime(value.lastSeen) ||
    !isCount(value.visits) ||
    !isTime(value.sessionStart) ||
    !everyEntry(value.signals, MAX_SIGNAL_NAMES, (_, count) => isCount(count)) ||
    !everyEntry(value.rules, MAX_RULES, (_, tally) => isTally(tally)) ||
    !everyEntry(value.stages, MAX_RULES, (_, mark) => isStageMark(mark)) ||
    !everyEntry(value.traits, MAX_TRAITS, (_, trait) => isPropValue(trait)) ||
    !everyEntry(value.attribution, 30, (_, item) => isText(item, 1000)) ||
    !Array.isArray(value.outbox) ||
    !Array.isArray(value.seen) ||
    value.seen.length > MAX_SEEN ||
    !value.seen.every(isName) ||
    !Array.isArray(value.recent) ||
    value.recent.length > MAX_RECENT ||
    !value.recent.every(
      (entry) => Array.isArray(entry) && entry.length === 3 && isName(entry[0]) && isTime(entry[1]) && isPoints(entry[2]),
    )
  ) {
    return null;
  }
  const record = cloneRecord(value as unknown as VisitorRecord);
  // A corrupt entry is dropped on its own: the rest of the record (and other events) stay. Entries
  // an older script queued in `outbox` join the queue (it sends them as v1).
  const queue = Array.isArray(record.queue) ? record.queue : [];
  record.queue = [...queue, ...record.outbox.filter((entry) => !queue.some((other) => other.id === entry?.id))].filter(isOutboxEntry).slice(-MAX_OUTBOX);
  record.outbox = [];
  // Interest and what was told are worth less than the score: corrupt or missing, they start over.
  record.interest = parseInterest(record.interest);
  if (!isHeard(record.heard)) delete record.heard;
  return record;
}

function clonePlain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clonePlain) as T;
  if (isObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = clonePlain(value[key]);
    return copy as T;
  }
  return value;
}

/**
 * A deep copy of plain data. Not JSON round-tripping: host pages may break JSON.stringify
 * (Prototype.js' Array.prototype.toJSON) and the engine must not depend on it.
 */
export const cloneRecord = (record: VisitorRecord): VisitorRecord => clonePlain(record);
