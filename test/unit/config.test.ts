import { describe, expect, it } from 'vitest';
import { fromAttributeName, parseConfig, parseEndpoint, parseRule, suggestOption, toAttributeName } from '../../src/config';
import { DEFAULT_HIGH_VALUE_PATHS } from '../../src/engine/defaults';

const page = { pageUrl: 'https://shop.example/products/mug' };
const parse = (input: unknown) => parseConfig(input, page);
const fatal = (input: unknown) => parse(input).problems.filter((p) => p.fatal).map((p) => p.message);
const warnings = (input: unknown) => parse(input).problems.filter((p) => !p.fatal).map((p) => p.message);

describe('defaults', () => {
  it('gives a working config with no options', () => {
    const { config, problems } = parse(undefined);
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      endpoint: null,
      site: 'shop.example',
      consent: 'auto',
      debug: false,
      allowAutomation: false,
      captureEmail: false,
      retentionDays: 180,
      respectPrivacySignals: true,
    });
    expect(config.model.stages).toEqual([{ name: 'mql', threshold: 50 }]);
    expect(config.model.halfLifeDays).toBe(14);
    expect(config.model.sessionMinutes).toBe(30);
    expect(config.model.rules.find((rule) => rule.id === 'high_value_page')!.match).toEqual({ path: [...DEFAULT_HIGH_VALUE_PATHS] });
  });
});

describe('every option, from attributes (strings) and from ESM (typed)', () => {
  it.each<[string, Record<string, unknown>, (c: ReturnType<typeof parse>['config']) => unknown, unknown]>([
    ['endpoint', { endpoint: 'https://collect.example/b' }, (c) => c.endpoint, 'https://collect.example/b'],
    ['relative endpoint', { endpoint: '/collect' }, (c) => c.endpoint, 'https://shop.example/collect'],
    ['site', { site: ' my-shop ' }, (c) => c.site, 'my-shop'],
    ['threshold string', { threshold: '60' }, (c) => c.model.stages, [{ name: 'mql', threshold: 60 }]],
    ['threshold number', { threshold: 75.5 }, (c) => c.model.stages, [{ name: 'mql', threshold: 75.5 }]],
    ['stages string', { stages: 'hot:120, mql:50' }, (c) => c.model.stages, [{ name: 'mql', threshold: 50 }, { name: 'hot', threshold: 120 }]],
    ['stages object', { stages: { mql: 40, hot: 90 } }, (c) => c.model.stages.map((s) => s.name), ['mql', 'hot']],
    ['stages array', { stages: [{ name: 'a', threshold: 5 }] }, (c) => c.model.stages, [{ name: 'a', threshold: 5 }]],
    ['highValue string', { highValue: '/pricing, /quote/*' }, (c) => c.model.rules.find((r) => r.id === 'high_value_page')!.match, { path: ['/pricing', '/quote/*'] }],
    ['highValue array', { highValue: ['/a'] }, (c) => c.model.rules.find((r) => r.id === 'high_value_page')!.match, { path: ['/a'] }],
    ['halfLifeDays', { halfLifeDays: '7' }, (c) => c.model.halfLifeDays, 7],
    ['halfLifeDays off', { halfLifeDays: 0 }, (c) => c.model.halfLifeDays, 0],
    ['sessionMinutes', { sessionMinutes: '45' }, (c) => c.model.sessionMinutes, 45],
    ['coolOffDays', { coolOffDays: 10 }, (c) => c.model.coolOffDays, 10],
    ['retentionDays', { retentionDays: '30' }, (c) => c.retentionDays, 30],
    ['consent required', { consent: 'required' }, (c) => c.consent, 'required'],
    ['consent Granted', { consent: ' Granted ' }, (c) => c.consent, 'granted'],
    ['debug bare attribute', { debug: '' }, (c) => c.debug, true],
    ['debug false', { debug: 'false' }, (c) => c.debug, false],
    ['debug boolean', { debug: true }, (c) => c.debug, true],
    ['allowAutomation', { allowAutomation: 'yes' }, (c) => c.allowAutomation, true],
    ['captureEmail', { captureEmail: '1' }, (c) => c.captureEmail, true],
    ['respectPrivacySignals off', { respectPrivacySignals: 'false' }, (c) => c.respectPrivacySignals, false],
    ['defaultRules off', { defaultRules: false }, (c) => c.model.rules, []],
    ['retryMaxAttempts', { retryMaxAttempts: '5' }, (c) => c.retryMaxAttempts, 5],
    ['retryMaxAgeDays', { retryMaxAgeDays: '2' }, (c) => c.retryMaxAgeDays, 2],
    ['urlParams', { urlParams: 'utm_source, ref' }, (c) => c.urlParams, ['utm_source', 'ref']],
    ['hashChange', { hashChange: 'true' }, (c) => c.hashChange, true],
    ['updates default', {}, (c) => c.updates, ['identified', 'purchased', 'stage', 'score']],
    ['updates all', { updates: 'all' }, (c) => c.updates, ['identified', 'purchased', 'stage', 'score']],
    ['updates none', { updates: 'none' }, (c) => c.updates, []],
    ['updates picked', { updates: 'identified, purchased' }, (c) => c.updates, ['identified', 'purchased']],
    ['updates array', { updates: ['score'] }, (c) => c.updates, ['score']],
    ['updateMinPoints', { updateMinPoints: '25' }, (c) => c.updateMinPoints, 25],
    ['updateMinPoints default', {}, (c) => c.updateMinPoints, 10],
    ['dataLayer off', { dataLayer: 'false' }, (c) => c.dataLayer, false],
    ['dataLayer default', {}, (c) => c.dataLayer, true],
    ['identityTraits', { identityTraits: 'email, customer_id' }, (c) => c.identityTraits, ['email', 'customer_id']],
    ['identityTraits default', {}, (c) => c.identityTraits, ['email']],
  ])('%s', (_, input, read, expected) => {
    const { config, problems } = parse(input);
    expect(problems).toEqual([]);
    expect(read(config)).toEqual(expected);
  });
});

