import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseCollectorConfig } from '../../src/collector/config';
import { clientAddress, createLimiter } from '../../src/collector/http/client';
import { csvCell, toQuery } from '../../src/collector/http/server';
import { foldEvent, type EventMeta } from '../../src/collector/leads/lead';
import { checkPlausibility } from '../../src/collector/leads/plausibility';
import { explainLead } from '../../src/collector/leads/explain';
import { classifySource } from '../../src/collector/leads/source';
import { parseConfig } from '../../src/config';
import { fromV1 } from '../../src/receiver/parse';
import { leadEvent, v1Beacon } from '../helpers/events';

const meta = (extra: Partial<EventMeta> = {}): EventMeta => ({ receivedAt: 1_800_000_000_000, bot: false, flags: [], ...extra });

describe('source classification', () => {
  it.each<[string, Record<string, string>, string, string | undefined]>([
    ['a Google Ads click', { gclid: 'x', utm_campaign: 'spring' }, 'paid_search', 'google'],
    ['an iOS Google Ads click', { gbraid: 'x' }, 'paid_search', 'google'],
    ['a Microsoft Ads click', { msclkid: 'x' }, 'paid_search', 'bing'],
    ['a Meta ad (fbclid with a paid medium)', { fbclid: 'x', utm_medium: 'paid' }, 'paid_social', 'facebook'],
    ['a Meta share (fbclid alone)', { fbclid: 'x' }, 'organic_social', 'facebook'],
    ['a TikTok ad', { ttclid: 'x' }, 'paid_social', 'tiktok'],
    ['cpc on a social network', { utm_medium: 'cpc', utm_source: 'instagram' }, 'paid_social', 'instagram'],
    ['cpc elsewhere', { utm_medium: 'cpc', utm_source: 'bing' }, 'paid_search', 'bing'],
    ['a newsletter', { utm_medium: 'email', utm_source: 'newsletter' }, 'email', 'newsletter'],
    ['display', { utm_medium: 'banner' }, 'display', undefined],
    ['an affiliate', { utm_medium: 'affiliate', utm_source: 'blogger' }, 'affiliate', 'blogger'],
    ['Google search', { referrer: 'https://www.google.com' }, 'organic_search', 'www.google.com'],
    ['DuckDuckGo', { referrer: 'https://duckduckgo.com' }, 'organic_search', 'duckduckgo.com'],
    ['a social network', { referrer: 'https://l.facebook.com' }, 'organic_social', 'l.facebook.com'],
    ['webmail', { referrer: 'https://mail.google.com' }, 'email', 'mail.google.com'],
    ['another site', { referrer: 'https://blog.example' }, 'referral', 'blog.example'],
    ['nothing', { landing: 'https://shop.example/' }, 'direct', undefined],
    ['a junk referrer', { referrer: 'not a url' }, 'direct', undefined],
  ])('%s', (_, attribution, source, via) => {
    const info = classifySource(attribution);
    expect(info.source).toBe(source);
    expect(info.via).toBe(via);
  });

  it('keeps the campaign and ignores inherited keys', () => {
    expect(classifySource({ gclid: 'x', utm_campaign: 'spring' }).campaign).toBe('spring');
    expect(classifySource(Object.create({ gclid: 'x' }) as Record<string, string>).source).toBe('direct');
  });
});

describe('the lead model', () => {
  const visitor = '2f1c9a4e-8d7b-4c6a-9e5f-1a2b3c4d5e6f';
  it('folds events in any order to the same lead', () => {
    const qualified = leadEvent('qualified');
    const identified = leadEvent('identified', { traits: { email: 'ada@example.com' } });
    const score = leadEvent('score', { score: 80, at: qualified.at + 7_200_000 });
    const orders = [
      [qualified, identified, score],
      [score, identified, qualified],
      [identified, score, qualified],
    ];
    const leads = orders.map((order) => order.reduce<ReturnType<typeof foldEvent> | null>((lead, event) => foldEvent(lead, event, meta()), null)!);
    for (const lead of leads) {
      expect(lead).toMatchObject({ visitor, email: 'ada@example.com', score: 80, qualifiedScore: qualified.score, stage: 'mql', events: 3, status: 'new' });
      expect({ ...lead, createdAt: 0, updatedAt: 0 }).toEqual({ ...leads[0]!, createdAt: 0, updatedAt: 0 });
    }
  });

  it('keeps the highest stage, counts orders and makes an open lead a customer', () => {
    let lead = foldEvent(null, leadEvent('qualified'), meta());
    lead = foldEvent(lead, leadEvent('stage'), meta());
    expect(lead.stage).toBe('hot');
    expect(Object.keys(lead.stages).sort()).toEqual(['hot', 'mql']);
    lead = foldEvent({ ...lead, status: 'rejected' }, leadEvent('purchased'), meta());
    expect(lead).toMatchObject({ orders: 1, revenue: 48, currency: 'EUR', status: 'rejected' });
    lead = foldEvent({ ...lead, status: 'working' }, leadEvent('purchased', { id: `${visitor}.purchased.1002` }), meta());
    expect(lead).toMatchObject({ orders: 2, revenue: 96, status: 'customer', statusBy: 'leadscore' });
  });

  it('accepts a v1 beacon as a qualified event, and flags stick', () => {
    const lead = foldEvent(null, fromV1(v1Beacon()), meta({ bot: true, flags: ['no Origin header'] }));
    expect(lead).toMatchObject({ bot: true, suspicious: true, flags: ['no Origin header'], interest: { items: [], categories: [], searches: 0 } });
    expect(foldEvent(lead, leadEvent('score'), meta()).flags).toEqual(['no Origin header']);
  });

  it('never takes a text without @ as an email', () => {
    expect(foldEvent(null, leadEvent('identified', { traits: { email: '<script>' } }), meta()).email).toBeNull();
  });
});

