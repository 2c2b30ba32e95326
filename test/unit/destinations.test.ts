import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { parseCollectorConfig } from '../../src/collector/config';
import { parseDestinations, toRoute, type Destination, type HubspotDestination, type KlaviyoDestination, type WebhookDestination } from '../../src/collector/destinations/config';
import { buildPayload, sampleLead } from '../../src/collector/destinations/payload';
import { planJobs } from '../../src/collector/destinations/plan';
import { backoffMs, judge, nextAttempt, parseRetryAfter, refill, untilToken } from '../../src/collector/destinations/retry';
import { hubspotRequests, klaviyoRequest, signWebhook, slackMessage, uuidFrom, webhookRequest } from '../../src/collector/destinations/senders';

const SECRET = 'whsec_' + Buffer.from('a-test-secret-of-24-bytes').toString('base64');
const OTHER = 'whsec_' + Buffer.from('the-next-secret-24-bytes!').toString('base64');
const env = { HOOK_SECRET: SECRET, NEXT_SECRET: OTHER, SLACK_URL: 'https://hooks.slack.com/services/T/B/x', HUBSPOT_TOKEN: 'pat-na1-abc', KLAVIYO_KEY: 'pk_abc' };
const NOW = 1_800_000_000_000;

function parse(list: unknown[]): Destination[] {
  const { destinations, problems } = parseDestinations(list, env);
  expect(problems).toEqual([]);
  return destinations;
}

describe('destinations config', () => {
  it('reads the issue\'s example with secrets from the environment and per-type defaults', () => {
    const [webhook, slack, hubspot, klaviyo] = parse([
      { type: 'webhook', url: 'https://hooks.example.com/leads', secret: 'env:HOOK_SECRET', events: ['lead.qualified', 'lead.identified'], anonymous: true },
      { type: 'slack', url: 'env:SLACK_URL' },
      { type: 'hubspot', token: 'env:HUBSPOT_TOKEN' },
      { type: 'klaviyo', apiKey: 'env:KLAVIYO_KEY' },
    ]);
    expect(webhook).toMatchObject({ name: 'webhook', url: 'https://hooks.example.com/leads', secrets: [SECRET], events: ['lead.qualified', 'lead.identified'], anonymous: true, flagged: false });
    expect(slack).toMatchObject({ name: 'slack', url: env.SLACK_URL, events: ['lead.qualified'], concurrency: 1, ratePerSecond: 1, anonymous: true });
    expect(hubspot).toMatchObject({ name: 'hubspot', token: 'pat-na1-abc', anonymous: false, eventName: null, baseUrl: 'https://api.hubapi.com' });
    expect(klaviyo).toMatchObject({ name: 'klaviyo', apiKey: 'pk_abc', anonymous: false, revision: '2026-10-15', baseUrl: 'https://a.klaviyo.com' });
    expect(klaviyo!.retry).toEqual({ maxAttempts: 12, maxHours: 24, baseDelaySeconds: 10, maxDelaySeconds: 3600 });
  });

  it.each<[string, unknown[], RegExp]>([
    ['a secret written in the file', [{ type: 'hubspot', token: 'pat-na1-abc' }], /environment only/],
    ['a missing environment variable', [{ type: 'klaviyo', apiKey: 'env:NOPE' }], /NOPE is not set/],
    ['an unknown type', [{ type: 'mailchimp' }], /type must be one of/],
    ['an unknown event', [{ type: 'webhook', url: 'https://x.example', events: ['lead.bought'] }], /not "lead\.bought"/],
    ['a webhook secret that is not whsec_', [{ type: 'webhook', url: 'https://x.example', secret: 'env:SLACK_URL' }], /whsec_/],
    ['a URL that is not http(s)', [{ type: 'webhook', url: 'ftp://x.example' }], /not an http\(s\) URL/],
    ['anonymous leads to a CRM', [{ type: 'hubspot', token: 'env:HUBSPOT_TOKEN', anonymous: true }], /needs an email/],
    ['not an array', { type: 'webhook' } as unknown as unknown[], /must be an array/],
  ])('says what is wrong: %s', (_, list, problem) => {
    const { problems } = parseDestinations(list, env);
    expect(problems.join('\n')).toMatch(problem);
  });

  it('leaves out an incomplete destination, names duplicates apart, and reaches the collector config', () => {
    const { destinations, problems } = parseDestinations([{ type: 'slack' }, { type: 'webhook', url: 'https://a.example' }, { type: 'webhook', url: 'https://b.example' }], env);
    expect(destinations.map((d) => d.name)).toEqual(['webhook', 'webhook-2']);
    expect(problems.some((p) => /url is required/.test(p))).toBe(true);
    const { config } = parseCollectorConfig({ file: { destinations: [{ type: 'klaviyo', apiKey: 'env:KLAVIYO_KEY' }], publicUrl: 'https://leads.example.com/' }, env, flags: {} });
    expect(config.destinations.map((d) => d.type)).toEqual(['klaviyo']);
    expect(config.publicUrl).toBe('https://leads.example.com');
  });

  it('signs with every secret during a rotation', () => {
    const [webhook] = parse([{ type: 'webhook', url: 'https://x.example', secret: ['env:HOOK_SECRET', 'env:NEXT_SECRET'] }]);
    expect((webhook as WebhookDestination).secrets).toEqual([SECRET, OTHER]);
  });
});

