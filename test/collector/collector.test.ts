import { afterEach, describe, expect, it } from 'vitest';
import type { Lead } from '../../src/collector/leads/lead';
import { KINDS, makeEvent, post, signIn, startCollector, type Running, type TestDatabase } from './helpers';

/** A `qualified` event that adds up under the default rules (view_item 8 × 2, add_to_cart 20 × 2, page_view 1 × 3). */
function plausible(overrides: Parameters<typeof makeEvent>[1] = {}) {
  return makeEvent('qualified', {
    rules: { view_item: { count: 2, points: 16 }, add_to_cart: { count: 2, points: 40 }, page_view: { count: 3, points: 3 } },
    score: 59,
    threshold: 50,
    ...overrides,
  });
}

describe.each(KINDS)('the collector on %s', (_kind, open) => {
  let database: TestDatabase;
  let running: Running | undefined;
  const start = async (file: Record<string, unknown> = {}, env?: Record<string, string>) => {
    database ??= await open();
    running = await startCollector(database, file, env);
    return running;
  };
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await database?.drop();
    database = undefined as unknown as TestDatabase;
  });

  it('stores an event once: 204 after the commit, duplicates 204 and not stored again, the lead classified', async () => {
    const { url } = await start();
    const event = makeEvent('qualified', { attribution: { landing: 'https://shop.example/?gclid=abc&utm_campaign=spring', gclid: 'abc', utm_campaign: 'spring' } });
    const statuses = await Promise.all([post(url, event), post(url, event), post(url, event)].map(async (response) => (await response).status));
    expect(statuses).toEqual([204, 204, 204]);
    expect(await database.sql('SELECT COUNT(*) AS n FROM events')).toEqual([{ n: expect.anything() }]);
    expect(Number((await database.sql('SELECT COUNT(*) AS n FROM events'))[0]!.n)).toBe(1);
    const auth = await signIn(url);
    const { leads } = (await (await fetch(url + '/api/leads', { headers: auth })).json()) as { leads: Lead[] };
    expect(leads).toHaveLength(1);
    expect(leads[0]).toMatchObject({ visitor: event.visitor, stage: 'mql', score: event.score, source: 'paid_search', campaign: 'spring', status: 'new', events: 1 });
  });

  it('folds the journey into one lead: identified, purchased (a customer), a later score', async () => {
    const { url } = await start();
    const qualified = makeEvent('qualified');
    const visitor = qualified.visitor;
    for (const event of [
      qualified,
      makeEvent('identified', { visitor, id: `${visitor}.identified.1`, traits: { email: 'ada@example.com' } }),
      makeEvent('purchased', { visitor, id: `${visitor}.purchased.1001`, score: 90 }),
      makeEvent('score', { visitor, id: `${visitor}.score.3`, score: 95, at: qualified.at + 3_600_000 }),
    ]) {
      expect((await post(url, event)).status).toBe(204);
    }
    const auth = await signIn(url);
    const { leads } = (await (await fetch(url + '/api/leads', { headers: auth })).json()) as { leads: Lead[] };
    expect(leads).toHaveLength(1);
    expect(leads[0]).toMatchObject({ email: 'ada@example.com', status: 'customer', statusBy: 'leadscore', orders: 1, revenue: 48, currency: 'EUR', score: 95, qualifiedScore: qualified.score, events: 4 });
    const detail = (await (await fetch(`${url}/api/leads/${leads[0]!.id}`, { headers: auth })).json()) as { events: { type: string }[] };
    expect(detail.events.map((event) => event.type)).toEqual(['qualified', 'identified', 'purchased', 'score']);
  });

  it('answers 503 when the write fails, and accepts the retry once the database is back', async () => {
    const { url } = await start();
    const event = makeEvent();
    await breakInserts(database, true);
    const failed = await post(url, event);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('5');
    await breakInserts(database, false);
    expect((await post(url, event)).status).toBe(204);
    expect(Number((await database.sql('SELECT COUNT(*) AS n FROM events'))[0]!.n)).toBe(1);
  });

  it('survives the database dropping its connections mid-burst: failed writes answer 503, retries are stored, the process lives on', async () => {
    const { url } = await start();
    const events = Array.from({ length: 200 }, () => makeEvent());
    const burst = Promise.all(events.map((event) => post(url, event).then((response) => response.status)));
    if (database.db.kind === 'postgres') await database.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    const statuses = await burst;
    expect(statuses.every((status) => status === 204 || status === 503)).toBe(true);
    // The clients retry what was not acknowledged.
    for (const [i, event] of events.entries()) {
      if (statuses[i] === 204) continue;
      let status = 0;
      for (let attempt = 0; attempt < 5 && status !== 204; attempt++) status = (await post(url, event)).status;
      expect(status).toBe(204);
    }
    expect(Number((await database.sql('SELECT COUNT(*) AS n FROM events'))[0]!.n)).toBe(200);
    expect((await fetch(url + '/healthz')).status).toBe(200);
  });

  it('keeps what it acknowledged across a restart', async () => {
    const first = await start();
    const events = Array.from({ length: 20 }, () => makeEvent());
    expect((await Promise.all(events.map((event) => post(first.url, event)))).map((r) => r.status)).toEqual(Array(20).fill(204));
    await first.close();
    const second = await startCollector(database);
    running = second;
    const auth = await signIn(second.url);
    const { leads } = (await (await fetch(second.url + '/api/leads?limit=100', { headers: auth })).json()) as { leads: Lead[] };
    expect(leads.map((lead) => lead.visitor).sort()).toEqual(events.map((event) => event.visitor).sort());
  });

  it('remembers every id in the database: a flood of 5 000 new ids never lets an old one through again', async () => {
    const { url } = await start();
    const first = makeEvent();
    expect((await post(url, first)).status).toBe(204);
    const flood = Array.from({ length: 5000 }, () => makeEvent());
    for (let i = 0; i < flood.length; i += 100) await Promise.all(flood.slice(i, i + 100).map((event) => post(url, event)));
    expect((await post(url, first)).status).toBe(204);
    expect(Number((await database.sql(`SELECT COUNT(*) AS n FROM events WHERE id = '${first.id}'`))[0]!.n)).toBe(1);
    expect(Number((await database.sql('SELECT COUNT(*) AS n FROM events'))[0]!.n)).toBe(5001);
  }, 60_000);

  it('rejects what is not an event: 400 with reasons, 413, 415, 405', async () => {
    const { url } = await start();
    const bad = await post(url, { ...makeEvent(), score: 'high' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: string[] }).errors[0]).toMatch(/score/);
    expect((await post(url, 'x'.repeat(70_000))).status).toBe(413);
    expect((await fetch(url + '/collect', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' })).status).toBe(415);
    expect((await fetch(url + '/collect')).status).toBe(405);
  });
});

/** A real failure of the database: a trigger that refuses inserts while switched on. */
async function breakInserts(database: TestDatabase, broken: boolean): Promise<void> {
  if (database.db.kind === 'sqlite') {
    if (broken) await database.sql("CREATE TRIGGER fail_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END");
    else await database.sql('DROP TRIGGER fail_events');
    return;
  }
  if (broken) {
    await database.sql("CREATE OR REPLACE FUNCTION fail_events() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$ LANGUAGE plpgsql");
    await database.sql('CREATE TRIGGER fail_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_events()');
  } else {
    await database.sql('DROP TRIGGER fail_events ON events');
  }
}
