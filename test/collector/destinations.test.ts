import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { uuidFrom } from '../../src/collector/destinations/senders';
import { leadIdOf } from '../../src/collector/leads/lead';
import { delivered, HUBSPOT_TOKEN, KLAVIYO_KEY, startFake, type Fake } from './fakes';
import { KINDS, makeEvent, post, postgresDatabase, signIn, skipPostgres, sqliteDatabase, startCollector, type Running, type TestDatabase } from './helpers';

const SECRET = 'whsec_' + Buffer.from('destinations-test-secret-bytes').toString('base64');
const ENV = {
  LEADSCORE_ADMIN_PASSWORD: 'correct horse battery',
  HOOK_SECRET: SECRET,
  HUBSPOT_TOKEN,
  KLAVIYO_KEY,
};

/** A clock the test moves: retries and Retry-After run in simulated time. */
function clock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('destinations: every lead reaches the tools the team uses, exactly once', () => {
  const fakes: Fake[] = [];
  const runnings: Running[] = [];
  const databases: TestDatabase[] = [];
  afterEach(async () => {
    for (const running of runnings.splice(0)) await running.close().catch(() => undefined);
    for (const fake of fakes.splice(0)) await fake.close();
    for (const database of databases.splice(0)) await database.drop();
  });
  async function fake(kind: Fake['kind']): Promise<Fake> {
    const started = await startFake(kind);
    fakes.push(started);
    return started;
  }
  async function collector(open: () => Promise<TestDatabase>, destinations: unknown[], extra: Parameters<typeof startCollector>[3] = {}, env: Record<string, string> = {}): Promise<Running> {
    const database = await open();
    databases.push(database);
    const running = await startCollector(database, { destinations, publicUrl: 'https://leads.example.com' }, { ...ENV, ...env }, { deliver: false, ...extra });
    runnings.push(running);
    return running;
  }

  describe.each(KINDS)('on %s', (_kind, open) => {
    it('sends each event with its exact body; CRM and email tools wait for the email, then get the whole story in order', async () => {
      const [webhook, slack, hubspot, klaviyo] = await Promise.all([fake('webhook'), fake('slack'), fake('hubspot'), fake('klaviyo')]);
      const running = await collector(
        open,
        [
          { type: 'webhook', url: webhook.url + '/hook', secret: 'env:HOOK_SECRET' },
          { type: 'slack', url: 'env:SLACK_URL' },
          { type: 'hubspot', token: 'env:HUBSPOT_TOKEN', baseUrl: hubspot.url, eventName: 'pe4242_leadscore_lead_event' },
          { type: 'klaviyo', apiKey: 'env:KLAVIYO_KEY', baseUrl: klaviyo.url },
        ],
        {},
        { SLACK_URL: slack.url + '/services/T/B/x' },
      );
      const visitor = `visitor-story-${_kind}`;
      expect((await post(running.url, makeEvent('qualified', { visitor }))).status).toBe(204);
      expect(await running.dispatcher.drain()).toBe(2);
      // The anonymous lead: the webhook and Slack hear it now; HubSpot and Klaviyo need an email.
      expect(delivered(webhook)).toHaveLength(1);
      expect(delivered(slack)).toHaveLength(1);
      expect(hubspot.received).toHaveLength(0);
      expect(klaviyo.received).toHaveLength(0);
      const [hook] = webhook.received;
      expect(new Webhook(SECRET).verify(hook!.body, hook!.headers)).toMatchObject({ type: 'lead.qualified', email: null });
      expect(hook!.headers['webhook-id']).toBe(`${visitor}.mql.1`);
      expect(hook!.json).toMatchObject({ schema: 'leadscore.webhook.v1', id: `${visitor}.mql.1`, site: 'shop.example', visitor_id: visitor, stage: 'mql', score: 52.9, top_product: 'Blue mug', cart_value: 24, currency: 'EUR', source: 'direct', test: false });
      expect(hook!.json.lead_url).toMatch(/^https:\/\/leads\.example\.com\/dashboard#\/lead\//);
      // The whole body, field by field (schema leadscore.webhook.v1).
      const leadId = hook!.json.lead_id;
      expect(hook!.json).toEqual({
        schema: 'leadscore.webhook.v1',
        type: 'lead.qualified',
        id: `${visitor}.mql.1`,
        timestamp: new Date(1767484800000).toISOString(),
        test: false,
        lead_id: leadId,
        lead_url: `https://leads.example.com/dashboard#/lead/${leadId}`,
        site: 'shop.example',
        visitor_id: visitor,
        email: null,
        name: null,
        stage: 'mql',
        score: 52.9,
        qualified_score: 52.86,
        qualified_at: new Date(1767484800000).toISOString(),
        status: 'new',
        owner: null,
        why: 'Came back once, viewed a product in Mugs and has €24.00 in the cart. Searched the store once. Came from a direct visit. Points halve every 14 days, so the score falls unless the visitor comes back.',
        source: 'direct',
        campaign: null,
        source_detail: null,
        landing_page: 'https://shop.example/',
        referrer: null,
        click_id: null,
        top_product: 'Blue mug',
        top_product_price: 24,
        top_category: 'Mugs',
        products: 'Blue mug',
        cart_value: 24,
        currency: 'EUR',
        visits: 2,
        first_seen: new Date(1767225600000).toISOString(),
        last_seen: hook!.json.last_seen,
        flagged: false,
        order_id: null,
        order_value: null,
        status_from: null,
        status_to: null,
        changed_by: null,
      });
      expect(slack.received[0]!.json.text).toMatch(new RegExp(`^New qualified lead: Anonymous visitor ${visitor.slice(0, 8)}, score 52\\.9 \\(mql\\)\\..*Wants: Blue mug, cart 24 EUR\\. Source: direct\\. https://leads\\.example\\.com/dashboard#/lead/`));

      expect((await post(running.url, makeEvent('identified', { visitor }))).status).toBe(204);
      expect(await running.dispatcher.drain()).toBe(5);
      expect(delivered(webhook).map((r) => r.json.type)).toEqual(['lead.qualified', 'lead.identified']);
      expect(delivered(slack)).toHaveLength(1);
      // Both held events, in order, with the email given later.
      expect(klaviyo.received.map((r) => r.json.data.attributes.metric.data.attributes.name)).toEqual(['Qualified Lead', 'Identified Lead']);
      expect(klaviyo.received.map((r) => r.json.data.attributes.unique_id)).toEqual([`${visitor}.mql.1`, `${visitor}.identified.1`]);
      expect(klaviyo.received[0]!.json.data.attributes).toMatchObject({ value: 24, value_currency: 'EUR', profile: { data: { type: 'profile', attributes: { email: 'ada@example.com' } } } });
      expect(klaviyo.received[0]!.headers).toMatchObject({ authorization: `Klaviyo-API-Key ${KLAVIYO_KEY}`, revision: '2026-10-15', 'content-type': 'application/vnd.api+json' });
      expect(hubspot.received.map((r) => r.path)).toEqual(['/crm/v3/objects/contacts/batch/upsert', '/events/v3/send', '/crm/v3/objects/contacts/batch/upsert', '/events/v3/send']);
      expect(hubspot.received[0]!.json.inputs[0]).toMatchObject({ id: 'ada@example.com', idProperty: 'email', properties: { email: 'ada@example.com', leadscore_score: '52.9', leadscore_stage: 'mql', leadscore_source: 'direct' } });
      expect(hubspot.received[1]!.json).toMatchObject({ eventName: 'pe4242_leadscore_lead_event', email: 'ada@example.com', uuid: uuidFrom(`${visitor}.mql.1`) });

      // The lead page shows each destination's delivery.
      const headers = await signIn(running.url);
      const lead = (await (await fetch(`${running.url}/api/leads?q=${visitor}`, { headers })).json()).leads[0];
      const detail = await (await fetch(`${running.url}/api/leads/${lead.id}`, { headers })).json();
      expect(detail.deliveries.map((d: { destination: string; state: string }) => `${d.destination}:${d.state}`).sort()).toEqual(['hubspot:done', 'hubspot:done', 'klaviyo:done', 'klaviyo:done', 'slack:done', 'webhook:done', 'webhook:done']);
      // Nothing is sent twice.
      expect(await running.dispatcher.drain()).toBe(0);
    });

    it('retries 5xx, timeouts and 429 (honouring Retry-After) with the same idempotency key; a refusal is final, listed, and sent again on request', async () => {
      const time = clock();
      const [webhook, klaviyo, slack] = await Promise.all([fake('webhook'), fake('klaviyo'), fake('slack')]);
      webhook.script.push(500, 'hang');
      klaviyo.script.push(401);
      slack.script.push('429:120');
      const running = await collector(
        open,
        [
          { type: 'webhook', url: webhook.url, secret: 'env:HOOK_SECRET', timeoutMs: 300 },
          { type: 'klaviyo', apiKey: 'env:KLAVIYO_KEY', baseUrl: klaviyo.url },
          { type: 'slack', url: 'env:SLACK_URL' },
        ],
        { now: time.now, random: () => 1 },
        { SLACK_URL: slack.url },
      );
      const visitor = `visitor-retry-${_kind}`;
      await post(running.url, makeEvent('identified', { visitor, id: `${visitor}.identified.1` }));
      await running.dispatcher.drain();
      expect(webhook.received.map((r) => r.status)).toEqual([500]);
      expect(klaviyo.received.map((r) => r.status)).toEqual([401]);
      expect(slack.received.map((r) => r.status)).toEqual([]);
      time.advance(10_000); // the first backoff: 10 s
      await running.dispatcher.drain();
      expect(webhook.received.map((r) => r.status)).toEqual([500, 0]); // no answer within 300 ms
      time.advance(20_000);
      await running.dispatcher.drain();
      expect(webhook.received.map((r) => r.status)).toEqual([500, 0, 200]);
      expect(new Set(webhook.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([`${visitor}.identified.1`]));

      // Slack (a qualified lead only): 429 with Retry-After 120 pauses it for 120 s.
      await post(running.url, makeEvent('qualified', { visitor }));
      await running.dispatcher.drain();
      expect(slack.received.map((r) => r.status)).toEqual([429]);
      time.advance(60_000);
      await running.dispatcher.drain();
      expect(slack.received).toHaveLength(1);
      time.advance(61_000);
      await running.dispatcher.drain();
      expect(slack.received.map((r) => r.status)).toEqual([429, 200]);

      // Klaviyo's 401 is final: dead, listed with its answer, and "send again" delivers it.
      const headers = await signIn(running.url);
      const dead = (await (await fetch(`${running.url}/api/deliveries?state=dead`, { headers })).json()).deliveries;
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ destination: 'klaviyo', state: 'dead', attempts: 1, lastStatus: 401, type: 'lead.identified' });
      expect(dead[0].lastResponse).toMatch(/scripted 401/);
      expect((await fetch(`${running.url}/api/deliveries/${dead[0].seq}/retry`, { method: 'POST', headers: { cookie: headers.cookie! } })).status).toBe(403);
      expect((await fetch(`${running.url}/api/deliveries/${dead[0].seq}/retry`, { method: 'POST', headers })).status).toBe(200);
      expect((await fetch(`${running.url}/api/deliveries/${dead[0].seq}/retry`, { method: 'POST', headers })).status).toBe(409);
      await running.dispatcher.drain();
      expect(klaviyo.received.map((r) => r.status)).toEqual([401, 202, 202]);
      // The qualified event went meanwhile (a dead job does not block the lead's next ones); then the one sent again.
      expect(klaviyo.received.map((r) => r.json.data.attributes.unique_id)).toEqual([`${visitor}.identified.1`, `${visitor}.mql.1`, `${visitor}.identified.1`]);
      const counts = (await (await fetch(`${running.url}/api/destinations`, { headers })).json()).destinations;
      expect(counts.map((d: { name: string; counts: object }) => [d.name, d.counts])).toEqual([
        ['webhook', { done: 2 }],
        ['klaviyo', { done: 2 }],
        ['slack', { done: 1 }],
      ]);
    });

    it('a damaged stored lead fails its jobs with the reason, is left out of lists, and is rebuilt by its next event', async () => {
      const webhook = await fake('webhook');
      const database = await open();
      databases.push(database);
      const running = await startCollector(database, { destinations: [{ type: 'webhook', url: webhook.url }] }, ENV, { deliver: false });
      runnings.push(running);
      await post(running.url, makeEvent('qualified', { visitor: `visitor-damaged-${_kind}` }));
      await post(running.url, makeEvent('qualified', { visitor: `visitor-fine-${_kind}` }));
      await post(running.url, makeEvent('qualified', { visitor: `visitor-odd-${_kind}` }));
      await database.sql(`UPDATE leads SET data = 'not json' WHERE visitor = 'visitor-damaged-${_kind}'`);
      await database.sql(`UPDATE leads SET data = '{"id":"x"}' WHERE visitor = 'visitor-odd-${_kind}'`);
      await running.dispatcher.drain();
      expect(delivered(webhook).map((r) => r.json.visitor_id)).toEqual([`visitor-fine-${_kind}`]);
      const headers = await signIn(running.url);
      const dead = (await (await fetch(`${running.url}/api/deliveries?state=dead`, { headers })).json()).deliveries;
      expect(dead.map((d: { lastError: string }) => d.lastError)).toEqual(['the lead is missing or damaged in the database', 'the lead is missing or damaged in the database']);
      // The list leaves damaged leads out; their page is 404; the next event rebuilds the lead.
      const list = (await (await fetch(`${running.url}/api/leads`, { headers })).json()).leads;
      expect(list.map((lead: { visitor: string }) => lead.visitor)).toEqual([`visitor-fine-${_kind}`]);
      const damagedId = leadIdOf('shop.example', `visitor-damaged-${_kind}`);
      expect(dead.map((d: { leadId: string }) => d.leadId)).toContain(damagedId);
      expect((await fetch(`${running.url}/api/leads/${damagedId}`, { headers })).status).toBe(404);
      expect((await fetch(`${running.url}/api/leads/${damagedId}`, { method: 'PATCH', headers: { ...headers, 'content-type': 'application/json' }, body: '{"status":"working"}' })).status).toBe(404);
      expect((await post(running.url, makeEvent('score', { visitor: `visitor-damaged-${_kind}`, id: `visitor-damaged-${_kind}.score.5` }))).status).toBe(204);
      expect((await fetch(`${running.url}/api/leads/${damagedId}`, { headers })).status).toBe(200);
    });

    it('a destination down for an hour (simulated) gets everything when it comes back, in order per lead, once', async () => {
      const time = clock();
      const webhook = await fake('webhook');
      const running = await collector(open, [{ type: 'webhook', url: webhook.url, secret: 'env:HOOK_SECRET' }], { now: time.now, random: () => 0.5 });
      const sent: string[] = [];
      for (let lead = 0; lead < 3; lead++) {
        const visitor = `visitor-down-${_kind}-${lead}`;
        for (const [type, key] of [['qualified', 'mql.1'], ['identified', 'identified.1'], ['score', 'score.2'], ['purchased', 'purchased.1001']] as const) {
          const event = makeEvent(type, { visitor, id: `${visitor}.${key}` });
          expect((await post(running.url, event)).status).toBe(204);
          sent.push(event.id);
        }
      }
      webhook.script.push(...Array.from({ length: 200 }, () => 503));
      const back = time.now() + 3_600_000;
      for (let minute = 0; minute <= 90; minute++) {
        if (time.now() >= back) webhook.script.length = 0;
        await running.dispatcher.drain();
        time.advance(60_000);
      }
      const ok = delivered(webhook);
      expect(ok.map((r) => r.headers['webhook-id']).sort()).toEqual([...sent].sort());
      for (let lead = 0; lead < 3; lead++) {
        const order = ok.filter((r) => r.json.visitor_id === `visitor-down-${_kind}-${lead}`).map((r) => r.json.type);
        expect(order).toEqual(['lead.qualified', 'lead.identified', 'lead.score', 'lead.purchased']);
      }
      expect(webhook.received.filter((r) => r.status === 503).length).toBeGreaterThan(12);
    });
  });

  it('a wrong key is refused by the service (401) and shown as failed with its answer; nothing is retried', async () => {
    const [hubspot, klaviyo] = await Promise.all([fake('hubspot'), fake('klaviyo')]);
    const running = await collector(sqliteDatabase, [
      { type: 'hubspot', token: 'env:WRONG_TOKEN', baseUrl: hubspot.url },
      { type: 'klaviyo', apiKey: 'env:WRONG_KEY', baseUrl: klaviyo.url },
    ], {}, { WRONG_TOKEN: 'pat-na1-revoked', WRONG_KEY: 'pk_revoked' });
    await post(running.url, makeEvent('identified', { visitor: 'visitor-wrong-key' }));
    await running.dispatcher.drain();
    await running.dispatcher.drain();
    expect(hubspot.received.map((r) => r.status)).toEqual([401]);
    expect(klaviyo.received.map((r) => r.status)).toEqual([401]);
    const headers = await signIn(running.url);
    const dead = (await (await fetch(`${running.url}/api/deliveries?state=dead`, { headers })).json()).deliveries;
    expect(dead.map((d: { destination: string; lastStatus: number }) => [d.destination, d.lastStatus]).sort()).toEqual([['hubspot', 401], ['klaviyo', 401]]);
    expect(dead.find((d: { destination: string }) => d.destination === 'hubspot').lastResponse).toMatch(/INVALID_AUTHENTICATION/);
  });

  it('never forwards a flagged lead by default; a status change from the dashboard is an event; spam stops the rest', async () => {
    const webhook = await fake('webhook');
    const open = await fake('webhook');
    const running = await collector(sqliteDatabase, [
      { type: 'webhook', url: webhook.url, secret: 'env:HOOK_SECRET' },
      { type: 'webhook', name: 'audit', url: open.url, flagged: true, events: ['lead.qualified'] },
    ]);
    // No Origin: stored, flagged suspicious, not forwarded (except where configured).
    await post(running.url, makeEvent('qualified', { visitor: 'visitor-flagged' }), { origin: '' });
    await running.dispatcher.drain();
    expect(webhook.received).toHaveLength(0);
    expect(open.received).toHaveLength(1);

    await post(running.url, makeEvent('qualified', { visitor: 'visitor-status' }));
    await running.dispatcher.drain();
    const headers = await signIn(running.url);
    const lead = (await (await fetch(`${running.url}/api/leads?q=visitor-status`, { headers })).json()).leads[0];
    const patch = (body: object) => fetch(`${running.url}/api/leads/${lead.id}`, { method: 'PATCH', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await patch({ status: 'working' })).status).toBe(200);
    expect((await patch({ owner: 'Grace' })).status).toBe(200); // not a status change: no event
    await running.dispatcher.drain();
    expect(webhook.received.map((r) => r.json.type)).toEqual(['lead.qualified', 'lead.status_changed']);
    expect(webhook.received[1]!.json).toMatchObject({ status_from: 'new', status_to: 'working', changed_by: 'admin', status: 'working' });
    await patch({ status: 'spam' });
    await post(running.url, makeEvent('score', { visitor: 'visitor-status', id: 'visitor-status.score.9' }));
    await running.dispatcher.drain();
    expect(webhook.received.map((r) => r.json.type)).toEqual(['lead.qualified', 'lead.status_changed', 'lead.status_changed']);
    const skipped = (await (await fetch(`${running.url}/api/deliveries?state=skipped`, { headers })).json()).deliveries;
    expect(skipped).toMatchObject([{ type: 'lead.score', lastError: 'the lead is marked spam' }]);
  });

  it('"send a test event" reaches the destination now, marked test, behind sign-in and CSRF', async () => {
    const [webhook, slack] = await Promise.all([fake('webhook'), fake('slack')]);
    const running = await collector(sqliteDatabase, [
      { type: 'webhook', url: webhook.url, secret: 'env:HOOK_SECRET' },
      { type: 'slack', url: 'env:SLACK_URL' },
    ], {}, { SLACK_URL: slack.url });
    expect((await fetch(`${running.url}/api/destinations/webhook/test`, { method: 'POST' })).status).toBe(401);
    const headers = await signIn(running.url);
    expect((await fetch(`${running.url}/api/destinations/webhook/test`, { method: 'POST', headers: { cookie: headers.cookie! } })).status).toBe(403);
    const result = await (await fetch(`${running.url}/api/destinations/webhook/test`, { method: 'POST', headers })).json();
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(webhook.received[0]!.json).toMatchObject({ test: true, email: 'leadscore-test@example.com', type: 'lead.qualified' });
    expect(new Webhook(SECRET).verify(webhook.received[0]!.body, webhook.received[0]!.headers)).toBeTruthy();
    const slackTest = await (await fetch(`${running.url}/api/destinations/slack/test`, { method: 'POST', headers })).json();
    expect(slackTest).toMatchObject({ ok: true, status: 200 });
    expect(slack.received[0]!.json.text).toMatch(/^\[test\] New qualified lead: leadscore-test@example\.com, score 52 \(mql\)\./);
    expect((await fetch(`${running.url}/api/destinations/nope/test`, { method: 'POST', headers })).status).toBe(404);
    // The test is not part of the outbox.
    expect((await (await fetch(`${running.url}/api/deliveries`, { headers })).json()).deliveries).toEqual([]);
  });

  it('one slow destination never delays another (the real delivery loop)', async () => {
    const [slow, fast] = await Promise.all([fake('webhook'), fake('webhook')]);
    slow.delayMs = 1500;
    const running = await collector(sqliteDatabase, [
      { type: 'webhook', name: 'slow', url: slow.url, concurrency: 1 },
      { type: 'webhook', name: 'fast', url: fast.url },
    ], { deliver: true, pollMs: 50 });
    for (let i = 0; i < 6; i++) await post(running.url, makeEvent('qualified', { visitor: `visitor-lanes-${i}` }));
    const until = Date.now() + 10_000;
    while (delivered(fast).length < 6 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(delivered(fast)).toHaveLength(6);
    // The slow one, one at a time, has not got through them yet.
    expect(slow.received.length).toBeLessThan(6);
  });

  it.skipIf(skipPostgres)('two instances on one PostgreSQL: each job is attempted by one instance at a time, and all are delivered once', async () => {
    const webhook = await fake('webhook');
    webhook.delayMs = 5;
    const database = await postgresDatabase();
    databases.push(database);
    const destinations = [{ type: 'webhook', url: webhook.url, secret: 'env:HOOK_SECRET', concurrency: 8, ratePerSecond: 1000 }];
    const [a, b] = await Promise.all([0, 1].map(() => startCollector(database, { destinations }, ENV, { deliver: true, pollMs: 20 })));
    runnings.push(a!, b!);
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const event = makeEvent('qualified', { visitor: `visitor-pair-${i}` });
        ids.push(event.id);
        expect((await post((i % 2 ? a : b)!.url, event)).status).toBe(204);
      }),
    );
    const until = Date.now() + 30_000;
    while (delivered(webhook).length < 300 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(webhook.maxConcurrentPerKey).toBe(1);
    expect(webhook.received.map((r) => r.headers['webhook-id']).sort()).toEqual(ids.sort());
    // Outcomes are recorded just after the answer: wait for the last few.
    const done = async () => Number((await database.sql("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'done'"))[0]!.n);
    while ((await done()) < 300 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await done()).toBe(300);
    expect((await database.sql('SELECT COUNT(DISTINCT locked_by) AS n FROM deliveries'))[0]!.n).toBe('0');
  }, 60_000);
});