describe('planning jobs', () => {
  const lead = { ...sampleLead(NOW), email: null };
  const routes = parse([
    { type: 'webhook', url: 'https://x.example' },
    { type: 'slack', url: 'env:SLACK_URL' },
    { type: 'klaviyo', apiKey: 'env:KLAVIYO_KEY', sites: ['other-site'] },
    { type: 'hubspot', token: 'env:HUBSPOT_TOKEN' },
  ]).map(toRoute);

  it('routes by event type and site; a CRM waits for an email', () => {
    expect(planJobs(routes, lead, 'lead.qualified')).toEqual([
      { destination: 'webhook', held: false },
      { destination: 'slack', held: false },
      { destination: 'hubspot', held: true },
    ]);
    expect(planJobs(routes, { ...lead, email: 'a@b.example' }, 'lead.score').map((job) => job.destination)).toEqual(['webhook', 'hubspot']);
  });

  it('never forwards a bot or suspicious lead unless the destination says so', () => {
    expect(planJobs(routes, { ...lead, bot: true }, 'lead.qualified')).toEqual([]);
    expect(planJobs(routes, { ...lead, suspicious: true }, 'lead.qualified')).toEqual([]);
    const open = parse([{ type: 'webhook', url: 'https://x.example', flagged: true }]).map(toRoute);
    expect(planJobs(open, { ...lead, suspicious: true }, 'lead.qualified')).toHaveLength(1);
  });
});

