import { DEFAULT_HIGH_VALUE_PATHS, DEFAULT_STAGES, DEFAULT_URL_PARAMS, defaultRules, KNOWN_SIGNALS } from './engine/defaults';
import type { MatchValue, Rule, RulePeriod, ScoringModel, Stage, UpdateType } from './types';
import { isReservedKey } from './util/sanitize';

export type ConsentMode = 'auto' | 'granted' | 'required';

/**
 * Options for `createTracker()`. The script tag accepts the same settings as `data-` attributes
 * (kebab-case: `halfLifeDays` is `data-half-life-days`); values may be strings either way.
 */
export interface Options {
  /** Where qualification beacons are POSTed; absolute http(s) URL or a path on this site. Without it, scoring stays local. */
  endpoint?: string;
  /** Site id sent in beacons; default: the page's hostname. */
  site?: string;
  /** Threshold of the single default stage `mql` (default 50). */
  threshold?: number | string;
  /** Ordered stages: `"mql:50,hot:120"`, `{ mql: 50, hot: 120 }` or `[{ name, threshold }]`. */
  stages?: string | Record<string, number> | Stage[];
  /** Path globs of high-value pages, comma-separated or an array; replaces the defaults. */
  highValue?: string | string[];
  /** Half-life of points in days (default 14; 0 turns decay off). */
  halfLifeDays?: number | string;
  /** Minutes of inactivity that end a session (default 30). */
  sessionMinutes?: number | string;
  /** Days before a lapsed stage may qualify again (default 30). */
  coolOffDays?: number | string;
  consent?: ConsentMode;
  debug?: boolean | string;
  /** Score visitors under automation (webdriver, headless browsers): for tests and staging. */
  allowAutomation?: boolean | string;
  captureEmail?: boolean | string;
  /** Keep the terms of on-site searches in `search` signals (`data-capture-search`); default: count only. */
  captureSearch?: boolean | string;
  /** Days without a visit after which the visitor record is deleted (default 180). */
  retentionDays?: number | string;
  /** Honour Global Privacy Control and Do Not Track (default true). */
  respectPrivacySignals?: boolean | string;
  /** Custom rules; a rule with a default rule's id replaces it. */
  rules?: Rule[];
  /** Keep the default ecommerce rules (default true). */
  defaultRules?: boolean | string;
  /** Count `location.hash` changes as page views, for hash-routed single-page apps (default false). */
  hashChange?: boolean | string;
  /** Query parameters kept in URLs sent in beacons (default: utm_* and ad click ids); comma-separated or an array. */
  urlParams?: string | string[];
  /** Give up on a beacon after this many attempts (default 12). */
  retryMaxAttempts?: number | string;
  /** Give up on a beacon this many days after it was queued (default 7). */
  retryMaxAgeDays?: number | string;
  /** Lead events after qualification: `all` (default), `none` or a list of `identified,purchased,stage,score`. */
  updates?: string | UpdateType[];
  /** A `score` event needs the score to have risen this much since the backend last heard it (default 10). */
  updateMinPoints?: number | string;
  /** Push each lead event to the page's `dataLayer` (default true). */
  dataLayer?: boolean | string;
  /** Traits that identify a person: `identify()` with one of them after qualification is an `identified` event (default `email`). */
  identityTraits?: string | string[];
}

export interface Config {
  endpoint: string | null;
  site: string;
  model: ScoringModel;
  consent: ConsentMode;
  debug: boolean;
  allowAutomation: boolean;
  captureEmail: boolean;
  captureSearch: boolean;
  retentionDays: number;
  respectPrivacySignals: boolean;
  hashChange: boolean;
  urlParams: readonly string[];
  retryMaxAttempts: number;
  retryMaxAgeDays: number;
  updates: readonly UpdateType[];
  updateMinPoints: number;
  dataLayer: boolean;
  identityTraits: readonly string[];
}

