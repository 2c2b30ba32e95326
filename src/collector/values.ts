/**
 * Readers of untrusted values the collector gets from outside its code: config files, and rows a
 * person or another program may have changed. Pure.
 */

/** A plain object (not null, not an array). */
export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A stored JSON column as an object or array, or null when the row is damaged (the caller says what then). */
export function parseStored<T>(text: unknown): T | null {
  if (typeof text !== 'string') return null;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as T) : null;
  } catch {
    return null;
  }
}
