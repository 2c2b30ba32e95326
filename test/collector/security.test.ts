import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Lead } from '../../src/collector/leads/lead';
import { makeEvent, post, signIn, sqliteDatabase, startCollector, type Running, type TestDatabase } from './helpers';

const SITES = [{ id: 'shop.example', origins: ['https://shop.example'] }];

/** Adds up under the default rules (view_item 8 × 2, add_to_cart 20 × 2, page_view 1 × 3). */
const plausible = () =>
  makeEvent('qualified', { rules: { view_item: { count: 2, points: 16 }, add_to_cart: { count: 2, points: 40 }, page_view: { count: 3, points: 3 } }, score: 59, threshold: 50 });

describe('who gets in (embedded database)', () => {
  let database: TestDatabase;
  let running: Running | undefined;
  const start = async (file: Record<string, unknown> = {}, env?: Record<string, string>) => {
    database = await sqliteDatabase();
    running = await startCollector(database, file, env);
    return running;
  };
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await database?.drop();
  });
  const leadsOf = async (url: string): Promise<Lead[]> => ((await (await fetch(url + '/api/leads', { headers: await signIn(url) })).json()) as { leads: Lead[] }).leads;

  it('has no default password: without one the API answers 503 and says how, while /collect works', async () => {
    const { url } = await start({}, {});
    const api = await fetch(url + '/api/leads');
    expect(api.status).toBe(503);
    expect(((await api.json()) as { errors: string[] }).errors[0]).toMatch(/LEADSCORE_ADMIN_PASSWORD/);
    expect((await fetch(url + '/login', { method: 'POST', body: '{}' })).status).toBe(503);
    expect((await post(url, makeEvent())).status).toBe(204);
  });

  it('never hands leads to an unauthenticated request, a wrong password or a wrong token', async () => {
    const { url } = await start({}, { LEADSCORE_ADMIN_PASSWORD: 'correct horse battery', LEADSCORE_API_TOKEN: 'token-0123456789abcdef' });
    await post(url, makeEvent('identified', { traits: { email: 'ada@example.com' } }));
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { cookie: 'leadscore_session=forged' }] as Record<string, string>[]) {
      const response = await fetch(url + '/api/leads', { headers });
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain('ada@example.com');
    }
    expect((await fetch(url + '/api/leads.csv')).status).toBe(401);
    expect((await fetch(url + '/api/stream')).status).toBe(401);
    const wrong = await fetch(url + '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'guess' }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const bearer = await fetch(url + '/api/leads', { headers: { authorization: 'Bearer token-0123456789abcdef' } });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toContain('ada@example.com');
  });

  it('signs in with an HttpOnly, SameSite=Lax cookie, and signs out', async () => {
    const { url } = await start();
    const response = await fetch(url + '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'password=correct+horse+battery' });
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^leadscore_session=[\w-]{40,}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=28800$/);
    const { csrf } = (await response.json()) as { csrf: string };
    const session = { cookie: cookie.split(';')[0]!, 'x-csrf-token': csrf };
    expect((await fetch(url + '/api/session', { headers: session })).status).toBe(200);
    expect((await fetch(url + '/api/session', { method: 'DELETE', headers: session })).status).toBe(200);
    expect((await fetch(url + '/api/session', { headers: session })).status).toBe(401);
  });

  it('limits sign-in attempts', async () => {
    const { url } = await start();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(url + '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"password":"nope"}' })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('refuses a change without the CSRF token (a cross-site form cannot send the header)', async () => {
    const { url } = await start();
    await post(url, makeEvent());
    const auth = await signIn(url);
    const [lead] = await leadsOf(url);
    const forged = await fetch(`${url}/api/leads/${lead!.id}`, { method: 'PATCH', headers: { cookie: auth.cookie!, 'content-type': 'application/json' }, body: '{"status":"spam"}' });
    expect(forged.status).toBe(403);
    const wrong = await fetch(`${url}/api/leads/${lead!.id}`, { method: 'PATCH', headers: { ...auth, 'x-csrf-token': 'x', 'content-type': 'application/json' }, body: '{"status":"spam"}' });
    expect(wrong.status).toBe(403);
    const real = await fetch(`${url}/api/leads/${lead!.id}`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: '{"status":"sql","owner":"Grace","note":"Asked for a quote"}' });
    expect(real.status).toBe(200);
    expect(await real.json()).toMatchObject({ status: 'sql', statusBy: 'admin', owner: 'Grace' });
    const bad = await fetch(`${url}/api/leads/${lead!.id}`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: '{"status":"won"}' });
    expect(bad.status).toBe(400);
  });
});