export interface ConfigProblem {
  /** A fatal problem keeps the tracker off the network. */
  fatal: boolean;
  message: string;
}

export interface ConfigResult {
  config: Config;
  problems: ConfigProblem[];
}

export interface ConfigContext {
  /** The page URL: the base for a relative endpoint and the source of the default site id. */
  pageUrl: string;
}

const OPTION_NAMES: readonly (keyof Options)[] = [
  'endpoint',
  'site',
  'threshold',
  'stages',
  'highValue',
  'halfLifeDays',
  'sessionMinutes',
  'coolOffDays',
  'consent',
  'debug',
  'allowAutomation',
  'captureEmail',
  'captureSearch',
  'retentionDays',
  'respectPrivacySignals',
  'rules',
  'defaultRules',
  'hashChange',
  'urlParams',
  'retryMaxAttempts',
  'retryMaxAgeDays',
  'updates',
  'updateMinPoints',
  'dataLayer',
  'identityTraits',
];
const UPDATE_TYPES: readonly UpdateType[] = ['identified', 'purchased', 'stage', 'score'];

const CONSENT_MODES: readonly ConsentMode[] = ['auto', 'granted', 'required'];
const PERIODS: readonly RulePeriod[] = ['visitor', 'session', 'day'];
const MAX_POINTS = 1e6;
const NAME_PATTERN = /^[\w.:-]{1,64}$/;
/** Names of rules, stages and signals in configuration; reserved object keys are refused (the receiver refuses them too). */
const isName = (value: unknown): value is string => typeof value === 'string' && NAME_PATTERN.test(value) && !isReservedKey(value);

/** `halfLifeDays` -> `half-life-days`, for messages in the vocabulary of the channel in use. */
export const toAttributeName = (name: string): string => 'data-' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** `data-half-life-days` -> `halfLifeDays`. */
export const fromAttributeName = (name: string): string =>
  name.slice(5).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known option closest to a misspelt one, if it is close enough to be a likely typo. */
