import type { BeaconV1, BeaconV2 } from '../transport/payload';
import { isReservedKey } from '../util/sanitize';
import { validateV1, validateV2 } from './validate-beacon.js';

/**
 * The one shape the application gets, whichever wire format arrived: a v2 lead event. A v1 beacon
 * (an older cached script) becomes a `qualified` event at its qualification time with no interest
 * but its search count.
 */
export type LeadEvent = BeaconV2;

/** `version`: the wire format that arrived (1 or 2); `beacon` is normalized either way. */
export type ParseResult = { ok: true; beacon: LeadEvent; version: 1 | 2 } | { ok: false; errors: string[] };

/** A v1 beacon as the v2 `qualified` event it is. */
export const fromV1 = (beacon: BeaconV1): LeadEvent => ({
  ...beacon,
  v: 2,
  type: 'qualified',
  at: beacon.qualifiedAt,
  interest: { items: [], categories: [], searches: Object.prototype.hasOwnProperty.call(beacon.signals, 'search') ? beacon.signals.search! : 0 },
});

export interface ParseOptions {
  /** Accepted stage names; default: any well-formed name. */
  stages?: readonly string[];
  /** Largest body accepted, in UTF-16 code units of the text (default 64 KiB). */
  maxChars?: number;
}

/** Far more than a beacon nests (3); a deeper body is an attack, not a beacon. */
const MAX_DEPTH = 6;

function depthAndKeys(value: unknown): string | null {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (!item || typeof item !== 'object') continue;
    if (depth > MAX_DEPTH) return 'nested too deeply';
    for (const key of Object.keys(item)) {
      if (isReservedKey(key)) return `forbidden key "${key}"`;
      stack.push([(item as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return null;
}

/**
 * Validates an untrusted beacon body (a string, or an already-parsed value) against
 * schema/beacon.v2.json (or, with `v: 1`, schema/beacon.v1.json), plus the checks a schema cannot
 * express: the id matches visitor, stage and qualification number (stage crossings) or visitor and
 * type (the other events); a crossing's score reached the threshold; the stage is one you
 * configured. Rejects double-encoded JSON, deep nesting and prototype-pollution keys. Normalizes
 * v1 to the v2 shape. Never throws.
 */
export function parseBeacon(body: unknown, options: ParseOptions = {}): ParseResult {
  let value = body;
  if (typeof body === 'string') {
    if (body.length > (options.maxChars ?? 65_536)) return { ok: false, errors: ['body is too large'] };
    try {
      // A reviver sees every key before it lands in an object: refuse pollution keys outright.
      value = JSON.parse(body, (key, item: unknown) => {
        if (isReservedKey(key)) throw new Error(`forbidden key "${key}"`);
        return item;
      });
    } catch (error) {
      return { ok: false, errors: [`body is not valid JSON: ${(error as Error).message}`] };
    }
  }
  if (typeof value === 'string') return { ok: false, errors: ['body is double-encoded JSON (a JSON string)'] };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, errors: ['body must be a JSON object'] };
  const structural = depthAndKeys(value);
  if (structural) return { ok: false, errors: [`body is ${structural}`] };
  const version = (value as { v?: unknown }).v === 1 ? 1 : 2;
  const validate = version === 1 ? validateV1 : validateV2;
  if (!validate(value)) {
    const errors = (validate.errors ?? []).slice(0, 10).map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword}`);
    return { ok: false, errors };
  }
  const beacon = version === 1 ? fromV1(value as BeaconV1) : (value as LeadEvent);
  const errors: string[] = [];
  const crossing = beacon.type === 'qualified' || beacon.type === 'stage';
  if (crossing) {
    if (beacon.id !== `${beacon.visitor}.${beacon.stage}.${beacon.n}`) errors.push('/id does not match visitor, stage and n');
    if (beacon.score < beacon.threshold) errors.push('/score is below the threshold');
  } else {
    const prefix = `${beacon.visitor}.${beacon.type}.`;
    if (!beacon.id.startsWith(prefix) || beacon.id.length === prefix.length) errors.push('/id does not match visitor and type');
  }
  if (options.stages && !options.stages.includes(beacon.stage)) errors.push(`/stage "${beacon.stage}" is not a configured stage`);
  return errors.length ? { ok: false, errors } : { ok: true, beacon, version };
}
