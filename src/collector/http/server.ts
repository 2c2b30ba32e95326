import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isLikelyBot } from '../../receiver/handler';
import { parseBeacon, type LeadEvent } from '../../receiver/parse';
import type { CollectorConfig, SiteConfig } from '../config';
import { isFlagged, LEAD_STATUSES, type Lead, type LeadStatus } from '../leads/lead';
import { checkPlausibility } from '../leads/plausibility';
import { SOURCES, type Source } from '../leads/source';
import type { Logger } from '../log';
import type { LeadQuery, LeadStore } from '../store/types';
import { authenticate, createPasswordCheck, csrfOk, newToken, SESSION_MS, sessionCookie, type Principal } from './auth';
import { clientAddress, createLimiter } from './client';
import { createStreams } from './sse';
import { createDispatcher, type Dispatcher } from '../destinations/dispatcher';
import { JOB_STATES } from '../destinations/plan';

export interface CollectorOptions {
  config: CollectorConfig;
  store: LeadStore;
  log: Logger;
  /** The folder holding leadscore.js, leadscore.lite.js, leadscore.debug.js. */
  scripts: string;
  version: string;
  now?: () => number;
  /** Deliveries to destinations: `fetch` and `random` for tests; `deliver: false` leaves the outbox to `dispatcher.drain()`. */
  fetch?: typeof fetch;
  random?: () => number;
  deliver?: boolean;
  pollMs?: number;
}

const MAX_BODY_BYTES = 65_536;
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers }).end(JSON.stringify(body));
}

