import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { generateValidator } from '../../scripts/gen-validator.mjs';
import { createBeaconHandler, parseBeacon, toNodeListener, type HandlerOptions, type LeadEvent } from '../../src/receiver/index';
import { encodeBeacon, type BeaconV2 } from '../../src/transport/payload';
import type { LeadEventType } from '../../src/types';
import { leadEvent, v1Beacon, VISITOR } from '../helpers/events';

const beacon = (overrides: Partial<BeaconV2> = {}): BeaconV2 => leadEvent('qualified', { attribution: {}, ...overrides });
const body = (value: unknown = beacon()) => (typeof value === 'string' ? value : encodeBeacon(value as BeaconV2));

function setup(options: Partial<HandlerOptions> = {}) {
  const stored: LeadEvent[] = [];
  const handler = createBeaconHandler({ onBeacon: (b) => void stored.push(b), rateLimit: false, ...options });
  const post = (payload: BodyInit | null, headers: Record<string, string> = {}) =>
    handler(new Request('https://collect.example/leads', { method: 'POST', body: payload, headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers }, duplex: 'half' } as RequestInit));
  return { stored, handler, post };
}

describe('generated validator', () => {
  it('is up to date with schema/beacon.v1.json', () => {
    expect(readFileSync(new URL('../../src/receiver/validate-beacon.js', import.meta.url), 'utf8')).toBe(generateValidator());
  });
});

describe('parseBeacon', () => {
  it('accepts a beacon the client sends', () => {
    const result = parseBeacon(body());
    expect(result).toEqual({ ok: true, beacon: JSON.parse(body()), version: 2 });
  });

  it.each<LeadEventType>(['qualified', 'stage', 'identified', 'purchased', 'score'])('accepts a %s event', (type) => {
    const result = parseBeacon(encodeBeacon(leadEvent(type)));
    expect(result.ok && result.beacon.type).toBe(type);
  });

  it('normalizes a v1 beacon to a qualified event with no interest', () => {
    const v1 = v1Beacon({ signals: { page_view: 4, search: 2 } });
    const result = parseBeacon(encodeBeacon(v1));
    expect(result).toEqual({
      ok: true,
      version: 1,
      beacon: { ...v1, v: 2, type: 'qualified', at: v1.qualifiedAt, interest: { items: [], categories: [], searches: 2 } },
    });
  });

  it.each<[string, () => unknown]>([
    ['a v1 beacon with v2 fields', () => ({ ...v1Beacon(), type: 'qualified' })],
    ['a purchase without its order', () => ({ ...leadEvent('purchased'), order: undefined })],
    ['an order on another type', () => ({ ...leadEvent('score'), order: { value: 1 } })],
    ['an unknown type', () => ({ ...leadEvent('score'), type: 'clicked' })],
    ['an identified id of another visitor', () => leadEvent('identified', { id: 'someone.identified.1' })],
    ['an id of another type', () => leadEvent('identified', { id: `${VISITOR}.score.1` })],
    ['an id with no key', () => leadEvent('score', { id: `${VISITOR}.score.` })],
    ['six interest items', () => leadEvent('score', { interest: { ...leadEvent().interest, items: Array(6).fill(leadEvent().interest.items[0]) } })],
    ['a negative cart', () => leadEvent('score', { interest: { ...leadEvent().interest, cart: { value: -1 } } })],
    ['a stage event below its threshold', () => leadEvent('stage', { score: 99 })],
  ])('rejects %s', (_, make) => {
    expect(parseBeacon(JSON.stringify(make())).ok).toBe(false);
  });

  it('accepts an event after qualification whose score decayed below the threshold', () => {
    expect(parseBeacon(encodeBeacon(leadEvent('identified', { score: 31.5 }))).ok).toBe(true);
  });

  it('accepts an already-parsed object', () => {
    expect(parseBeacon(JSON.parse(body())).ok).toBe(true);
  });

  it('explains what is wrong', () => {
    const result = parseBeacon(body({ ...beacon(), score: 'high' } as unknown as BeaconV2));
    expect(result).toEqual({ ok: false, errors: ['/score must be number'] });
  });

  it('checks the configured stages', () => {
    expect(parseBeacon(body(), { stages: ['hot'] })).toEqual({ ok: false, errors: ['/stage "mql" is not a configured stage'] });
    expect(parseBeacon(body(), { stages: ['mql', 'hot'] }).ok).toBe(true);
  });
});