describe('/collect is open but hard to abuse', () => {
  let database: TestDatabase;
  let running: Running | undefined;
  const start = async (file: Record<string, unknown> = {}) => {
    database = await sqliteDatabase();
    running = await startCollector(database, file);
    return running;
  };
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await database?.drop();
  });
  const count = async (): Promise<number> => Number((await database.sql('SELECT COUNT(*) AS n FROM events'))[0]!.n);

  it('keys the rate limit on the socket: a fresh X-Forwarded-For per request buys nothing', async () => {
    const { url } = await start({ rateLimit: 20 });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await post(url, makeEvent(), { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(statuses.filter((status) => status === 204)).toHaveLength(20);
    expect(statuses.filter((status) => status === 429)).toHaveLength(10);
    expect(await count()).toBe(20);
  });

  it('reads X-Forwarded-For only through trustProxy, from the right', async () => {
    const { url } = await start({ rateLimit: 3, trustProxy: 1 });
    // Behind one proxy, the client is the last address the proxy appended; what the client wrote before it is ignored.
    const as = (client: string, forged = '198.51.100.7') => post(url, makeEvent(), { 'x-forwarded-for': `${forged}, ${client}` });
    const a = await Promise.all([1, 2, 3, 4].map(() => as('192.0.2.1')));
    const b = await Promise.all([1, 2, 3].map((i) => as('192.0.2.2', `10.0.0.${i}`)));
    expect(a.map((response) => response.status)).toEqual([204, 204, 204, 429]);
    expect(b.map((response) => response.status)).toEqual([204, 204, 204]);
  });

  it('accepts only the configured sites from their own origins', async () => {
    const { url } = await start({ sites: SITES });
    expect((await post(url, plausible(), { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(url, { ...plausible(), site: 'other.example' })).status).toBe(403);
    expect((await post(url, plausible())).status).toBe(204);
    const preflight = await fetch(url + '/collect', { method: 'OPTIONS', headers: { origin: 'https://shop.example' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect((await fetch(url + '/collect', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect(await count()).toBe(1);
  });

  it('stores a POST without Origin (no browser sends one) but flags it, and flags scores that do not add up', async () => {
    const { url } = await start({ sites: SITES });
    const noOrigin = await fetch(url + '/collect', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(plausible()) });
    expect(noOrigin.status).toBe(204);
    const inflated = { ...plausible(), score: 500 };
    const unknownRule = { ...plausible(), rules: { ...plausible().rules, vip: { count: 1, points: 0 } } };
    const overCap = { ...plausible(), rules: { ...plausible().rules, add_to_cart: { count: 9, points: 40 } } };
    for (const event of [inflated, unknownRule, overCap]) expect((await post(url, event)).status).toBe(204);
    expect((await post(url, plausible())).status).toBe(204);
    const auth = await signIn(url);
    const { leads } = (await (await fetch(url + '/api/leads', { headers: auth })).json()) as { leads: Lead[] };
    const flagged = leads.filter((lead) => lead.suspicious).flatMap((lead) => lead.flags).sort();
    expect(flagged).toEqual(['no Origin header', 'rule "add_to_cart" counted 9 times, over its cap', 'the rules do not add up to the score', 'unknown rule "vip"'].sort());
    expect(leads.filter((lead) => !lead.suspicious)).toHaveLength(1);
    const shown = (await (await fetch(url + '/api/leads?hideFlagged=true', { headers: auth })).json()) as { leads: Lead[] };
    expect(shown.leads).toHaveLength(1);
  });

  it('caps new leads per site per minute', async () => {
    const { url } = await start({ sites: [{ ...SITES[0], quota: 3 }] });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(url, plausible())).status);
    expect(statuses).toEqual([204, 204, 204, 429, 429]);
  });

  it('keeps memory flat with slow live clients: a client that does not read is dropped; the cap answers 503', async () => {
    const { url } = await start({ maxStreams: 5 });
    const auth = await signIn(url);
    const { hostname, port } = new URL(url);
    // Five clients that never read their socket.
    const sockets = await Promise.all(
      Array.from({ length: 5 }, () => new Promise<import('node:http').ClientRequest>((resolve) => {
        const request = httpRequest({ hostname, port, path: '/api/stream', headers: { cookie: auth.cookie } }, (response) => {
          response.pause();
          resolve(request);
        });
        request.end();
      })),
    );
    expect(running!.streams.size).toBe(5);
    expect((await fetch(url + '/api/stream', { headers: auth })).status).toBe(503);
    const heapBefore = process.memoryUsage().heapUsed;
    // Each event is published to every stream; unread streams fill up and are dropped.
    const big = { traits: { note: 'x'.repeat(900) } };
    for (let i = 0; i < 400; i++) running!.streams.publish('lead', { i, ...big });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(running!.streams.size).toBe(0);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20 * 1024 * 1024);
    for (const socket of sockets) socket.destroy();
  });
});

describe('scripts, health and many live connections (embedded database)', () => {
  let database: TestDatabase;
  let running: Running | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await database?.drop();
  });

  it('serves the scripts first-party: content type, ETag, 304, a year for a versioned URL, the site\'s options', async () => {
    database = await sqliteDatabase();
    running = await startCollector(database, { sites: [{ id: 'mugs', origins: ['https://mugs.example'], stages: 'mql:40,hot:90' }] });
    const { url } = running;
    const first = await fetch(url + '/s/leadscore.js');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('public, max-age=0, must-revalidate');
    const etag = first.headers.get('etag')!;
    expect(await first.text()).toBe(readFileSync('dist/leadscore.js', 'utf8'));
    expect((await fetch(url + '/s/leadscore.js', { headers: { 'if-none-match': etag } })).status).toBe(304);
    const versioned = await fetch(`${url}/s/leadscore.js?v=${etag.slice(1, -1)}`);
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const site = await (await fetch(url + '/s/leadscore.lite.js?site=mugs')).text();
    expect(site.startsWith(`window.leadscore=window.leadscore||function(){(leadscore.q=leadscore.q||[]).push(arguments)};leadscore('init',{"site":"mugs","stages":"mql:40,hot:90"});`)).toBe(true);
    expect((await fetch(url + '/s/leadscore.js?site=nope')).status).toBe(404);
    expect((await fetch(url + '/s/other.js')).status).toBe(404);
    expect((await fetch(url + '/s/../package.json')).status).toBe(404);
  });

  it('answers /healthz with the database', async () => {
    database = await sqliteDatabase();
    running = await startCollector(database);
    expect(await (await fetch(running.url + '/healthz')).json()).toEqual({ ok: true, database: 'sqlite' });
  });

  it('holds 2 000 live connection attempts: the cap is served, the rest get 503, memory stays flat', async () => {
    database = await sqliteDatabase();
    running = await startCollector(database, { maxStreams: 100 });
    const auth = await signIn(running.url);
    const { hostname, port } = new URL(running.url);
    const heapBefore = process.memoryUsage().heapUsed;
    const agent = new Agent({ maxSockets: 2000 });
    const statuses = await Promise.all(
      Array.from({ length: 2000 }, () => new Promise<number>((resolve) => {
        const request = httpRequest({ hostname, port, path: '/api/stream', headers: { cookie: auth.cookie }, agent }, (response) => {
          resolve(response.statusCode ?? 0);
          if (response.statusCode !== 200) response.resume();
        });
        request.on('error', () => resolve(0));
        request.end();
      })),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(100);
    expect(statuses.filter((status) => status === 503)).toHaveLength(1900);
    expect(running.streams.size).toBe(100);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    agent.destroy();
  }, 60_000);
});