/** Reads a body up to `limit` bytes; a longer one is cut off (413) without buffering it. */
function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(request.headers['content-length']) > limit) return reject(new HttpError(413, `body over ${limit} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.destroy();
        reject(new HttpError(413, `body over ${limit} bytes`));
      } else chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        reject(new HttpError(400, 'body is not valid UTF-8'));
      }
    });
    request.on('error', reject);
  });
}

/**
 * The collector's HTTP front: `/collect` (open, hard to abuse), `/healthz`, the script files at
 * `/s/*`, login, and the JSON API and live stream behind authentication.
 */
export async function createCollector(options: CollectorOptions): Promise<{ server: Server; handle: (request: IncomingMessage, response: ServerResponse) => void; close: () => Promise<void>; streams: ReturnType<typeof createStreams>; dispatcher: Dispatcher }> {
  const { config, store, log } = options;
  const now = options.now ?? Date.now;
  const checkPassword = config.adminPassword ? await createPasswordCheck(config.adminPassword) : null;
  const collectLimit = createLimiter({ max: config.rateLimit, now });
  const loginLimit = createLimiter({ max: 5, now });
  const quotas = new Map<string, ReturnType<typeof createLimiter>>();
  const streams = createStreams({ max: config.maxStreams });
  const sites = new Map(config.sites.map((site) => [site.id, site]));
  const scripts = loadScripts(options.scripts, options.version);
  // A site's half-life (the script's default without a site), for "points halve every N days".
  const halfLifeDays = (site: string): number => sites.get(site)?.model.halfLifeDays ?? 14;
  const dispatcher = createDispatcher({
    store,
    destinations: config.destinations,
    log,
    publicUrl: config.publicUrl,
    halfLifeDays,
    fetch: options.fetch,
    now: options.now,
    random: options.random,
    pollMs: options.pollMs,
  });
  if (options.deliver !== false && config.destinations.length) dispatcher.start();
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | null = null;

  const secure = (request: IncomingMessage): boolean =>
    'encrypted' in request.socket || (config.trustProxy !== null && request.headers['x-forwarded-proto'] === 'https');

  async function collect(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin : null;
    const allowed = (site: SiteConfig | undefined): boolean => !config.sites.length || (!!site && !!origin && site.origins.includes(origin));
    const cors: Record<string, string> = origin && (!config.sites.length || config.sites.some((site) => site.origins.includes(origin)))
      ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'Retry-After', vary: 'Origin' }
      : {};
    if (request.method === 'OPTIONS') {
      if (!cors['access-control-allow-origin']) throw new HttpError(403, 'origin not allowed');
      response.writeHead(204, { ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '86400' }).end();
      return;
    }
    if (request.method !== 'POST') throw new HttpError(405, 'use POST', { allow: 'POST, OPTIONS' });
    const address = clientAddress(request, config.trustProxy);
    const wait = collectLimit(address);
    if (wait !== null) throw new HttpError(429, 'too many requests', { 'retry-after': String(wait), ...cors });
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'text/plain' && type !== 'application/json') throw new HttpError(415, 'content type must be text/plain or application/json');
    const parsed = parseBeacon(await readBody(request));
    if (!parsed.ok) return json(response, 400, { errors: parsed.errors }, cors);
    const event = parsed.beacon;
    const site = sites.get(event.site);
    if (config.sites.length && !site) throw new HttpError(403, `site "${event.site}" is not configured`, cors);
    if (origin && !allowed(site)) throw new HttpError(403, 'origin not allowed for this site');
    const flags: string[] = [];
    // No browser sends a POST without Origin: stored, but not trusted.
    if (!origin) flags.push('no Origin header');
    if (site) flags.push(...checkPlausibility(event, site.model));
    if (site && event.type === 'qualified' && event.n === 1) {
      let quota = quotas.get(site.id);
      if (!quota) quotas.set(site.id, (quota = createLimiter({ max: site.quota, now })));
      const over = quota('new');
      if (over !== null) throw new HttpError(429, 'new-lead quota for this site reached', { 'retry-after': String(over), ...cors });
    }
    const meta = { receivedAt: now(), bot: isLikelyBot(request.headers), flags };
    let outcome;
    try {
      outcome = await store.insert(event, meta);
    } catch (error) {
      log.error('store failed; the client retries', { event: event.id, error: String(error) });
      throw new HttpError(503, 'could not store the event; retry', { 'retry-after': '5', ...cors });
    }
    response.writeHead(204, { ...cors, ...SECURITY_HEADERS }).end();
    if (outcome.stored) {
      log.info('event stored', { id: event.id, type: event.type, site: event.site, score: event.score, flags: flags.length ? flags : undefined });
      streams.publish('lead', summarize(outcome.lead, event));
      dispatcher.wake();
    }
  }

  async function login(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!checkPassword) throw new HttpError(503, 'set LEADSCORE_ADMIN_PASSWORD to sign in');
    if (request.method !== 'POST') throw new HttpError(405, 'use POST', { allow: 'POST' });
    const wait = loginLimit(clientAddress(request, config.trustProxy));
    if (wait !== null) throw new HttpError(429, 'too many sign-in attempts', { 'retry-after': String(wait) });
    const body = await readBody(request, 4096);
    const type = request.headers['content-type'] ?? '';
    const password = type.includes('application/json') ? (safeJson(body) as { password?: unknown } | null)?.password : new URLSearchParams(body).get('password');
    if (typeof password !== 'string' || !(await checkPassword(password))) {
      log.warn('sign-in refused', { address: clientAddress(request, config.trustProxy) });
      throw new HttpError(401, 'wrong password');
    }
    const session = { id: newToken(), csrf: newToken(), user: 'admin', expires: now() + SESSION_MS };
    await store.createSession(session);
    json(response, 200, { user: session.user, csrf: session.csrf }, { 'set-cookie': sessionCookie(session.id, secure(request)) });
  }

  /** The principal of an API request, or an error: 503 without a password or token, 401 signed out, 403 without CSRF. */
  async function guard(request: IncomingMessage, changes: boolean): Promise<Principal> {
    if (!checkPassword && !config.apiToken) throw new HttpError(503, 'the dashboard and API are off: set LEADSCORE_ADMIN_PASSWORD (and LEADSCORE_API_TOKEN for API clients) in the environment');
    const principal = await authenticate(request, store, config.apiToken, now());
    if (!principal) throw new HttpError(401, 'sign in first', { 'www-authenticate': 'Bearer' });
    if (changes && !csrfOk(request, principal)) throw new HttpError(403, 'missing or wrong x-csrf-token');
    return principal;
  }

  async function api(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    if (path === '/api/session') {
      if (request.method === 'DELETE') {
        const principal = await guard(request, true);
        const id = (request.headers.cookie ?? '').match(/leadscore_session=([^;]+)/)?.[1];
        if (id) await store.deleteSession(id);
        return json(response, 200, { user: principal.user }, { 'set-cookie': sessionCookie('', secure(request), 0) });
      }
      const principal = await guard(request, false);
      return json(response, 200, { user: principal.user, csrf: principal.csrf, sitesConfigured: config.sites.length > 0 });
    }
    if (path === '/api/stream') {
      await guard(request, false);
      streams.open(response);
      return;
    }
    if (path === '/api/stats') {
      await guard(request, false);
      return json(response, 200, await store.stats(toQuery(url.searchParams)));
    }
    if (path === '/api/leads' || path === '/api/leads.csv') {
      if (request.method !== 'GET') throw new HttpError(405, 'use GET', { allow: 'GET' });
      await guard(request, false);
      const query = toQuery(url.searchParams);
      if (path === '/api/leads') return json(response, 200, await store.list(query));
      return streamCsv(response, store, query);
    }
    const match = path.match(/^\/api\/leads\/([\w-]{1,300})$/);
    if (match) {
      const id = match[1]!;
      if (request.method === 'GET') {
        await guard(request, false);
        const found = await store.get(id);
        if (!found) throw new HttpError(404, 'no such lead');
        const deliveries = config.destinations.length ? await store.listJobs({ leadId: id, limit: 200 }) : [];
        return json(response, 200, { ...found, deliveries, halfLifeDays: halfLifeDays(found.lead.site) });
      }
      if (request.method === 'PATCH') {
        const principal = await guard(request, true);
        const change = toChange(safeJson(await readBody(request, 16_384)));
        const lead = await store.update(id, change, principal.user, now());
        if (!lead) throw new HttpError(404, 'no such lead');
        log.info('lead changed', { id, by: principal.user, ...change, note: change.note ? '(note)' : undefined });
        streams.publish('lead', summarize(lead, null));
        dispatcher.wake();
        return json(response, 200, lead);
      }
      throw new HttpError(405, 'use GET or PATCH', { allow: 'GET, PATCH' });
    }
    if (path === '/api/destinations') {
      if (request.method !== 'GET') throw new HttpError(405, 'use GET', { allow: 'GET' });
      await guard(request, false);
      const counts = await store.jobCounts();
      return json(response, 200, {
        destinations: config.destinations.map((destination) => ({
          name: destination.name,
          type: destination.type,
          events: destination.events,
          sites: destination.sites,
          anonymous: destination.anonymous,
          flagged: destination.flagged,
          counts: Object.fromEntries(counts.filter((row) => row.destination === destination.name).map((row) => [row.state, row.count])),
        })),
      });
    }
    const test = path.match(/^\/api\/destinations\/([\w.-]{1,60})\/test$/);
    if (test) {
      if (request.method !== 'POST') throw new HttpError(405, 'use POST', { allow: 'POST' });
      const principal = await guard(request, true);
      const outcome = await dispatcher.sendTest(test[1]!);
      if (!outcome) throw new HttpError(404, 'no such destination');
      log.info('test event sent', { destination: test[1], by: principal.user, ok: outcome.ok });
      return json(response, 200, outcome);
    }
    if (path === '/api/deliveries') {
      if (request.method !== 'GET') throw new HttpError(405, 'use GET', { allow: 'GET' });
      await guard(request, false);
      const params = url.searchParams;
      const state = params.get('state');
      if (state && !(JOB_STATES as readonly string[]).includes(state)) throw new HttpError(400, `state must be one of ${JOB_STATES.join(', ')}`);
      return json(response, 200, { deliveries: await store.listJobs({ state: (state as never) || undefined, destination: params.get('destination') || undefined, leadId: params.get('lead') || undefined, limit: Number(params.get('limit')) || 100 }) });
    }
    const again = path.match(/^\/api\/deliveries\/(\d{1,15})\/retry$/);
    if (again) {
      if (request.method !== 'POST') throw new HttpError(405, 'use POST', { allow: 'POST' });
      const principal = await guard(request, true);
      const job = await store.requeueJob(Number(again[1]), now());
      if (!job) throw new HttpError(409, 'only a failed or skipped delivery can be sent again');
      log.info('delivery requeued', { job: job.id, by: principal.user });
      dispatcher.wake();
      return json(response, 200, job);
    }
    throw new HttpError(404, 'not found');
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://collector');
    const path = url.pathname;
    if (path === '/collect') return collect(request, response);
    if (path === '/healthz') {
      try {
        await store.ping();
        return json(response, 200, { ok: true, database: store.kind });
      } catch (error) {
        return json(response, 503, { ok: false, database: store.kind, error: String(error) });
      }
    }
    if (path.startsWith('/s/')) return serveScript(request, response, url, scripts, sites);
    if (path === '/dashboard' || path === '/dashboard/' || path === '/dashboard/app.js' || path === '/dashboard/app.css') return serveDashboard(response, path, options.scripts);
    if (path === '/login') return login(request, response);
    if (path.startsWith('/api/')) return api(request, response, url);
    throw new HttpError(404, 'not found');
  }

  /** The request listener: `server` uses it; a host process (the demo) may route to it itself. */
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (closing) {
      response.writeHead(503, { connection: 'close', 'retry-after': '2' }).end();
      return;
    }
    inFlight++;
    route(request, response)
      .catch((error: unknown) => {
        if (response.headersSent) return void response.destroy();
        if (error instanceof HttpError) return json(response, error.status, { errors: [error.message] }, error.headers);
        log.error('request failed', { path: request.url, error: String(error) });
        json(response, 500, { errors: ['internal error'] });
      })
      .finally(() => {
        if (--inFlight === 0) drained?.();
      });
  };
  const server = createServer(handle);
  // Slow clients cannot hold sockets for ever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;

  return {
    server,
    handle,
    streams,
    dispatcher,
    /** Stops accepting, lets in-flight requests (and their writes) finish, then closes the database. */
    async close() {
      closing = true;
      streams.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      await stopped;
      // Attempts in flight end and are recorded; a job not recorded is attempted again after restart.
      await dispatcher.stop();
      await store.close();
    },
  };
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