/** Bodies that must each be rejected with a 4xx and store nothing. */
const deep = '{"v":1,"traits":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
const manyKeys = '{' + Array.from({ length: 100_000 }, (_, i) => `"k${i}":1`).join(',') + '}';
const CORPUS: [string, BodyInit][] = [
  ['empty body', ''],
  ['null', 'null'],
  ['a number', '42'],
  ['an array', '[1,2]'],
  ['double-encoded JSON', JSON.stringify(body())],
  ['truncated JSON', body().slice(0, -5)],
  ['NaN', body().replace('"score":52.86', '"score":NaN')],
  ['deep nesting (10k levels)', deep],
  ['100k keys', manyKeys],
  ['__proto__ key', body().replace('"traits":{}', '"traits":{"__proto__":{"polluted":true}}')],
  ['constructor key', body().replace('"traits":{}', '"traits":{"constructor":{"prototype":{"polluted":true}}}')],
  ['wrong version', body({ ...beacon(), v: 3 as 2 })],
  ['missing id', body().replace(/"id":"[^"]*",/, '')],
  ['unknown field', body({ ...beacon(), admin: true } as BeaconV2)],
  ['negative score', body(beacon({ score: -1 }))],
  ['score below threshold', body(beacon({ score: 10 }))],
  ['huge score', body(beacon({ score: 1e12 }))],
  ['future-proofed n', body(beacon({ n: 1.5 }))],
  ['id not matching visitor/stage/n', body(beacon({ id: 'someone-else.mql.1' }))],
  ['bad stage name', body(beacon({ stage: '<script>' }))],
  ['oversized string', JSON.stringify(beacon({ page: 'x'.repeat(10_000) }))],
  ['too many signals', body(beacon({ signals: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`s${i}`, 1])) }))],
  ['object trait', body(beacon({ traits: { nested: { a: 1 } } as never }))],
  ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
];

