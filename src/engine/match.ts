import type { MatchValue, Props, PropValue } from '../types';

const globCache = new Map<string, RegExp>();

/**
 * Compiles a path-style glob: `**` matches anything, `*` anything but `/`; case-insensitive.
 * Plausible's goal paths use the same convention, which store owners may already know.
 */
export function toGlobRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const source = glob
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*');
    re = new RegExp('^' + source + '$', 'i');
    // Rules come from configuration, so the set of globs is small; the bound is a safety net.
    if (globCache.size > 200) globCache.clear();
    globCache.set(glob, re);
  }
  return re;
}

function matchOne(expected: MatchValue, actual: PropValue | undefined): boolean {
  if (Array.isArray(expected)) return expected.some((item) => matchOne(item, actual));
  if (typeof expected === 'object') {
    return (
      typeof actual === 'number' &&
      !(expected.gte !== undefined && actual < expected.gte) &&
      !(expected.lte !== undefined && actual > expected.lte)
    );
  }
  if (typeof expected === 'string') return typeof actual === 'string' && toGlobRegExp(expected).test(actual);
  return expected === actual;
}

/** True when every property in `match` matches the signal's properties. */
export function matchProps(match: Record<string, MatchValue> | undefined, props: Props): boolean {
  if (!match) return true;
  for (const key in match) {
    if (!matchOne(match[key]!, Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined)) return false;
  }
  return true;
}