/** What a dashboard needs to update its row, never the whole event. */
function summarize(lead: Lead, event: LeadEvent | null) {
  return { id: lead.id, site: lead.site, email: lead.email, stage: lead.stage, score: lead.score, status: lead.status, source: lead.source, lastSeen: lead.lastSeen, flagged: isFlagged(lead), event: event ? { id: event.id, type: event.type } : null };
}

/** API query parameters -> a validated query (unknown values are errors, not silently ignored). */
export function toQuery(params: URLSearchParams): LeadQuery {
  const query: LeadQuery = {};
  const text = (name: string, max = 200): string | undefined => {
    const value = params.get(name);
    if (value === null || value === '') return undefined;
    if (value.length > max) throw new HttpError(400, `${name} is too long`);
    return value;
  };
  const time = (name: string): number | undefined => {
    const value = text(name, 40);
    if (value === undefined) return undefined;
    const parsed = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(parsed)) throw new HttpError(400, `${name} must be epoch ms or an ISO date`);
    return parsed;
  };
  query.site = text('site');
  query.stage = text('stage', 64);
  const status = text('status', 20);
  if (status !== undefined && !LEAD_STATUSES.includes(status as LeadStatus)) throw new HttpError(400, `status must be one of ${LEAD_STATUSES.join(', ')}`);
  query.status = status as LeadStatus | undefined;
  const source = text('source', 30);
  if (source !== undefined && !SOURCES.includes(source as Source)) throw new HttpError(400, `source must be one of ${SOURCES.join(', ')}`);
  query.source = source as Source | undefined;
  query.from = time('from');
  query.to = time('to');
  query.q = text('q');
  query.identified = params.get('identified') === 'true' || undefined;
  query.hideFlagged = params.get('hideFlagged') === 'true' || undefined;
  query.sort = text('sort', 20) as LeadQuery['sort'];
  query.order = params.get('order') === 'asc' ? 'asc' : 'desc';
  const limit = text('limit', 5);
  query.limit = limit === undefined ? undefined : Number(limit);
  query.cursor = text('cursor', 500);
  return query;
}

