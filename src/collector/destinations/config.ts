import { isObject } from '../values';

/**
 * Destinations: where lead events go (a webhook, Slack, HubSpot, Klaviyo). Parsed from the
 * collector's config file; secrets are written `env:NAME` and read from the environment only.
 * Pure: the caller passes the environment.
 */
export const EVENT_TYPES = ['lead.qualified', 'lead.identified', 'lead.purchased', 'lead.stage', 'lead.score', 'lead.status_changed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type DestinationType = 'webhook' | 'slack' | 'hubspot' | 'klaviyo';

export interface RetryPolicy {
  /** Attempts before a job is dead (default 12). */
  maxAttempts: number;
  /** Hours after which a job that has not gone through is dead (default 24). */
  maxHours: number;
  /** The first retry's delay in seconds (default 10); it doubles each time, with jitter, up to maxDelaySeconds. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

interface Common {
  /** Unique; how the dashboard, logs and the outbox name it. Default: the type (then type-2, ...). */
  name: string;
  type: DestinationType;
  events: EventType[];
  /** Site ids; empty: every site. */
  sites: string[];
  /** Whether leads without an email are sent; CRM and email tools need one, so theirs wait until identified. */
  anonymous: boolean;
  /** Whether bot and suspicious leads are sent (default false). */
  flagged: boolean;
  /** Requests at once (per collector instance) and per second. */
  concurrency: number;
  ratePerSecond: number;
  /** Per request, in ms (default 10 000): past it the outcome is unknown, so the job is retried with its idempotency key. */
  timeoutMs: number;
  retry: RetryPolicy;
}

export interface WebhookDestination extends Common {
  type: 'webhook';
  url: string;
  /** Standard Webhooks secrets (`whsec_...`); several during a rotation, each signs. */
  secrets: string[];
  headers: Record<string, string>;
}
export interface SlackDestination extends Common {
  type: 'slack';
  url: string;
}
export interface HubspotDestination extends Common {
  type: 'hubspot';
  token: string;
  /** A custom behavioural event's fully qualified name (`pe<HubID>_leadscore_lead_event`); absent: contacts only. */
  eventName: string | null;
  baseUrl: string;
}
export interface KlaviyoDestination extends Common {
  type: 'klaviyo';
  apiKey: string;
  revision: string;
  /** Metric name per event type. */
  metrics: Record<EventType, string>;
  baseUrl: string;
}
export type Destination = WebhookDestination | SlackDestination | HubspotDestination | KlaviyoDestination;

export const KLAVIYO_REVISION = '2026-10-15';
export const KLAVIYO_METRICS: Record<EventType, string> = {
  'lead.qualified': 'Qualified Lead',
  'lead.identified': 'Identified Lead',
  'lead.purchased': 'Lead Purchased',
  'lead.stage': 'Lead Stage Reached',
  'lead.score': 'Lead Score Rose',
  'lead.status_changed': 'Lead Status Changed',
};

const DEFAULTS: Record<DestinationType, { events: readonly EventType[]; anonymous: boolean; concurrency: number; ratePerSecond: number }> = {
  webhook: { events: EVENT_TYPES, anonymous: true, concurrency: 4, ratePerSecond: 20 },
  // One message per qualified lead; Slack allows about one message per second per webhook.
  slack: { events: ['lead.qualified'], anonymous: true, concurrency: 1, ratePerSecond: 1 },
  // HubSpot private apps: 100 requests per 10 s (each job is one or two requests).
  hubspot: { events: EVENT_TYPES, anonymous: false, concurrency: 2, ratePerSecond: 4 },
  // Klaviyo's events endpoint: 350/s burst, 3 500/min steady.
  klaviyo: { events: EVENT_TYPES, anonymous: false, concurrency: 4, ratePerSecond: 50 },
};

/** `env:NAME` reads the environment; anything else is taken as written (allowed for URLs, refused for keys). */
function secret(value: unknown, env: Record<string, string | undefined>, where: string, problems: string[], { literalOk = false } = {}): string | null {
  if (typeof value !== 'string' || !value) return null;
  const match = value.match(/^env:([A-Za-z_][A-Za-z0-9_]*)$/);
  if (match) {
    const found = env[match[1]!];
    if (!found) problems.push(`${where}: the environment variable ${match[1]} is not set`);
    return found || null;
  }
  if (!literalOk) {
    problems.push(`${where}: secrets are read from the environment only: write "env:NAME"`);
    return null;
  }
  return value;
}

function positive(value: unknown, fallback: number, where: string, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  problems.push(`${where} must be a positive number; using ${fallback}`);
  return fallback;
}

function httpsUrl(value: string | null, where: string, problems: string[]): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
  } catch {
    // reported below
  }
  problems.push(`${where}: ${JSON.stringify(value)} is not an http(s) URL`);
  return null;
}

