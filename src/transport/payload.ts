import type { BeaconV1, BeaconV2, LeadEventType, Props, RuleState, StoredEvent, WireInterest } from '../types';
import { DEFAULT_URL_PARAMS } from '../engine/defaults';
import { round2 } from '../engine/score';
import { toJson } from '../util/json';

export type { BeaconV1, BeaconV2, LeadEventType, StoredBeacon, StoredEvent } from '../types';

/** Our own cap, far inside the 64 KiB that sendBeacon/keepalive share with the page's other scripts. */
export const MAX_BEACON_BYTES = 8192;
const MAX_URL = 500;

/** The URL without hash and without query parameters outside the allowlist. */
export function toSafeUrl(href: string, allow: readonly string[] = DEFAULT_URL_PARAMS): string {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return '';
  }
  const kept = new URLSearchParams();
  url.searchParams.forEach((value, key) => allow.includes(key) && kept.append(key, value.slice(0, 200)));
  const query = kept.toString();
  return (url.origin + url.pathname + (query ? '?' + query : '')).slice(0, MAX_URL);
}

/** First-visit attribution: landing page (safe URL), referrer origin (other sites only), allowlisted params. */
export function readAttribution(href: string, referrer: string, allow: readonly string[] = DEFAULT_URL_PARAMS): Record<string, string> {
  const attribution: Record<string, string> = {};
  const landing = toSafeUrl(href, allow);
  if (landing) attribution.landing = landing;
  try {
    const here = new URL(href);
    here.searchParams.forEach((value, key) => {
      if (allow.includes(key) && Object.keys(attribution).length < 20) attribution[key] = value.slice(0, 200);
    });
    const from = referrer ? new URL(referrer) : null;
    if (from && from.origin !== here.origin && /^https?:$/.test(from.protocol)) attribution.referrer = from.origin;
  } catch {
    // Unparseable URLs carry no attribution.
  }
  return attribution;
}

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

function top<T>(record: Record<string, T>, limit: number, weight: (value: T) => number): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort((a, b) => weight(b[1]) - weight(a[1])).slice(0, limit));
}

type Beacon = BeaconV1 | BeaconV2;

/**
 * Serialises a beacon (with our own JSON writer: see util/json.ts) within `maxBytes`. Oversized
 * beacons are trimmed, least useful first: traits and the long tail of interest, then the long tail
 * of signal counts and rules, then attribution, vitals and interest but the cart; the identifying
 * fields (and a purchase's order) always stay.
 */
export function encodeBeacon(beacon: Beacon, maxBytes = MAX_BEACON_BYTES): string {
  let body = toJson(beacon);
  const interest = (b: Beacon, items: number, categories: number): Partial<BeaconV2> =>
    'interest' in b ? { interest: { ...b.interest, items: b.interest.items.slice(0, items), categories: b.interest.categories.slice(0, categories), terms: undefined } } : {};
  const steps: ((b: Beacon) => Beacon)[] = [
    (b) => ({ ...b, traits: top(b.traits, 5, () => 0), ...interest(b, 3, 3) }),
    (b) => ({ ...b, signals: top(b.signals, 20, (count) => count), rules: top(b.rules, 20, (rule) => Math.abs(rule.points)) }),
    (b) => ({ ...b, traits: {}, attribution: {}, vitals: undefined, signals: top(b.signals, 5, (count) => count), ...interest(b, 0, 0) }),
    (b) => ({ ...b, rules: top(b.rules, 5, (rule) => Math.abs(rule.points)), signals: {}, page: b.page.slice(0, 100) }),
  ] as ((b: Beacon) => Beacon)[];
  for (const step of steps) {
    if (utf8Length(body) <= maxBytes) break;
    beacon = step(beacon);
    body = toJson(beacon);
  }
  return body;
}

/** The idempotency id of qualification `n` of `stage` for `visitor`: stable across re-sends, tabs and pages. */
export const beaconId = (visitor: string, stage: string, n: number): string => `${visitor}.${stage}.${n}`;

/** The stage a lead event speaks of: the one reached (`qualified`, `stage`) or the highest held. */
export interface EventStage {
  stage: string;
  threshold: number;
  /** Qualification number of that stage, and when it was reached. */
  n: number;
  qualifiedAt: number;
}

/**
 * Builds the stored part of a lead event from the visitor's state when it happened. The id is
 * `<visitor>.<stage>.<n>` for stage crossings and `<visitor>.<type>.<key>` otherwise. Pure.
 */
export function toStoredEvent(
  state: { visitorId: string; score: number; rules: Record<string, RuleState>; signals: Record<string, number>; visits: number; firstSeen: number; traits: Props },
  event: { type: LeadEventType; key?: string; at: number; stage: EventStage; interest: WireInterest; order?: StoredEvent['order'] },
  context: { site: string; page: string; attribution: Record<string, string>; lib: string },
): StoredEvent {
  const { stage } = event;
  const stored: StoredEvent = {
    v: 2,
    type: event.type,
    id: event.key === undefined ? beaconId(state.visitorId, stage.stage, stage.n) : `${state.visitorId}.${event.type}.${event.key}`,
    site: context.site,
    visitor: state.visitorId,
    stage: stage.stage,
    threshold: stage.threshold,
    score: round2(state.score),
    n: stage.n,
    rules: state.rules,
    signals: state.signals,
    visits: state.visits,
    firstSeen: state.firstSeen,
    qualifiedAt: stage.qualifiedAt,
    at: event.at,
    page: context.page,
    attribution: context.attribution,
    traits: state.traits,
    interest: event.interest,
    lib: context.lib,
  };
  if (event.order) stored.order = event.order;
  return stored;
}