function toChange(body: unknown): { status?: LeadStatus; owner?: string | null; note?: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object');
  const input = body as Record<string, unknown>;
  const change: { status?: LeadStatus; owner?: string | null; note?: string } = {};
  for (const key of Object.keys(input)) if (!['status', 'owner', 'note'].includes(key)) throw new HttpError(400, `unknown field "${key}"`);
  if (input.status !== undefined) {
    if (!LEAD_STATUSES.includes(input.status as LeadStatus)) throw new HttpError(400, `status must be one of ${LEAD_STATUSES.join(', ')}`);
    change.status = input.status as LeadStatus;
  }
  if (input.owner !== undefined) {
    if (input.owner !== null && (typeof input.owner !== 'string' || input.owner.length > 200)) throw new HttpError(400, 'owner must be a short text or null');
    change.owner = input.owner === null ? null : (input.owner as string).trim() || null;
  }
  if (input.note !== undefined) {
    if (typeof input.note !== 'string' || !input.note.trim() || input.note.length > 5000) throw new HttpError(400, 'note must be a text of 1-5000 characters');
    change.note = input.note.trim();
  }
  if (!Object.keys(change).length) throw new HttpError(400, 'nothing to change: give status, owner or note');
  return change;
}

const CSV_COLUMNS: [string, (lead: Lead) => unknown][] = [
  ['id', (lead) => lead.id],
  ['visitor', (lead) => lead.visitor],
  ['site', (lead) => lead.site],
  ['email', (lead) => lead.email ?? ''],
  ['stage', (lead) => lead.stage],
  ['score', (lead) => lead.score],
  ['score_at_qualification', (lead) => lead.qualifiedScore],
  ['status', (lead) => lead.status],
  ['owner', (lead) => lead.owner ?? ''],
  ['source', (lead) => lead.source],
  ['campaign', (lead) => lead.campaign ?? ''],
  ['top_product', (lead) => lead.interest.items[0]?.name ?? lead.interest.items[0]?.item_id ?? ''],
  ['cart_value', (lead) => lead.interest.cart?.value ?? ''],
  ['flagged', (lead) => (isFlagged(lead) ? 'yes' : '')],
  ['first_seen', (lead) => new Date(lead.firstSeen).toISOString()],
  ['qualified_at', (lead) => new Date(lead.qualifiedAt).toISOString()],
  ['last_seen', (lead) => new Date(lead.lastSeen).toISOString()],
];