/**
 * Every destination that is complete; each problem says which one and why (an incomplete one is
 * left out, never half-configured). `problems` are shown at start like the rest of the config's.
 */
export function parseDestinations(value: unknown, env: Record<string, string | undefined>): { destinations: Destination[]; problems: string[] } {
  const problems: string[] = [];
  const destinations: Destination[] = [];
  if (value === undefined) return { destinations, problems };
  if (!Array.isArray(value)) return { destinations, problems: ['destinations must be an array of { type, ... }'] };
  const names = new Set<string>();
  for (const [index, entry] of value.entries()) {
    const where = `destinations[${index}]`;
    if (!isObject(entry) || typeof entry.type !== 'string' || !(entry.type in DEFAULTS)) {
      problems.push(`${where}: type must be one of webhook, slack, hubspot, klaviyo`);
      continue;
    }
    const type = entry.type as DestinationType;
    const defaults = DEFAULTS[type];
    let name = typeof entry.name === 'string' && /^[\w.-]{1,60}$/.test(entry.name) ? entry.name : type;
    if (entry.name !== undefined && name !== entry.name) problems.push(`${where}: name may hold letters, digits, "_", "-" and "." (up to 60); using "${name}"`);
    for (let n = 2; names.has(name); n++) name = `${type}-${n}`;
    const label = `destination "${name}"`;

    let events = [...defaults.events];
    if (entry.events !== undefined) {
      const list = Array.isArray(entry.events) ? entry.events : [];
      const unknown = list.filter((event) => !(EVENT_TYPES as readonly unknown[]).includes(event));
      if (!list.length || unknown.length) problems.push(`${label}: events must list some of ${EVENT_TYPES.join(', ')}${unknown.length ? `, not ${unknown.map((u) => JSON.stringify(u)).join(', ')}` : ''}`);
      const known = list.filter((event): event is EventType => (EVENT_TYPES as readonly unknown[]).includes(event));
      if (known.length) events = known;
    }
    const sites = Array.isArray(entry.sites) ? entry.sites.filter((site): site is string => typeof site === 'string') : [];
    if (entry.sites !== undefined && !Array.isArray(entry.sites)) problems.push(`${label}: sites must be an array of site ids`);
    let anonymous = defaults.anonymous;
    if (entry.anonymous !== undefined) {
      if (typeof entry.anonymous !== 'boolean') problems.push(`${label}: anonymous must be true or false`);
      else if (entry.anonymous && (type === 'hubspot' || type === 'klaviyo')) problems.push(`${label}: ${type} needs an email, so anonymous leads wait until they are identified`);
      else anonymous = entry.anonymous;
    }
    const retry = isObject(entry.retry) ? entry.retry : {};
    const common: Common = {
      name,
      type,
      events,
      sites,
      anonymous,
      flagged: entry.flagged === true,
      concurrency: Math.max(1, Math.floor(positive(entry.concurrency, defaults.concurrency, `${label}: concurrency`, problems))),
      ratePerSecond: positive(entry.ratePerSecond, defaults.ratePerSecond, `${label}: ratePerSecond`, problems),
      timeoutMs: positive(entry.timeoutMs, 10_000, `${label}: timeoutMs`, problems),
      retry: {
        maxAttempts: Math.max(1, Math.floor(positive(retry.maxAttempts, 12, `${label}: retry.maxAttempts`, problems))),
        maxHours: positive(retry.maxHours, 24, `${label}: retry.maxHours`, problems),
        baseDelaySeconds: positive(retry.baseDelaySeconds, 10, `${label}: retry.baseDelaySeconds`, problems),
        maxDelaySeconds: positive(retry.maxDelaySeconds, 3600, `${label}: retry.maxDelaySeconds`, problems),
      },
    };

    let destination: Destination | null = null;
    if (type === 'webhook') {
      const url = httpsUrl(secret(entry.url, env, `${label}: url`, problems, { literalOk: true }), `${label}: url`, problems);
      const given = Array.isArray(entry.secret) ? entry.secret : entry.secret === undefined ? [] : [entry.secret];
      const secrets = given.map((item, i) => secret(item, env, `${label}: secret${given.length > 1 ? `[${i}]` : ''}`, problems)).filter((item): item is string => !!item);
      const bad = secrets.find((item) => !/^whsec_[A-Za-z0-9+/=]{16,}$/.test(item));
      if (bad !== undefined) problems.push(`${label}: a secret must be "whsec_" and base64 (at least 12 bytes); generate one with: node -e "console.log('whsec_'+require('crypto').randomBytes(24).toString('base64'))"`);
      const headers: Record<string, string> = {};
      if (isObject(entry.headers)) {
        for (const [key, raw] of Object.entries(entry.headers)) {
          const headerValue = secret(raw, env, `${label}: headers.${key}`, problems, { literalOk: true });
          if (headerValue !== null && /^[\w-]+$/.test(key)) headers[key.toLowerCase()] = headerValue;
        }
      }
      if (url && bad === undefined) destination = { ...common, type, url, secrets, headers };
    } else if (type === 'slack') {
      const url = httpsUrl(secret(entry.url, env, `${label}: url`, problems, { literalOk: false }), `${label}: url`, problems);
      if (!url && entry.url === undefined) problems.push(`${label}: url is required ("env:SLACK_WEBHOOK_URL")`);
      if (url) destination = { ...common, type, url };
    } else if (type === 'hubspot') {
      const token = secret(entry.token, env, `${label}: token`, problems);
      if (!token && entry.token === undefined) problems.push(`${label}: token is required ("env:HUBSPOT_TOKEN", a private app's access token)`);
      const eventName = typeof entry.eventName === 'string' && entry.eventName ? entry.eventName : null;
      const baseUrl = httpsUrl(typeof entry.baseUrl === 'string' ? entry.baseUrl : 'https://api.hubapi.com', `${label}: baseUrl`, problems);
      if (token && baseUrl) destination = { ...common, type, token, eventName, baseUrl: baseUrl.replace(/\/$/, '') };
    } else {
      const apiKey = secret(entry.apiKey, env, `${label}: apiKey`, problems);
      if (!apiKey && entry.apiKey === undefined) problems.push(`${label}: apiKey is required ("env:KLAVIYO_PRIVATE_KEY", a private API key with events:write)`);
      const metrics = { ...KLAVIYO_METRICS };
      if (isObject(entry.metrics)) for (const [key, metric] of Object.entries(entry.metrics)) if (key in metrics && typeof metric === 'string' && metric) metrics[key as EventType] = metric;
      const baseUrl = httpsUrl(typeof entry.baseUrl === 'string' ? entry.baseUrl : 'https://a.klaviyo.com', `${label}: baseUrl`, problems);
      const revision = typeof entry.revision === 'string' && /^\d{4}-\d{2}-\d{2}(\.\w+)?$/.test(entry.revision) ? entry.revision : KLAVIYO_REVISION;
      if (apiKey && baseUrl) destination = { ...common, type, apiKey, revision, metrics, baseUrl: baseUrl.replace(/\/$/, '') };
    }
    if (destination) {
      names.add(name);
      destinations.push(destination);
    } else {
      problems.push(`${label} is left out until the problems above are fixed`);
    }
  }
  return { destinations, problems };
}

/** What the outbox needs to plan jobs: no secrets. */
export interface Route {
  name: string;
  events: readonly EventType[];
  sites: readonly string[];
  anonymous: boolean;
  flagged: boolean;
}

export const toRoute = (destination: Destination): Route => ({ name: destination.name, events: destination.events, sites: destination.sites, anonymous: destination.anonymous, flagged: destination.flagged });
