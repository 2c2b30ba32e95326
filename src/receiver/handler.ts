import { parseBeacon, type LeadEvent } from './parse';

/** Remembers idempotency ids. `add` resolves true for a new id, false for a duplicate. */
export interface DedupeStore {
  add(id: string): boolean | Promise<boolean>;
  /** Forgets an id whose processing failed, so the client's retry is accepted. */
  delete(id: string): void | Promise<void>;
}

/**
 * The default de-duplication store: in memory, with a TTL and a size bound (oldest dropped first).
 * It de-duplicates per process; past one machine, back `DedupeStore` with a database unique key
 * (README: "Scaling past one machine").
 */
export function createMemoryDedupe({ ttlMs = 7 * 86_400_000, maxEntries = 100_000, now = Date.now } = {}): DedupeStore {
  const seen = new Map<string, number>();
  return {
    add(id) {
      const time = now();
      const at = seen.get(id);
      if (at !== undefined && time - at < ttlMs) return false;
      seen.delete(id);
      seen.set(id, time);
      // Maps iterate in insertion order: the first keys are the oldest.
      for (const key of seen.keys()) {
        if (seen.size <= maxEntries) break;
        seen.delete(key);
      }
      return true;
    },
    delete(id) {
      seen.delete(id);
    },
  };
}

export interface RateLimit {
  /** Requests allowed per client per window (default 60). */
  max?: number;
  /** Window in ms (default 60 000). */
  windowMs?: number;
  /** How a client is told apart (default: first X-Forwarded-For address, else "anonymous"). */
  key?: (request: Request) => string;
  /** Clients remembered at once (default 10 000; the least recently seen are forgotten). */
  maxClients?: number;
}

export interface BeaconContext {
  request: Request;
  /** The user agent looks like automation or a crawler: keep the lead, but count it apart. */
  bot: boolean;
  receivedAt: number;
}

export interface HandlerOptions {
  /**
   * Called once per accepted, new lead event (v1 beacons arrive normalized to v2: see parseBeacon).
   * If it throws, the client gets 500 and retries.
   */
  onBeacon: (beacon: LeadEvent, context: BeaconContext) => void | Promise<void>;
  /** Origins allowed to POST (CORS). Default: any origin, without credentials. */
  allowedOrigins?: readonly string[];
  /** Largest body in bytes (default 64 KiB), enforced while streaming. */
  maxBodyBytes?: number;
  /** De-duplication by idempotency id (default: in memory); `false` turns it off. */
  dedupe?: DedupeStore | false;
  /** Per-client rate limit (default 60/min); `false` turns it off. */
  rateLimit?: RateLimit | false;
  /** Accepted stage names (default: any). */
  stages?: readonly string[];
  now?: () => number;
}

const BOT = /HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|bot\b|crawler|spider|slurp|curl\/|wget\/|python-requests|lighthouse/i;

/** Headless browsers and crawlers, from the User-Agent and Sec-CH-UA headers (Fetch Headers or Node's header object). */
export function isLikelyBot(headers: Headers | Record<string, string | string[] | undefined>): boolean {
  const read = (name: string): string => {
    const value = headers instanceof Headers ? headers.get(name) : headers[name];
    return Array.isArray(value) ? value.join(' ') : (value ?? '');
  };
  return BOT.test(read('user-agent')) || /HeadlessChrome/i.test(read('sec-ch-ua'));
}

class TooLarge extends Error {}

/** Reads a body up to `limit` bytes without buffering more: a huge or endless body is cut off early. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length'));
  if (declared > limit) throw new TooLarge();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function createLimiter(options: RateLimit, now: () => number) {
  const max = options.max ?? 60;
  const windowMs = options.windowMs ?? 60_000;
  const maxClients = options.maxClients ?? 10_000;
  const clients = new Map<string, { start: number; count: number }>();
  return (key: string): number | null => {
    const time = now();
    let client = clients.get(key);
    if (!client || time - client.start >= windowMs) client = { start: time, count: 0 };
    clients.delete(key);
    clients.set(key, client);
    for (const oldest of clients.keys()) {
      if (clients.size <= maxClients) break;
      clients.delete(oldest);
    }
    if (++client.count > max) return Math.max(1, Math.ceil((client.start + windowMs - time) / 1000));
    return null;
  };
}

const defaultKey = (request: Request): string => request.headers.get('x-forwarded-for')?.split(',')[0]?.trim() || 'anonymous';

/**
 * A Fetch-standard handler for qualification beacons: `(request) => Promise<Response>`. Runs as is
 * on Node 18+, Deno, Bun and edge runtimes; `toNodeListener()` adapts it to node:http and Express.
 * 204 on accept and on duplicate (so clients stop retrying), 400 invalid, 413 too large, 405 other
 * methods, 415 other content types, 429 with Retry-After over the rate limit, 403 for origins not
 * allowed. Sets no cookies.
 */
export function createBeaconHandler(options: HandlerOptions): (request: Request) => Promise<Response> {
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? 65_536;
  const dedupe = options.dedupe === false ? null : (options.dedupe ?? createMemoryDedupe({ now }));
  const limit = options.rateLimit === false ? null : createLimiter(options.rateLimit ?? {}, now);
  const keyOf = (options.rateLimit && options.rateLimit.key) || defaultKey;
  const allowed = options.allowedOrigins;

  return async (request) => {
    const origin = request.headers.get('origin');
    const originAllowed = !origin || !allowed || allowed.includes(origin);
    const cors: Record<string, string> = originAllowed
      ? {
          'access-control-allow-origin': allowed && origin ? origin : '*',
          'access-control-expose-headers': 'Retry-After',
          ...(allowed ? { vary: 'Origin' } : {}),
        }
      : {};
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): Response =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { ...cors, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      });

    if (request.method === 'OPTIONS') {
      // Beacons are simple requests and never preflight; answer it for allowed origins only.
      if (!origin || !allowed || !allowed.includes(origin)) return new Response(null, { status: 403 });
      return reply(204, undefined, {
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '86400',
      });
    }
    if (request.method !== 'POST') return reply(405, { errors: ['use POST'] }, { allow: 'POST, OPTIONS' });
    if (!originAllowed) return new Response(null, { status: 403 });
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'text/plain' && type !== 'application/json') return reply(415, { errors: ['content type must be text/plain or application/json'] });
    const wait = limit?.(keyOf(request)) ?? null;
    if (wait !== null) return reply(429, { errors: ['too many requests'] }, { 'retry-after': String(wait) });

    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(await readLimited(request, maxBodyBytes));
    } catch (error) {
      return error instanceof TooLarge ? reply(413, { errors: [`body over ${maxBodyBytes} bytes`] }) : reply(400, { errors: ['body is not valid UTF-8'] });
    }
    const parsed = parseBeacon(text, { stages: options.stages, maxChars: maxBodyBytes });
    if (!parsed.ok) return reply(400, { errors: parsed.errors });

    const { beacon } = parsed;
    if (dedupe && !(await dedupe.add(beacon.id))) return reply(204);
    try {
      await options.onBeacon(beacon, { request, bot: isLikelyBot(request.headers), receivedAt: now() });
    } catch {
      await dedupe?.delete(beacon.id);
      return reply(500, { errors: ['could not store the beacon; retry'] });
    }
    return reply(204);
  };
}