/** A CSV cell: quoted when needed, and never a formula a spreadsheet would run (CWE-1236). */
export function csvCell(value: unknown): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = "'" + text;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Streams every lead the filter matches, page by page, waiting for the client to read (backpressure). */
async function streamCsv(response: ServerResponse, store: LeadStore, query: LeadQuery): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="leads.csv"', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  const write = (text: string): Promise<void> => (response.write(text) ? Promise.resolve() : new Promise((resolve) => response.once('drain', resolve)));
  await write(CSV_COLUMNS.map(([name]) => name).join(',') + '\n');
  let cursor: string | undefined;
  do {
    if (response.destroyed) return;
    const page = await store.list({ ...query, limit: 500, cursor });
    if (page.leads.length) await write(page.leads.map((lead) => CSV_COLUMNS.map(([, read]) => csvCell(read(lead))).join(',')).join('\n') + '\n');
    cursor = page.next;
  } while (cursor);
  response.end();
}

/** The dashboard's page: no inline script or style, nothing from elsewhere, never in a frame. */
const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const DASHBOARD_TYPES: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

function serveDashboard(response: ServerResponse, path: string, folder: string): void {
  const name = path.endsWith('.js') ? 'app.js' : path.endsWith('.css') ? 'app.css' : 'index.html';
  let body: Buffer;
  try {
    body = readFileSync(`${folder}/dashboard/${name}`);
  } catch {
    throw new HttpError(404, 'the dashboard is not built (npm run build)');
  }
  response
    .writeHead(200, { 'content-type': DASHBOARD_TYPES[name]!, 'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY', 'cache-control': 'no-cache', ...SECURITY_HEADERS })
    .end(body);
}

interface Script {
  body: Buffer;
  etag: string;
}

function loadScripts(folder: string, version: string): Map<string, Script> {
  const scripts = new Map<string, Script>();
  for (const name of ['leadscore.js', 'leadscore.lite.js', 'leadscore.debug.js']) {
    try {
      const body = readFileSync(`${folder}/${name}`);
      scripts.set(name, { body, etag: `"${createHash('sha256').update(body).update(version).digest('base64url').slice(0, 27)}"` });
    } catch {
      // Not built: /s/<name> answers 404.
    }
  }
  return scripts;
}

/**
 * The script files, first-party. `?v=<hash>` (the ETag the tag was given) makes a URL immutable:
 * cached for a year. Without it: revalidated with the ETag. `?site=ID` prepends the site's
 * configured options as a queued `init` call, so the rules live in one place.
 */
function serveScript(request: IncomingMessage, response: ServerResponse, url: URL, scripts: Map<string, Script>, sites: Map<string, SiteConfig>): void {
  const name = url.pathname.slice(3);
  const script = scripts.get(name);
  if (!script) throw new HttpError(404, 'no such script');
  const siteId = url.searchParams.get('site');
  const site = siteId ? sites.get(siteId) : undefined;
  if (siteId && !site) throw new HttpError(404, `site "${siteId}" is not configured`);
  let body = script.body;
  let etag = script.etag;
  if (site) {
    const options = JSON.stringify({ site: site.id, ...site.options }).replace(/</g, '\\u003c');
    const prefix = `window.leadscore=window.leadscore||function(){(leadscore.q=leadscore.q||[]).push(arguments)};leadscore('init',${options});\n`;
    body = Buffer.concat([Buffer.from(prefix), script.body]);
    etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  }
  const version = url.searchParams.get('v');
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    etag,
    'cache-control': version && `"${version}"` === etag ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate',
    'access-control-allow-origin': '*',
    ...SECURITY_HEADERS,
  };
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, headers).end();
    return;
  }
  response.writeHead(200, headers).end(request.method === 'HEAD' ? undefined : body);
}