describe('createBeaconHandler', () => {
  it('accepts a beacon: 204, stored once, no cookies', async () => {
    const { stored, post } = setup();
    const response = await post(body());
    expect(response.status).toBe(204);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id).toBe(`${VISITOR}.mql.1`);
  });

  it('accepts application/json too', async () => {
    const { stored, post } = setup();
    expect((await post(body(), { 'content-type': 'application/json' })).status).toBe(204);
    expect(stored).toHaveLength(1);
  });

  it.each(CORPUS)('rejects %s with 400 and stores nothing', async (_, payload) => {
    const { stored, post } = setup({ maxBodyBytes: 10_000_000 });
    const response = await post(payload);
    expect(response.status).toBe(400);
    expect((await response.json()).errors.length).toBeGreaterThan(0);
    expect(stored).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers duplicates with 204 and stores one record, sequentially and concurrently', async () => {
    const { stored, post } = setup();
    const sequential = [];
    for (let i = 0; i < 5; i++) sequential.push((await post(body())).status);
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => post(body({ ...beacon(), id: `${VISITOR}.mql.2`, n: 2 }))));
    expect(sequential).toEqual([204, 204, 204, 204, 204]);
    expect(concurrent.map((response) => response.status)).toEqual(Array(20).fill(204));
    expect(stored.map((b) => b.id)).toEqual([`${VISITOR}.mql.1`, `${VISITOR}.mql.2`]);
  });

  it('asks for a retry when storing fails, and accepts the retry', async () => {
    let fail = true;
    const stored: string[] = [];
    const { post } = setup({
      onBeacon: (b) => {
        if (fail) throw new Error('database down');
        stored.push(b.id);
      },
    });
    expect((await post(body())).status).toBe(500);
    fail = false;
    expect((await post(body())).status).toBe(204);
    expect(stored).toHaveLength(1);
  });

  it('flags likely bots instead of dropping them', async () => {
    const flags: boolean[] = [];
    const { post } = setup({ onBeacon: (_, context) => void flags.push(context.bot) });
    await post(body(), { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/156.0 Safari/537.36' });
    await post(body(beacon({ id: `${VISITOR}.mql.2`, n: 2 })), { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605.1.15' });
    expect(flags).toEqual([true, false]);
  });

  it('rejects a declared oversized body with 413 without reading it', async () => {
    const { post, stored } = setup({ maxBodyBytes: 1000 });
    const response = await post(body(), { 'content-length': '5000000' });
    expect(response.status).toBe(413);
    expect(stored).toEqual([]);
  });

  it('stops reading a streamed body past the limit (no length header), without buffering it', async () => {
    const { post } = setup({ maxBodyBytes: 65_536 });
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(16_384).fill(0x20));
        if (pulled > 10_000) controller.close();
      },
    });
    const response = await post(endless);
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(10);
  });

  it('rate-limits a client with 429 and Retry-After, without affecting others', async () => {
    let time = 1_000_000;
    const { post } = setup({ rateLimit: { max: 3, windowMs: 60_000 }, now: () => time });
    const from = (ip: string) => ({ 'x-forwarded-for': `${ip}, 10.0.0.1` });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(body(), from('203.0.113.5'))).status);
    expect(statuses).toEqual([204, 204, 204, 429]);
    const limited = await post(body(), from('203.0.113.5'));
    expect(limited.headers.get('retry-after')).toBe('60');
    expect((await post(body(), from('198.51.100.7'))).status).toBe(204);
    time += 60_000;
    expect((await post(body(), from('203.0.113.5'))).status).toBe(204);
  });

  it('keeps the rate limiter memory bounded', async () => {
    const { post } = setup({ rateLimit: { max: 1, maxClients: 100 } });
    for (let i = 0; i < 300; i++) await post(body(), { 'x-forwarded-for': `198.51.100.${i % 256}.${i}` });
    // The first client was forgotten (bounded map), so it is allowed again.
    expect((await post(body(), { 'x-forwarded-for': '198.51.100.0.0' })).status).toBe(204);
  });

  describe('CORS', () => {
    const allowed = ['https://shop.example'];
    const preflight = (handler: (r: Request) => Promise<Response>, origin: string) =>
      handler(new Request('https://collect.example/leads', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } }));

    it('answers an allowed origin with its own origin, never * with credentials', async () => {
      const { post } = setup({ allowedOrigins: allowed });
      const response = await post(body(), { origin: 'https://shop.example' });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('access-control-expose-headers')).toBe('Retry-After');
    });

    it('refuses other origins, and stores nothing from them', async () => {
      const { post, stored } = setup({ allowedOrigins: allowed });
      const response = await post(body(), { origin: 'https://evil.example' });
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(stored).toEqual([]);
    });

    it('answers preflight only for allowed origins', async () => {
      const { handler } = setup({ allowedOrigins: allowed });
      const ok = await preflight(handler, 'https://shop.example');
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-methods')).toBe('POST');
      expect((await preflight(handler, 'https://evil.example')).status).toBe(403);
      expect((await preflight(setup().handler, 'https://shop.example')).status).toBe(403);
    });

    it('without an allowlist, lets any origin read the status, without credentials', async () => {
      const response = await setup().post(body(), { origin: 'https://anywhere.example' });
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    });
  });

  it('answers other methods with 405 and other content types with 415', async () => {
    const { handler, post } = setup();
    const get = await handler(new Request('https://collect.example/leads'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await post(body(), { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
  });
});

describe('toNodeListener', () => {
  it('serves the handler from node:http, streaming the body', async () => {
    const { handler, stored } = setup();
    const server = createServer(toNodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/collect`, { method: 'POST', body: body(), headers: { 'content-type': 'text/plain' } });
      const bad = await fetch(`http://127.0.0.1:${port}/collect`, { method: 'POST', body: '"x"', headers: { 'content-type': 'text/plain' } });
      const get = await fetch(`http://127.0.0.1:${port}/collect`);
      expect([ok.status, bad.status, get.status]).toEqual([204, 400, 405]);
      expect(stored).toHaveLength(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