export function suggestOption(name: string): string | null {
  let best: string | null = null;
  let bestDistance = 4;
  for (const known of OPTION_NAMES) {
    const d = distance(name.toLowerCase(), known.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

/** The one rule for booleans in attributes and options (`data-debug` bare = true). */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  // A bare attribute (`data-debug`) has the value "".
  if (text === '' || text === 'true' || text === '1' || text === 'yes' || text === 'on') return true;
  if (text === 'false' || text === '0' || text === 'no' || text === 'off') return false;
  return undefined;
}

function toNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

/** Validates an endpoint; returns the absolute URL or a reason. */
export function parseEndpoint(value: unknown, pageUrl: string): { url: string } | { reason: string } {
  if (typeof value !== 'string' || value.trim() === '') return { reason: 'is empty' };
  let url: URL;
  try {
    url = new URL(value.trim(), pageUrl);
  } catch {
    return { reason: 'is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { reason: `uses ${url.protocol} (only http and https)` };
  if (url.username || url.password) return { reason: 'contains credentials' };
  if (url.protocol === 'http:' && pageUrl.startsWith('https:')) return { reason: 'is http on an https page (blocked as mixed content)' };
  return { url: url.href };
}

function parseStages(value: unknown): Stage[] | string {
  let entries: [unknown, unknown][];
  if (typeof value === 'string') {
    entries = value
      .split(',')
      .filter((part) => part.trim())
      .map((part) => {
        const [name, threshold] = part.split(':');
        return [name?.trim(), threshold];
      });
  } else if (Array.isArray(value)) {
    entries = value.map((stage: unknown) =>
      stage && typeof stage === 'object' ? [(stage as Stage).name, (stage as Stage).threshold] : [stage, undefined],
    );
  } else if (value && typeof value === 'object') {
    entries = Object.entries(value);
  } else {
    return 'must be like "mql:50,hot:120"';
  }
  const stages: Stage[] = [];
  for (const [name, threshold] of entries) {
    const number = toNumber(threshold);
    if (!isName(name)) return `has an invalid stage name ${JSON.stringify(String(name))}`;
    if (number === undefined || number <= 0) return `gives stage "${name}" a threshold that is not a positive number`;
    if (stages.some((stage) => stage.name === name)) return `names stage "${name}" twice`;
    stages.push({ name, threshold: number });
  }
  if (!stages.length) return 'lists no stage';
  return stages.sort((a, b) => a.threshold - b.threshold);
}

function isMatchValue(value: unknown): value is MatchValue {
  if (typeof value === 'string') return value.length <= 500;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'boolean') return true;
  if (Array.isArray(value)) return value.length <= 50 && value.every((item) => typeof item !== 'object' && isMatchValue(item));
  if (value && typeof value === 'object') {
    const range = value as Record<string, unknown>;
    const keys = Object.keys(range);
    return keys.length > 0 && keys.every((key) => (key === 'gte' || key === 'lte') && toNumber(range[key]) !== undefined);
  }
  return false;
}

/**
 * Validates one custom rule; returns it normalised, or why it was dropped. Only debug mode shows the
 * reason, so the production script builds return '' (the text is not shipped).
 */
export function parseRule(value: unknown): Rule | string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return __DEBUG__ ? 'is not an object' : '';
  const input = value as Record<string, unknown>;
  const id = input.id;
  if (!isName(id)) return __DEBUG__ ? 'needs an id of letters, digits, _ . : -' : '';
  const where = `rule "${id}"`;
  if (!isName(input.signal)) return __DEBUG__ ? `${where} needs a signal name` : '';
  const points = toNumber(input.points);
  if (points === undefined || Math.abs(points) > MAX_POINTS) return __DEBUG__ ? `${where} needs points between -${MAX_POINTS} and ${MAX_POINTS}` : '';
  const rule: Rule = { id, signal: input.signal, points };
  if (input.match !== undefined) {
    const match = input.match as Record<string, unknown>;
    if (!match || typeof match !== 'object' || Array.isArray(match)) return __DEBUG__ ? `${where} has a match that is not an object` : '';
    for (const key of Object.keys(match)) {
      if (!isMatchValue(match[key]) || key === '__proto__') return __DEBUG__ ? `${where} has an invalid match for "${key}"` : '';
    }
    rule.match = match as Record<string, MatchValue>;
  }
  if (input.max !== undefined) {
    const max = toNumber(input.max);
    if (max === undefined || !Number.isInteger(max) || max < 1) return __DEBUG__ ? `${where} needs max to be a whole number of at least 1` : '';
    rule.max = max;
  }
  if (input.per !== undefined) {
    if (!PERIODS.includes(input.per as RulePeriod)) return __DEBUG__ ? `${where} needs per to be one of ${PERIODS.join(', ')}` : '';
    rule.per = input.per as RulePeriod;
  }
  if (input.windowDays !== undefined) {
    const days = toNumber(input.windowDays);
    if (days === undefined || !Number.isInteger(days) || days < 1 || days > 366) return __DEBUG__ ? `${where} needs windowDays between 1 and 366` : '';
    rule.windowDays = days;
  }
  return rule;
}

function snapshot(input: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  if (input && typeof input === 'object') {
    for (const key of Object.keys(input)) copy[key] = (input as Record<string, unknown>)[key];
  }
  return copy;
}

/**
 * The one configuration parser: script-tag attributes (already camelCased), inline JSON config
 * and ESM options all come through here. Never throws; every problem is reported in `problems`.
 */
export function parseConfig(input: unknown, context: ConfigContext): ConfigResult {
  const problems: ConfigProblem[] = [];
  const fatal = (message: string): void => void problems.push({ fatal: true, message });
  const warn = (message: string): void => void problems.push({ fatal: false, message });

  let options: Record<string, unknown>;
  try {
    options = snapshot(input);
  } catch {
    options = {};
    fatal('options could not be read');
  }
  if (input !== undefined && (input === null || typeof input !== 'object')) fatal('options must be an object');

  let hostname = '';
  try {
    hostname = new URL(context.pageUrl).hostname;
  } catch {
    // An unparseable page URL (about:blank, tests) leaves the site id empty unless configured.
  }

  const config: Config = {
    endpoint: null,
    site: hostname,
    model: {
      rules: [],
      stages: DEFAULT_STAGES,
      halfLifeDays: 14,
      sessionMinutes: 30,
      coolOffDays: 30,
    },
    consent: 'auto',
    debug: false,
    allowAutomation: false,
    captureEmail: false,
    captureSearch: false,
    retentionDays: 180,
    respectPrivacySignals: true,
    hashChange: false,
    urlParams: DEFAULT_URL_PARAMS,
    retryMaxAttempts: 12,
    retryMaxAgeDays: 7,
    updates: UPDATE_TYPES,
    updateMinPoints: 10,
    dataLayer: true,
    identityTraits: ['email'],
  };
  const model = config.model as { -readonly [K in keyof ScoringModel]: ScoringModel[K] };

  // Everything that is not fatal is explained in debug mode only: the production build drops the text.
  if (__DEBUG__) for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key as keyof Options)) {
      const suggestion = suggestOption(key);
      // Store owners write attributes, developers write options: name both.
      warn(`unknown option "${key}" (${toAttributeName(key)})` + (suggestion ? `; did you mean "${suggestion}" (${toAttributeName(suggestion)})?` : ''));
    }
  }
  const has = (key: keyof Options): boolean => options[key] !== undefined;

  if (has('endpoint')) {
    const endpoint = parseEndpoint(options.endpoint, context.pageUrl);
    if ('url' in endpoint) config.endpoint = endpoint.url;
    else fatal(`endpoint ${endpoint.reason}: nothing will be sent`);
  }
  if (has('site')) {
    const site = options.site;
    if (typeof site === 'string' && site.trim() && site.length <= 100) config.site = site.trim();
    else __DEBUG__ && warn('site must be a short text; using the hostname');
  }
  if (has('stages')) {
    const stages = parseStages(options.stages);
    if (typeof stages === 'string') fatal(`stages ${stages}`);
    else model.stages = stages;
    if (has('threshold')) __DEBUG__ && warn('threshold is ignored because stages is set');
  } else if (has('threshold')) {
    const threshold = toNumber(options.threshold);
    if (threshold === undefined || threshold <= 0) fatal(`threshold must be a positive number, not ${JSON.stringify(String(options.threshold))}`);
    else model.stages = [{ name: 'mql', threshold }];
  }

  const numberOption = (key: keyof Options, min: number, max: number, apply: (value: number) => void): void => {
    if (!has(key)) return;
    const value = toNumber(options[key]);
    if (value === undefined || value < min || value > max) __DEBUG__ && warn(`${key} must be a number from ${min} to ${max}; using the default`);
    else apply(value);
  };
  numberOption('halfLifeDays', 0, 3650, (value) => (model.halfLifeDays = value));
  numberOption('sessionMinutes', 1, 1440, (value) => (model.sessionMinutes = value));
  numberOption('coolOffDays', 0, 3650, (value) => (model.coolOffDays = value));
  numberOption('retentionDays', 1, 3650, (value) => (config.retentionDays = value));
  numberOption('retryMaxAttempts', 1, 1000, (value) => (config.retryMaxAttempts = Math.round(value)));
  numberOption('retryMaxAgeDays', 0.01, 365, (value) => (config.retryMaxAgeDays = value));
  numberOption('updateMinPoints', 0, 1e6, (value) => (config.updateMinPoints = value));

  const booleanOption = (key: keyof Options, apply: (value: boolean) => void): void => {
    if (!has(key)) return;
    const value = toBoolean(options[key]);
    if (value === undefined) __DEBUG__ && warn(`${key} must be true or false`);
    else apply(value);
  };
  booleanOption('debug', (value) => (config.debug = value));
  booleanOption('allowAutomation', (value) => (config.allowAutomation = value));
  booleanOption('captureEmail', (value) => (config.captureEmail = value));
  booleanOption('captureSearch', (value) => (config.captureSearch = value));
  booleanOption('respectPrivacySignals', (value) => (config.respectPrivacySignals = value));
  booleanOption('hashChange', (value) => (config.hashChange = value));
  booleanOption('dataLayer', (value) => (config.dataLayer = value));

  if (has('consent')) {
    const consent = String(options.consent).trim().toLowerCase() as ConsentMode;
    // An unreadable consent mode must not fall back to storing without consent.
    if (CONSENT_MODES.includes(consent)) config.consent = consent;
    else fatal(`consent must be one of ${CONSENT_MODES.join(', ')}; using "required"`), (config.consent = 'required');
  }

  /** A comma-separated text or an array of texts -> the non-empty trimmed items, or undefined. */
  const listOption = (key: keyof Options): string[] | undefined => {
    const list = typeof options[key] === 'string' ? (options[key] as string).split(',') : options[key];
    return Array.isArray(list) ? list.map((item) => (typeof item === 'string' ? item.trim() : '')).filter(Boolean) : undefined;
  };
  if (has('urlParams')) {
    const params = listOption('urlParams');
    if (params && params.length <= 50) config.urlParams = params;
    else __DEBUG__ && warn('urlParams must be comma-separated query parameter names; using the defaults');
  }
  if (has('updates')) {
    const updates = listOption('updates');
    const all = updates?.[0] === 'all';
    // An unreadable list turns updates off: sending what the site did not ask for is the worse mistake.
    config.updates = all ? UPDATE_TYPES : [];
    if (!all && updates?.[0] !== 'none') {
      if (updates?.every((type) => UPDATE_TYPES.includes(type as UpdateType))) config.updates = updates as UpdateType[];
      else __DEBUG__ && warn(`updates must be "all", "none" or a list of ${UPDATE_TYPES.join(', ')}; sending none`);
    }
  }
  if (has('identityTraits')) {
    const traits = listOption('identityTraits');
    if (traits?.length && traits.length <= 10 && traits.every(isName)) config.identityTraits = traits;
    else __DEBUG__ && warn('identityTraits must be comma-separated trait names like "email,customer_id"; using "email"');
  }

  let highValue: readonly string[] = DEFAULT_HIGH_VALUE_PATHS;
  if (has('highValue')) {
    const paths = listOption('highValue') ?? [];
    if (paths.length && paths.length <= 50 && paths.every((path) => path.length <= 200)) highValue = paths;
    else __DEBUG__ && warn('highValue must be comma-separated path patterns like "/pricing,/quote/*"; using the defaults');
  }

  let useDefaults = true;
  booleanOption('defaultRules', (value) => (useDefaults = value));
  const rules: Rule[] = useDefaults ? defaultRules(highValue) : [];
  if (has('rules')) {
    if (!Array.isArray(options.rules)) {
      __DEBUG__ && warn('rules must be an array');
    } else {
      for (const item of options.rules.slice(0, 100)) {
        const rule = parseRule(item);
        if (typeof rule === 'string') {
          if (__DEBUG__) warn(`dropped a rule: ${rule}`);
          continue;
        }
        if (__DEBUG__ && !KNOWN_SIGNALS.includes(rule.signal)) {
          warn(`rule "${rule.id}" scores "${rule.signal}", which only track("${rule.signal}") emits`);
        }
        const existing = rules.findIndex((other) => other.id === rule.id);
        if (existing >= 0) rules[existing] = rule;
        else rules.push(rule);
      }
    }
  }
  model.rules = rules;
  return { config, problems };
}
