/**
 * JSON for plain data, independent of the host page: Prototype.js-era pages define
 * `Array.prototype.toJSON` (which makes `JSON.stringify([1])` return a string), and some pages
 * replace `JSON.stringify` itself. Handles objects, arrays, strings, finite numbers (others become
 * null, as in JSON), booleans and null; ignores every `toJSON`; never touches a prototype.
 */
export function toJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return '[' + value.map(toJson).join(',') + ']';
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined && typeof item !== 'function') parts.push(quote(key) + ':' + toJson(item));
    }
    return '{' + parts.join(',') + '}';
  }
  return 'null';
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function quote(text: string): string {
  return (
    '"' +
    text.replace(/["\\\u0000-\u001f]/g, (c) => ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) +
    '"'
  );
}
