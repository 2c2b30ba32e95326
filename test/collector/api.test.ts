import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lead } from '../../src/collector/leads/lead';
import { KINDS, makeEvent, post, signIn, startCollector, type Running, type TestDatabase } from './helpers';

const DAY = 86_400_000;

describe.each(KINDS)('the leads API on %s', (_kind, open) => {
  let database: TestDatabase;
  let running: Running;
  let auth: Record<string, string>;
  const T0 = Date.UTC(2026, 10, 1);
  const get = async (query: string): Promise<{ leads: Lead[]; next?: string }> => {
    const response = await fetch(`${running.url}/api/leads?${query}`, { headers: auth });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as { leads: Lead[]; next?: string };
  };

  beforeAll(async () => {
    database = await open();
    running = await startCollector(database);
    // 60 leads on two sites: every third identified, sources varied, spread over 60 days.
    const events = Array.from({ length: 60 }, (_, i) =>
      makeEvent(i % 3 === 0 ? 'identified' : 'qualified', {
        site: i % 2 ? 'b.example' : 'a.example',
        score: 50 + i,
        at: T0 + i * DAY,
        qualifiedAt: T0 + i * DAY,
        traits: i % 3 === 0 ? { email: i === 0 ? '=HYPERLINK("http://evil.example")@x.io' : `lead${i}@example.com` } : {},
        attribution: i % 4 === 0 ? { landing: 'https://a.example/?gclid=1', gclid: '1' } : i % 4 === 1 ? { landing: 'https://a.example/', referrer: 'https://www.google.com' } : { landing: 'https://a.example/' },
        interest: { items: [{ item_id: `P${i}`, name: i === 7 ? 'Blue Teapot' : `Mug ${i}`, views: 1, adds: 0, in_cart: false }], categories: [], searches: 0 },
      }),
    );
    // Identified events need their id shape.
    for (const event of events) if (event.type === 'identified') event.id = `${event.visitor}.identified.1`;
    for (let i = 0; i < events.length; i += 20) expect((await Promise.all(events.slice(i, i + 20).map((event) => post(running.url, event)))).every((r) => r.status === 204)).toBe(true);
    auth = await signIn(running.url);
  });
  afterAll(async () => {
    await running?.close();
    await database?.drop();
  });

  it('filters by site, source, identity, date range and text', async () => {
    expect((await get('site=a.example&limit=500')).leads).toHaveLength(30);
    expect((await get('source=paid_search&limit=500')).leads).toHaveLength(15);
    expect((await get('source=organic_search&limit=500')).leads).toHaveLength(15);
    expect((await get('identified=true&limit=500')).leads).toHaveLength(20);
    expect((await get(`from=${T0 + 10 * DAY}&to=${T0 + 19 * DAY}&limit=500`)).leads).toHaveLength(10);
    expect((await get('q=teapot')).leads.map((lead) => lead.interest.items[0]!.name)).toEqual(['Blue Teapot']);
    expect((await get('q=lead9%40example')).leads.map((lead) => lead.email)).toEqual(['lead9@example.com']);
    expect((await get('q=%25')).leads).toEqual([]);
  });

  it('sorts on a column and pages with a cursor: every lead once, in order', async () => {
    const seen: Lead[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page++) {
      const result = await get(`sort=score&order=asc&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...result.leads);
      if (!result.next) break;
      cursor = result.next;
    }
    expect(seen).toHaveLength(60);
    expect(seen.map((lead) => lead.score)).toEqual([...seen.map((lead) => lead.score)].sort((a, b) => a - b));
    expect(new Set(seen.map((lead) => lead.id)).size).toBe(60);
    const newest = await get('limit=3');
    expect(newest.leads.map((lead) => lead.score)).toEqual([109, 108, 107]);
  });

  it('sorts by what they want (the cart value)', async () => {
    const byCart = await get('sort=cartValue&order=desc&limit=3');
    expect(byCart.leads.map((lead) => lead.interest.cart?.value ?? 0)).toEqual([...byCart.leads.map((lead) => lead.interest.cart?.value ?? 0)].sort((a, b) => b - a));
  });

  it('explains bad queries with 400', async () => {
    for (const query of ['status=won', 'source=tv', 'from=yesterday', `q=${'x'.repeat(300)}`]) {
      const response = await fetch(`${running.url}/api/leads?${query}`, { headers: auth });
      expect(response.status).toBe(400);
    }
  });

  it('exports exactly what is filtered as CSV, with no cell a spreadsheet would run', async () => {
    const response = await fetch(`${running.url}/api/leads.csv?identified=true`, { headers: auth });
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await response.text()).trim().split('\n');
    expect(lines[0]).toBe('id,visitor,site,email,stage,score,score_at_qualification,status,owner,source,campaign,top_product,cart_value,flagged,first_seen,qualified_at,last_seen');
    expect(lines).toHaveLength(21);
    expect(lines.some((line) => line.includes(`"'=HYPERLINK(""http://evil.example"")@x.io"`))).toBe(true);
    expect(lines.filter((line) => /,=|^=/.test(line))).toEqual([]);
  });

  it('counts for the overview: per day, status, source and score band, under the same filters', async () => {
    const response = await fetch(`${running.url}/api/stats`, { headers: auth });
    const stats = (await response.json()) as { total: number; identified: number; byDay: { day: number; count: number }[]; bySource: Record<string, number>; byScore: { band: number; count: number }[]; byStatus: Record<string, number> };
    expect(stats.total).toBe(60);
    expect(stats.identified).toBe(20);
    expect(stats.byDay).toHaveLength(60);
    expect(stats.byDay[0]).toEqual({ day: T0 / DAY, count: 1 });
    expect(stats.bySource).toEqual({ paid_search: 15, organic_search: 15, direct: 30 });
    expect(stats.byStatus).toEqual({ new: 60 });
    expect((stats as unknown as { sites: string[]; stages: string[] }).sites).toEqual(['a.example', 'b.example']);
    expect((stats as unknown as { sites: string[]; stages: string[] }).stages).toEqual(['mql']);
    // Scores 50..109: five bands of ten, 100 and over in the last.
    expect(stats.byScore).toEqual([5, 6, 7, 8, 9, 10].map((band) => ({ band, count: 10 })).map((entry) => (entry.band === 10 ? { band: 10, count: 10 } : entry)));
    const site = (await (await fetch(`${running.url}/api/stats?site=a.example`, { headers: auth })).json()) as { total: number };
    expect(site.total).toBe(30);
  });

  it('gives a lead with its events, history and the half-life that explains its decay', async () => {
    const { leads } = await get('limit=1');
    const detail = (await (await fetch(`${running.url}/api/leads/${leads[0]!.id}`, { headers: auth })).json()) as { lead: Lead; events: unknown[]; halfLifeDays: number };
    expect(detail.lead.id).toBe(leads[0]!.id);
    expect(detail.events).toHaveLength(1);
    expect(detail.halfLifeDays).toBe(14);
  });

  it('answers 404 for a lead that does not exist', async () => {
    expect((await fetch(`${running.url}/api/leads/nope`, { headers: auth })).status).toBe(404);
  });
});