describe('fatal problems keep the tracker off the network', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['javascript: endpoint', { endpoint: 'javascript:alert(1)' }, /endpoint uses javascript:/],
    ['data: endpoint', { endpoint: 'data:text/plain,x' }, /endpoint uses data:/],
    ['ftp endpoint', { endpoint: 'ftp://x.example/' }, /only http and https/],
    ['credentials in the endpoint', { endpoint: 'https://user:pw@x.example/' }, /credentials/],
    ['empty endpoint', { endpoint: '  ' }, /endpoint is empty/],
    ['unparseable endpoint', { endpoint: 'http://' }, /not a URL/],
    ['mixed content', { endpoint: 'http://x.example/' }, /mixed content/],
    ['threshold text', { threshold: 'sixty' }, /threshold must be a positive number/],
    ['threshold zero', { threshold: 0 }, /threshold must be a positive number/],
    ['threshold negative', { threshold: '-5' }, /threshold must be a positive number/],
    ['threshold NaN', { threshold: NaN }, /threshold must be a positive number/],
    ['stages malformed', { stages: 'mql' }, /stages gives stage "mql"/],
    ['stages duplicate', { stages: 'a:1,a:2' }, /names stage "a" twice/],
    ['stages empty', { stages: '' }, /lists no stage/],
    ['stages bad name', { stages: 'm q l:5' }, /invalid stage name/],
    ['stages number', { stages: 5 }, /must be like/],
    ['unknown consent mode', { consent: 'maybe' }, /consent must be one of/],
  ])('%s', (_, input, message) => {
    const problems = fatal(input);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('does not fall back to storing without consent on an unknown consent mode', () => {
    expect(parse({ consent: 'maybe' }).config.consent).toBe('required');
  });

  it.each([null, 5, 'string'])('reports non-object options (%s) without throwing', (input) => {
    expect(fatal(input)).toEqual(['options must be an object']);
  });

  it('survives options whose getters throw', () => {
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('trap'); } });
    expect(fatal(hostile)).toEqual(['options could not be read']);
  });
});

describe('warnings (shown in debug mode)', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['typo with suggestion', { treshold: 5 }, /unknown option "treshold" \(data-treshold\); did you mean "threshold" \(data-threshold\)\?/],
    ['typo camelCase', { halfLifeDay: 5 }, /did you mean "halfLifeDays" \(data-half-life-days\)/],
    ['unknown, no suggestion', { color: 'red' }, /^unknown option "color" \(data-color\)$/],
    ['halfLifeDays negative', { halfLifeDays: -1 }, /halfLifeDays must be a number from 0/],
    ['sessionMinutes zero', { sessionMinutes: '0' }, /sessionMinutes must be a number from 1/],
    ['retentionDays text', { retentionDays: 'forever' }, /retentionDays must be a number/],
    ['debug maybe', { debug: 'maybe' }, /debug must be true or false/],
    ['site object', { site: {} }, /site must be a short text/],
    ['highValue empty', { highValue: ' , ' }, /highValue must be/],
    ['rules not an array', { rules: {} }, /rules must be an array/],
    ['rule for an unknown signal', { rules: [{ id: 'r', signal: 'webinar', points: 5 }] }, /only track\("webinar"\) emits/],
    ['bad rule', { rules: [{ id: 'r', signal: 'x' }] }, /dropped a rule: rule "r" needs points/],
    ['threshold and stages', { stages: 'mql:5', threshold: 9 }, /threshold is ignored/],
    ['updates misspelt', { updates: 'identified,purchase' }, /updates must be "all", "none" or a list of identified, purchased, stage, score; sending none/],
    ['updateMinPoints negative', { updateMinPoints: -1 }, /updateMinPoints must be a number from 0/],
    ['identityTraits not names', { identityTraits: 'e mail' }, /identityTraits must be comma-separated trait names/],
    ['dataLayer maybe', { dataLayer: 'maybe' }, /dataLayer must be true or false/],
  ])('%s', (_, input, message) => {
    expect(fatal(input)).toEqual([]);
    expect(warnings(input).some((w) => message.test(w))).toBe(true);
  });
});

