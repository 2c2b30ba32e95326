import type { BeaconV1, Props, RuleState, StoredBeacon } from '../types';
import { DEFAULT_URL_PARAMS } from '../engine/defaults';
import { round2 } from '../engine/score';
import { toJson } from '../util/json';

export type { BeaconV1, StoredBeacon } from '../types';

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

/**
 * Serialises a beacon (with our own JSON writer: see util/json.ts) within `maxBytes`. Oversized
 * beacons are trimmed, least useful first: traits, then the long tail of signal counts and rules,
 * then attribution and vitals; the identifying fields always stay.
 */
export function encodeBeacon(beacon: BeaconV1, maxBytes = MAX_BEACON_BYTES): string {
  let body = toJson(beacon);
  const steps: ((b: BeaconV1) => BeaconV1)[] = [
    (b) => ({ ...b, traits: top(b.traits, 5, () => 0) }),
    (b) => ({ ...b, signals: top(b.signals, 20, (count) => count), rules: top(b.rules, 20, (rule) => Math.abs(rule.points)) }),
    (b) => ({ ...b, traits: {}, attribution: {}, vitals: undefined, signals: top(b.signals, 5, (count) => count) }),
    (b) => ({ ...b, rules: top(b.rules, 5, (rule) => Math.abs(rule.points)), signals: {}, page: b.page.slice(0, 100) }),
  ];
  for (const step of steps) {
    if (utf8Length(body) <= maxBytes) break;
    beacon = step(beacon);
    body = toJson(beacon);
  }
  return body;
}

/** The idempotency id of qualification `n` of `stage` for `visitor`: stable across re-sends, tabs and pages. */
export const beaconId = (visitor: string, stage: string, n: number): string => `${visitor}.${stage}.${n}`;

/** Builds the stored part of a beacon from the state at the moment of qualification. Pure. */
export function toStoredBeacon(
  state: { visitorId: string; rules: Record<string, RuleState>; signals: Record<string, number>; visits: number; firstSeen: number; traits: Props },
  crossing: { stage: string; threshold: number; score: number; at: number; n: number },
  context: { site: string; page: string; attribution: Record<string, string>; lib: string },
): StoredBeacon {
  return {
    v: 1,
    id: beaconId(state.visitorId, crossing.stage, crossing.n),
    site: context.site,
    visitor: state.visitorId,
    stage: crossing.stage,
    threshold: crossing.threshold,
    score: round2(crossing.score),
    n: crossing.n,
    rules: state.rules,
    signals: state.signals,
    visits: state.visits,
    firstSeen: state.firstSeen,
    qualifiedAt: crossing.at,
    page: context.page,
    attribution: context.attribution,
    traits: state.traits,
    lib: context.lib,
  };
}