describe('plausibility under the site\'s own model', () => {
  const model = parseConfig({}, { pageUrl: 'https://shop.example/' }).config.model;
  const event = (overrides: Parameters<typeof leadEvent>[1]) =>
    leadEvent('qualified', { rules: { view_item: { count: 2, points: 16 }, add_to_cart: { count: 2, points: 40 } }, score: 56, threshold: 50, ...overrides });

  it('accepts an event that adds up, with decay and rounding', () => {
    expect(checkPlausibility(event({}), model)).toEqual([]);
    expect(checkPlausibility(event({ rules: { view_item: { count: 2, points: 15.37 }, add_to_cart: { count: 2, points: 38.41 } }, score: 53.78 }), model)).toEqual([]);
  });

  it.each<[string, Parameters<typeof leadEvent>[1], RegExp]>([
    ['a rule the site does not have', { rules: { view_item: { count: 2, points: 16 }, add_to_cart: { count: 2, points: 40 }, vip: { count: 1, points: 0 } } }, /unknown rule "vip"/],
    ['a count over the cap', { rules: { view_item: { count: 2, points: 16 }, add_to_cart: { count: 5, points: 40 } }, visits: 1 }, /counted 5 times/],
    ['more points than the rule gives', { rules: { view_item: { count: 2, points: 36 }, add_to_cart: { count: 2, points: 20 } } }, /more points than it can give/],
    ['a score the rules do not add up to', { score: 90 }, /do not add up/],
    ['a stage the site does not have', { stage: 'vip' }, /unknown stage/],
    ['a threshold that is not the stage\'s', { threshold: 10 }, /threshold 50, not 10/],
  ])('flags %s', (_, overrides, reason) => {
    expect(checkPlausibility(event(overrides), model).join('; ')).toMatch(reason);
  });

  it('allows a session cap once per session', () => {
    expect(checkPlausibility(event({ rules: { view_item: { count: 2, points: 16 }, add_to_cart: { count: 4, points: 80 } }, score: 96, visits: 2 }), model)).toEqual([]);
  });
});

