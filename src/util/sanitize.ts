import type { Props } from '../types';

export const MAX_NAME_LENGTH = 64;
export const MAX_PROP_LENGTH = 200;
export const MAX_PROPS = 25;

// Lone surrogates break UTF-8 encoding on the wire; control characters break logs and CSV exports.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Truncates and cleans a string so it is valid, printable UTF-16 of at most `max` characters. */
export function cleanText(value: string, max: number): string {
  let text = value.length > max ? value.slice(0, max) : value;
  text = text.replace(CONTROL, ' ').replace(LONE_SURROGATE, '\uFFFD');
  return text.trim();
}

/**
 * Object keys that reach prototypes (pollution): never produced as a name or key by the snippet,
 * refused in configuration and by the receiver. The one list of them.
 */
export const isReservedKey = (key: string): boolean => key === '__proto__' || key === 'constructor' || key === 'prototype';

/** A signal name (also used for prop and trait keys), or null if there is nothing usable. */
export function toSignalName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = cleanText(value, MAX_NAME_LENGTH);
  return name && !isReservedKey(name) ? name : null;
}

/**
 * Copies the usable properties of an untrusted object: strings (truncated), finite numbers and
 * booleans, at most MAX_PROPS of them. Getters that throw (hostile Proxies) lose only that property.
 */
export function toProps(value: unknown, limit = MAX_PROPS): Props {
  const props: Props = {};
  if (!value || typeof value !== 'object') return props;
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch {
    return props;
  }
  let count = 0;
  for (const key of keys) {
    if (count >= limit) break;
    const name = toSignalName(key);
    if (!name) continue;
    let item: unknown;
    try {
      item = (value as Record<string, unknown>)[key];
    } catch {
      continue;
    }
    if (typeof item === 'string') props[name] = cleanText(item, MAX_PROP_LENGTH);
    else if ((typeof item === 'number' && Number.isFinite(item)) || typeof item === 'boolean') props[name] = item;
    else continue;
    count++;
  }
  return props;
}