it('sends no updates when the list cannot be read: sending what was not asked for is the worse mistake', () => {
  expect(parse({ updates: 'identified,purchase' }).config.updates).toEqual([]);
  expect(parse({ updates: 42 }).config.updates).toEqual([]);
});

describe('rules', () => {
  it('replaces a default rule by id and appends new ones', () => {
    const { config } = parse({
      rules: [
        { id: 'add_to_cart', signal: 'add_to_cart', points: 50, max: 1 },
        { id: 'webinar', signal: 'webinar', points: 30 },
      ],
    });
    const rules = config.model.rules;
    expect(rules.find((r) => r.id === 'add_to_cart')).toEqual({ id: 'add_to_cart', signal: 'add_to_cart', points: 50, max: 1 });
    expect(rules.at(-1)!.id).toBe('webinar');
    expect(rules.filter((r) => r.id === 'add_to_cart')).toHaveLength(1);
  });

  it.each<[unknown, RegExp | object]>([
    [null, /not an object/],
    [[], /not an object/],
    [{ signal: 'x', points: 1 }, /needs an id/],
    [{ id: 'a b', signal: 'x', points: 1 }, /needs an id/],
    [{ id: 'r', points: 1 }, /needs a signal/],
    [{ id: 'r', signal: 'x', points: 'many' }, /needs points/],
    [{ id: 'r', signal: 'x', points: 1e7 }, /needs points/],
    [{ id: 'r', signal: 'x', points: 1, max: 0 }, /max/],
    [{ id: 'r', signal: 'x', points: 1, max: 1.5 }, /max/],
    [{ id: 'r', signal: 'x', points: 1, per: 'week' }, /per to be one of/],
    [{ id: 'r', signal: 'x', points: 1, windowDays: 0 }, /windowDays/],
    [{ id: 'r', signal: 'x', points: 1, windowDays: 1000 }, /windowDays/],
    [{ id: 'r', signal: 'x', points: 1, match: 'x' }, /match that is not an object/],
    [{ id: 'r', signal: 'x', points: 1, match: { a: { gt: 1 } } }, /invalid match for "a"/],
    [{ id: 'r', signal: 'x', points: 1, match: { a: [{}] } }, /invalid match for "a"/],
    [{ id: 'r', signal: 'x', points: 1, match: { a: NaN } }, /invalid match for "a"/],
    [
      { id: 'r', signal: 'x', points: '-5', max: '2', per: 'day', windowDays: '7', match: { path: ['/a', '/b'], price: { gte: 10 } } },
      { id: 'r', signal: 'x', points: -5, max: 2, per: 'day', windowDays: 7, match: { path: ['/a', '/b'], price: { gte: 10 } } },
    ],
  ])('parseRule(%j)', (input, expected) => {
    const result = parseRule(input);
    if (expected instanceof RegExp) expect(result).toMatch(expected);
    else expect(result).toEqual(expected);
  });

  it('rejects a __proto__ match key', () => {
    expect(parseRule(JSON.parse('{"id":"r","signal":"x","points":1,"match":{"__proto__":"a"}}'))).toMatch(/invalid match/);
  });
});

describe('helpers', () => {
  it('maps attribute names both ways', () => {
    expect(fromAttributeName('data-half-life-days')).toBe('halfLifeDays');
    expect(toAttributeName('halfLifeDays')).toBe('data-half-life-days');
    expect(fromAttributeName('data-endpoint')).toBe('endpoint');
  });

  it('suggests only close names', () => {
    expect(suggestOption('endpont')).toBe('endpoint');
    expect(suggestOption('zzzzzzzz')).toBeNull();
  });

  it('accepts http endpoints on http pages', () => {
    expect(parseEndpoint('http://127.0.0.1:8080/c', 'http://127.0.0.1:8080/')).toEqual({ url: 'http://127.0.0.1:8080/c' });
  });
});

describe('reserved names', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s as a rule id, signal or stage name', (name) => {
    expect(parseRule({ id: name, signal: 'x', points: 1 })).toMatch(/needs an id/);
    expect(parseRule({ id: 'r', signal: name, points: 1 })).toMatch(/needs a signal/);
    expect(parseConfig({ stages: `${name}:10` }, page).problems[0]!.message).toMatch(/invalid stage name/);
  });
});
