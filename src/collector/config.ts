import { parseConfig } from '../config';
import type { ScoringModel } from '../types';
import { parseDestinations, type Destination } from './destinations/config';
import { isObject } from './values';

/**
 * The collector's settings: `leadscore.config.json` (or `--config FILE`), then environment
 * variables, then command-line flags (each wins over the one before). Secrets come only from the
 * environment. Pure: the caller reads the file and the environment.
 */
export interface SiteConfig {
  id: string;
  /** Origins allowed to send this site's events (`https://shop.example`). */
  origins: string[];
  /** The site's scoring model, from the same options the script tag takes (rules, stages, threshold, ...). */
  model: ScoringModel;
  /** The options as given: the served script carries them (`/s/leadscore.js?site=ID`). */
  options: Record<string, unknown>;
  /** New leads per minute before 429 (default 600). */
  quota: number;
}

export type TrustProxy = { hops: number } | { cidrs: string[] } | null;

export interface CollectorConfig {
  port: number;
  host: string;
  /** The embedded database's folder, or a PostgreSQL URL. */
  db: { kind: 'sqlite'; folder: string } | { kind: 'postgres'; url: string };
  adminPassword: string | null;
  apiToken: string | null;
  trustProxy: TrustProxy;
  sites: SiteConfig[];
  /** `/collect` requests per client address per minute (default 120). */
  rateLimit: number;
  /** SSE connections at once (default 100). */
  maxStreams: number;
  log: 'json' | 'pretty';
  /** The public URL of the dashboard, for links (optional). */
  publicUrl: string | null;
  /** Where lead events are forwarded (secrets resolved from the environment). */
  destinations: Destination[];
}

export interface CollectorInput {
  file?: unknown;
  env: Record<string, string | undefined>;
  flags: Record<string, string | undefined>;
}

function toPort(value: string | number | undefined, fallback: number, problems: string[]): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (Number.isInteger(port) && port >= 0 && port <= 65_535) return port;
  problems.push(`port must be a whole number from 0 to 65535, not ${JSON.stringify(value)}`);
  return fallback;
}

/** `"1"` (hops), `"10.0.0.0/8,192.168.1.5"` (CIDRs or addresses), `true` (one hop), `false`/absent (none). */
export function parseTrustProxy(value: unknown, problems: string[]): TrustProxy {
  if (value === undefined || value === false || value === 'false' || value === '' || value === 0 || value === '0') return null;
  if (value === true || value === 'true') return { hops: 1 };
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    const hops = Number(value);
    if (hops >= 1 && hops <= 10) return { hops };
  }
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  const cidrs = list.map((item) => String(item).trim()).filter(Boolean);
  if (cidrs.length && cidrs.every((cidr) => /^[\d.]+(\/\d{1,2})?$|^[\da-f:]+(\/\d{1,3})?$/i.test(cidr))) return { cidrs };
  problems.push('trustProxy must be a hop count (1-10) or a list of proxy addresses/CIDRs; X-Forwarded-For is not trusted');
  return null;
}

export function parseCollectorConfig(input: CollectorInput): { config: CollectorConfig; problems: string[] } {
  const problems: string[] = [];
  const file = isObject(input.file) ? input.file : {};
  if (input.file !== undefined && !isObject(input.file)) problems.push('the config file must hold a JSON object');
  const { env, flags } = input;
  const pick = (flag: string, envName: string, key: string): string | undefined =>
    flags[flag] ?? env[envName] ?? (file[key] === undefined ? undefined : String(file[key]));

  const databaseUrl = flags.db?.startsWith('postgres') ? flags.db : env.DATABASE_URL;
  let db: CollectorConfig['db'] = { kind: 'sqlite', folder: flags.db ?? (typeof file.db === 'string' ? file.db : './leadscore-data/') };
  if (databaseUrl) {
    if (/^postgres(ql)?:\/\//.test(databaseUrl)) db = { kind: 'postgres', url: databaseUrl };
    else problems.push('DATABASE_URL must be a postgres:// URL; using the embedded database');
  }

  const sites: SiteConfig[] = [];
  if (file.sites !== undefined) {
    if (!Array.isArray(file.sites)) problems.push('sites must be an array of { id, origins, rules?, stages? }');
    for (const [index, entry] of (Array.isArray(file.sites) ? file.sites : []).entries()) {
      if (!isObject(entry) || typeof entry.id !== 'string' || !entry.id.trim()) {
        problems.push(`sites[${index}] needs an id`);
        continue;
      }
      const origins = (Array.isArray(entry.origins) ? entry.origins : []).map(String).map((origin) => origin.replace(/\/+$/, ''));
      const bad = origins.find((origin) => !/^https?:\/\/[^/\s]+$/.test(origin));
      if (!origins.length || bad) problems.push(`site "${entry.id}": origins must be like ["https://shop.example"]${bad ? `, not ${JSON.stringify(bad)}` : ''}`);
      const { origins: _origins, quota, id: _id, ...options } = entry;
      const parsed = parseConfig(options, { pageUrl: origins[0] ?? 'https://example.invalid/' });
      for (const problem of parsed.problems.filter((p) => p.fatal)) problems.push(`site "${entry.id}": ${problem.message}`);
      sites.push({ id: entry.id.trim(), origins, model: parsed.config.model, options, quota: typeof quota === 'number' && quota > 0 ? quota : 600 });
    }
  }

  const trustProxy = parseTrustProxy(flags['trust-proxy'] ?? env.LEADSCORE_TRUST_PROXY ?? file.trustProxy, problems);
  const numberSetting = (key: string, fallback: number): number => {
    const value = file[key];
    if (value === undefined) return fallback;
    if (typeof value === 'number' && value > 0) return value;
    problems.push(`${key} must be a positive number`);
    return fallback;
  };
  const log = (flags.log ?? env.LEADSCORE_LOG ?? 'json') === 'pretty' ? 'pretty' : 'json';
  const password = env.LEADSCORE_ADMIN_PASSWORD || null;
  if (password && password.length < 12) problems.push('LEADSCORE_ADMIN_PASSWORD is shorter than 12 characters: choose a longer one');
  if ('adminPassword' in file || 'apiToken' in file) problems.push('secrets are read from the environment only (LEADSCORE_ADMIN_PASSWORD, LEADSCORE_API_TOKEN); the config file values are ignored');

  const destinations = parseDestinations(file.destinations, env);
  problems.push(...destinations.problems);
  let publicUrl: string | null = null;
  const givenUrl = flags['public-url'] ?? env.LEADSCORE_PUBLIC_URL ?? (typeof file.publicUrl === 'string' ? file.publicUrl : undefined);
  if (givenUrl) {
    if (/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(givenUrl)) publicUrl = givenUrl.replace(/\/+$/, '');
    else problems.push(`publicUrl must be an http(s) URL like https://leads.example.com, not ${JSON.stringify(givenUrl)}`);
  }

  return {
    config: {
      port: toPort(pick('port', 'PORT', 'port'), 8787, problems),
      host: pick('host', 'HOST', 'host') ?? '127.0.0.1',
      db,
      adminPassword: password,
      apiToken: env.LEADSCORE_API_TOKEN || null,
      trustProxy,
      sites,
      rateLimit: numberSetting('rateLimit', 120),
      maxStreams: numberSetting('maxStreams', 100),
      log,
      publicUrl,
      destinations: destinations.destinations,
    },
    problems,
  };
}