describe('retries', () => {
  it.each<[number, string | null, string]>([
    [200, null, 'done'],
    [202, null, 'done'],
    [204, null, 'done'],
    [301, null, 'final'],
    [400, null, 'final'],
    [401, null, 'final'],
    [403, null, 'final'],
    [404, null, 'final'],
    [408, null, 'retry'],
    [409, null, 'retry'],
    [410, null, 'final'],
    [425, null, 'retry'],
    [429, '30', 'retry'],
    [500, null, 'retry'],
    [502, null, 'retry'],
    [503, '5', 'retry'],
  ])('answer %i is %s', (status, retryAfter, kind) => {
    expect(judge(status, retryAfter, NOW).kind).toBe(kind);
  });

  it('honours Retry-After in seconds or as a date, on 429 and 503 only', () => {
    expect(judge(429, '30', NOW)).toEqual({ kind: 'retry', afterMs: 30_000 });
    expect(judge(503, new Date(NOW + 90_000).toUTCString(), NOW)).toEqual({ kind: 'retry', afterMs: 90_000 });
    expect(judge(500, '30', NOW)).toEqual({ kind: 'retry', afterMs: null });
    expect(parseRetryAfter('soon', NOW)).toBeNull();
    expect(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW)).toBe(0);
  });

  const policy = { maxAttempts: 5, maxHours: 1, baseDelaySeconds: 10, maxDelaySeconds: 60 };
  it('backs off exponentially with jitter, capped', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, policy, 1))).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(backoffMs(1, policy, 0)).toBe(5000);
    expect(backoffMs(3, policy, 0.5)).toBe(30_000);
  });

  it('is dead out of attempts or out of time', () => {
    expect(nextAttempt({ attempts: 1, createdAt: NOW }, policy, NOW, null, 1)).toBe(NOW + 10_000);
    expect(nextAttempt({ attempts: 5, createdAt: NOW }, policy, NOW, null, 1)).toBeNull();
    expect(nextAttempt({ attempts: 2, createdAt: NOW - 3_590_000 }, policy, NOW, null, 1)).toBeNull();
    expect(nextAttempt({ attempts: 2, createdAt: NOW }, policy, NOW, 120_000, 1)).toBe(NOW + 120_000);
  });

  it('spaces requests with a token bucket', () => {
    let bucket = { tokens: 1, at: NOW };
    expect(untilToken(bucket, 1)).toBe(0);
    bucket = { ...bucket, tokens: 0 };
    expect(untilToken(bucket, 1)).toBe(1000);
    bucket = refill(bucket, NOW + 400, 1);
    expect(untilToken(bucket, 1)).toBe(600);
    expect(refill(bucket, NOW + 60_000, 1).tokens).toBe(1);
    expect(refill({ tokens: 0, at: NOW }, NOW + 100, 50).tokens).toBe(5);
  });
});

