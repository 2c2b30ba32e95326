import type { BeaconV1 } from '../transport/payload';
import { isReservedKey } from '../util/sanitize';
import validate from './validate-beacon.js';

export type ParseResult = { ok: true; beacon: BeaconV1 } | { ok: false; errors: string[] };

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
 * schema/beacon.v1.json, plus the checks a schema cannot express: the id matches visitor, stage and
 * qualification number; the score reached the threshold; the stage is one you configured.
 * Rejects double-encoded JSON, deep nesting and prototype-pollution keys. Never throws.
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
  if (!validate(value)) {
    const errors = (validate.errors ?? []).slice(0, 10).map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword}`);
    return { ok: false, errors };
  }
  const beacon = value as BeaconV1;
  const errors: string[] = [];
  if (beacon.id !== `${beacon.visitor}.${beacon.stage}.${beacon.n}`) errors.push('/id does not match visitor, stage and n');
  if (beacon.score < beacon.threshold) errors.push('/score is below the threshold');
  if (options.stages && !options.stages.includes(beacon.stage)) errors.push(`/stage "${beacon.stage}" is not a configured stage`);
  return errors.length ? { ok: false, errors } : { ok: true, beacon };
}
