import type { MatchValue, Props, PropValue } from '../types';

const globCache = new Map<string, RegExp>();
/** One expression per any-of list of globs (by the list's identity: the model's lists are stable). */
const listCache = new WeakMap<readonly MatchValue[], RegExp | null>();

const globSource = (glob: string): string =>
  glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');

/**
 * Compiles a path-style glob: `**` matches anything, `*` anything but `/`; case-insensitive.
 * Plausible's goal paths use the same convention, which store owners may already know.
 */
export function toGlobRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp('^' + globSource(glob) + '$', 'i');
    // Rules come from configuration, so the set of globs is small; the bound is a safety net.
    if (globCache.size > 200) globCache.clear();
    globCache.set(glob, re);
  }
  return re;
}

/**
 * A list of globs as one alternation: the default high-value list has 15, and compiling and running
 * 15 expressions cost a slow phone 17 ms on the first page view (npm run bench profile).
 * Null when the list holds anything but strings.
 */
function listRegExp(list: readonly MatchValue[]): RegExp | null {
  let re = listCache.get(list);
  if (re === undefined) {
    re = list.length && list.every((item) => typeof item === 'string') ? new RegExp('^(?:' + (list as string[]).map(globSource).join('|') + ')$', 'i') : null;
    listCache.set(list, re);
  }
  return re;
}

function matchOne(expected: MatchValue, actual: PropValue | undefined): boolean {
  if (Array.isArray(expected)) {
    const re = listRegExp(expected);
    return re ? typeof actual === 'string' && re.test(actual) : expected.some((item) => matchOne(item, actual));
  }
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
  // Own keys only: a page that adds an enumerable property to Object.prototype must not add a condition.
  for (const key of Object.keys(match)) {
    if (!matchOne(match[key]!, Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined)) return false;
  }
  return true;
}