describe('what each destination is sent', () => {
  const lead = { ...sampleLead(NOW), id: 'lead-1', visitor: 'visitor-123456789', email: 'jane@example.com' };
  const payload = buildPayload({ type: 'lead.qualified', eventId: 'visitor-123456789.mql.1', lead, event: null, change: null, halfLifeDays: 14, publicUrl: 'https://leads.example.com' });

  it('builds one flat, documented payload', () => {
    expect(payload).toMatchObject({
      schema: 'leadscore.webhook.v1',
      type: 'lead.qualified',
      id: 'visitor-123456789.mql.1',
      test: false,
      lead_url: 'https://leads.example.com/dashboard#/lead/lead-1',
      email: 'jane@example.com',
      score: 52,
      source: 'paid_search',
      campaign: 'spring-sale',
      click_id: 'gclid=TeSt-gclid',
      top_product: 'Blue stoneware mug',
      cart_value: 48,
      currency: 'EUR',
    });
    expect(payload.why).toMatch(/Came back twice, viewed a product in Mugs and has €48\.00 in the cart\./);
    expect(payload.why).toMatch(/Points halve every 14 days/);
    for (const value of Object.values(payload)) expect(typeof value === 'object' && value !== null).toBe(false);
  });

  it('signs webhooks per Standard Webhooks: verified by the standardwebhooks library, with every secret', () => {
    const destination = parse([{ type: 'webhook', url: 'https://x.example/h', secret: ['env:HOOK_SECRET', 'env:NEXT_SECRET'] }])[0] as WebhookDestination;
    const now = Date.now();
    const request = webhookRequest(destination, payload, now);
    expect(request.headers['webhook-id']).toBe(payload.id);
    expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(request.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(SECRET).verify(request.body, request.headers)).toEqual(JSON.parse(request.body));
    expect(new Webhook(OTHER).verify(request.body, request.headers)).toEqual(JSON.parse(request.body));
    expect(() => new Webhook(SECRET).verify(request.body.replace('52', '99'), request.headers)).toThrow();
    expect(signWebhook([SECRET], 'msg_1', 1_700_000_000, '{}')).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('writes Slack a Block Kit message with a text fallback, escaping what the visitor typed', () => {
    const hostile = buildPayload({ type: 'lead.qualified', eventId: 'e1', lead: { ...lead, email: '<!channel> a&b@x.example', interest: { ...lead.interest, items: [{ item_id: 'x', name: '<https://evil.example|click>', views: 1, adds: 0, in_cart: false }] } }, event: null, change: null, publicUrl: 'https://leads.example.com' });
    const message = slackMessage(hostile);
    expect(message.text).toMatch(/^New qualified lead: <!channel> a&b@x\.example, score 52 \(mql\)\. .*Wants: <https:\/\/evil\.example\|click>.*Source: paid search \(spring-sale\)\. https:\/\/leads\.example\.com\/dashboard#\/lead\/lead-1$/);
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).not.toContain('<!channel>');
    expect(blocks).toContain('&lt;!channel&gt; a&amp;b@x.example');
    expect(blocks).toContain('&lt;https://evil.example|click&gt;');
    expect(message.blocks.at(-1)).toEqual({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the lead' }, url: 'https://leads.example.com/dashboard#/lead/lead-1' }] });
  });

  it('upserts the HubSpot contact by email and sends the behavioural event with a stable uuid', () => {
    const destination = { ...(parse([{ type: 'hubspot', token: 'env:HUBSPOT_TOKEN', eventName: 'pe123_leadscore_lead_event' }])[0] as HubspotDestination) };
    const [contact, event] = hubspotRequests(destination, payload);
    expect(contact!.url).toBe('https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert');
    expect(contact!.headers.authorization).toBe('Bearer pat-na1-abc');
    expect(JSON.parse(contact!.body)).toEqual({
      inputs: [{ id: 'jane@example.com', idProperty: 'email', properties: { email: 'jane@example.com', leadscore_score: '52', leadscore_stage: 'mql', leadscore_why: payload.why, leadscore_source: 'paid_search', leadscore_status: 'new', leadscore_campaign: 'spring-sale', leadscore_top_product: 'Blue stoneware mug', leadscore_lead_url: payload.lead_url } }],
    });
    expect(JSON.parse(event!.body)).toEqual({ eventName: 'pe123_leadscore_lead_event', email: 'jane@example.com', uuid: uuidFrom(payload.id), occurredAt: payload.timestamp, properties: { leadscore_event_type: 'lead.qualified', leadscore_score: 52, leadscore_stage: 'mql', leadscore_source: 'paid_search', leadscore_top_product: 'Blue stoneware mug', leadscore_cart_value: 48 } });
    expect(uuidFrom(payload.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidFrom(payload.id)).toBe(uuidFrom(payload.id));
    expect(uuidFrom('other')).not.toBe(uuidFrom(payload.id));
    expect(hubspotRequests({ ...destination, eventName: null }, payload)).toHaveLength(1);
  });

  it('creates the Klaviyo event with the metric, the profile, the cart as value and the event id as unique_id', () => {
    const destination = parse([{ type: 'klaviyo', apiKey: 'env:KLAVIYO_KEY' }])[0] as KlaviyoDestination;
    const request = klaviyoRequest(destination, payload, [{ id: 'mug-blue' }]);
    expect(request.url).toBe('https://a.klaviyo.com/api/events');
    expect(request.headers).toEqual({ authorization: 'Klaviyo-API-Key pk_abc', revision: '2026-10-15', accept: 'application/vnd.api+json', 'content-type': 'application/vnd.api+json' });
    const body = JSON.parse(request.body);
    expect(body.data.type).toBe('event');
    expect(body.data.attributes).toMatchObject({
      unique_id: 'visitor-123456789.mql.1',
      time: payload.timestamp,
      value: 48,
      value_currency: 'EUR',
      metric: { data: { type: 'metric', attributes: { name: 'Qualified Lead' } } },
      profile: { data: { type: 'profile', attributes: { email: 'jane@example.com' } } },
      properties: { score: 52, stage: 'mql', source: 'paid_search', items: [{ id: 'mug-blue' }], top_product: 'Blue stoneware mug' },
    });
    expect(Object.keys(body.data.attributes.properties).length).toBeLessThan(400);
  });
});