describe('collector settings', () => {
  it('takes flags over the environment over the file, and secrets only from the environment', () => {
    const { config, problems } = parseCollectorConfig({
      file: { port: 1000, host: '0.0.0.0', adminPassword: 'in-the-file' },
      env: { PORT: '2000', LEADSCORE_ADMIN_PASSWORD: 'from the environment' },
      flags: { port: '3000' },
    });
    expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', adminPassword: 'from the environment', db: { kind: 'sqlite', folder: './leadscore-data/' } });
    expect(problems).toEqual(['secrets are read from the environment only (LEADSCORE_ADMIN_PASSWORD, LEADSCORE_API_TOKEN); the config file values are ignored']);
  });

  it('switches to PostgreSQL with DATABASE_URL and refuses other URLs', () => {
    expect(parseCollectorConfig({ env: { DATABASE_URL: 'postgres://u@h/db' }, flags: {} }).config.db).toEqual({ kind: 'postgres', url: 'postgres://u@h/db' });
    const mysql = parseCollectorConfig({ env: { DATABASE_URL: 'mysql://h/db' }, flags: {} });
    expect(mysql.config.db.kind).toBe('sqlite');
    expect(mysql.problems[0]).toMatch(/postgres:\/\//);
  });

  it('builds each site\'s scoring model with the browser\'s parser, and explains bad sites', () => {
    const { config, problems } = parseCollectorConfig({
      file: { sites: [{ id: 'mugs', origins: ['https://mugs.example/'], stages: 'mql:40,hot:90' }, { origins: [] }, { id: 'x', origins: ['mugs.example'] }] },
      env: {},
      flags: {},
    });
    expect(config.sites[0]).toMatchObject({ id: 'mugs', origins: ['https://mugs.example'], quota: 600 });
    expect(config.sites[0]!.model.stages).toEqual([{ name: 'mql', threshold: 40 }, { name: 'hot', threshold: 90 }]);
    expect(problems).toEqual(['sites[1] needs an id', 'site "x": origins must be like ["https://shop.example"], not "mugs.example"']);
  });

  it.each<[unknown, unknown]>([
    [undefined, null],
    ['1', { hops: 1 }],
    [2, { hops: 2 }],
    [true, { hops: 1 }],
    ['10.0.0.0/8, 192.168.1.5', { cidrs: ['10.0.0.0/8', '192.168.1.5'] }],
    ['everyone', null],
  ])('trustProxy %j', (value, expected) => {
    expect(parseCollectorConfig({ file: { trustProxy: value }, env: {}, flags: {} }).config.trustProxy).toEqual(expected);
  });
});

describe('client addresses and limits', () => {
  const request = (socket: string, forwarded?: string) => ({ socket: { remoteAddress: socket }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as IncomingMessage;

  it('uses the socket unless a proxy is trusted', () => {
    expect(clientAddress(request('::ffff:203.0.113.9', '1.2.3.4'), null)).toBe('203.0.113.9');
  });

  it('reads X-Forwarded-For from the right: by hops, or past trusted proxies', () => {
    expect(clientAddress(request('10.0.0.2', 'forged, 198.51.100.1'), { hops: 1 })).toBe('198.51.100.1');
    expect(clientAddress(request('10.0.0.2', 'forged, 198.51.100.1, 10.0.0.1'), { hops: 2 })).toBe('198.51.100.1');
    expect(clientAddress(request('10.0.0.2', 'forged, 198.51.100.1, 10.0.0.1'), { cidrs: ['10.0.0.0/8'] })).toBe('198.51.100.1');
    // A request that did not come through a trusted proxy: its header is the client's own words.
    expect(clientAddress(request('203.0.113.9', '10.0.0.1'), { cidrs: ['10.0.0.0/8'] })).toBe('203.0.113.9');
  });

  it('limits per key within a window, with bounded memory', () => {
    let time = 0;
    const limit = createLimiter({ max: 2, windowMs: 1000, maxKeys: 3, now: () => time });
    expect([limit('a'), limit('a'), limit('a')]).toEqual([null, null, 1]);
    time = 1000;
    expect(limit('a')).toBeNull();
    for (const key of ['b', 'c', 'd', 'e']) limit(key);
    // 'a' was forgotten (least recently seen): it starts over.
    expect([limit('a'), limit('a')]).toEqual([null, null]);
  });
});

describe('API helpers', () => {
  it('quotes CSV cells and never lets one start a formula', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+cmd')).toBe("'+cmd");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(-3)).toBe('-3');
  });

  it('reads list queries and refuses what it does not know', () => {
    expect(toQuery(new URLSearchParams('site=a&status=sql&source=email&from=2026-01-01&identified=true&sort=score&order=asc&limit=20'))).toMatchObject({
      site: 'a',
      status: 'sql',
      source: 'email',
      from: Date.parse('2026-01-01'),
      identified: true,
      sort: 'score',
      order: 'asc',
      limit: 20,
    });
    expect(() => toQuery(new URLSearchParams('status=won'))).toThrow(/status must be one of/);
  });
});

describe('why, in plain words', () => {
  const f = { number: (value: number) => new Intl.NumberFormat('en').format(value), money: (value: number, currency?: string) => new Intl.NumberFormat('de-DE', { style: 'currency', currency: currency ?? 'EUR' }).format(value) };
  const lead = (extra: Parameters<typeof leadEvent>[1] = {}) => foldEvent(null, leadEvent('qualified', extra), meta());

  it('says what the visitor did, where they came from, and how points fade', () => {
    const base = lead({
      visits: 4,
      signals: { view_item: 6, add_to_cart: 1, begin_checkout: 1, search: 2 },
      interest: {
        items: [1, 2, 3, 4].map((i) => ({ item_id: `M${i}`, views: 1, adds: 0, in_cart: false })),
        categories: ['Mugs'],
        cart: { value: 48, currency: 'EUR' },
        searches: 2,
      },
      attribution: { landing: 'https://shop.example/?gclid=1&utm_campaign=spring', gclid: '1', utm_campaign: 'spring' },
    });
    expect(explainLead({ lead: base, halfLifeDays: 14 }, f)).toEqual([
      `Came back 3 times, viewed 4 products in Mugs, has ${f.money(48, 'EUR')} in the cart and started checkout.`,
      'Searched the store twice.',
      'Came from a paid search ad (campaign spring).',
      'Points halve every 14 days, so the score falls unless the visitor comes back.',
    ]);
  });

  it('tells purchases, identity and flags, and says nothing it does not know', () => {
    const quiet = { visits: 1, signals: {}, interest: { items: [], categories: [], searches: 0 } };
    let customer = lead(quiet);
    customer = foldEvent(customer, leadEvent('purchased', quiet), meta({ flags: ['no Origin header'] }));
    customer = foldEvent(customer, leadEvent('identified', { ...quiet, traits: { email: 'ada@example.com' } }), meta());
    expect(explainLead({ lead: customer }, f)).toEqual([`Bought once (${f.money(48, 'EUR')}).`, 'Gave an email address.', 'Came from a direct visit.', 'Flagged: no Origin header.']);
  });
});
