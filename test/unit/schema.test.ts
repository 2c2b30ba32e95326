import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeBeacon, toStoredBeacon, type BeaconV1 } from '../../src/transport/payload';

const schema = JSON.parse(readFileSync(new URL('../../schema/beacon.v1.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

const base: BeaconV1 = {
  ...toStoredBeacon(
    { visitorId: '2f1c9a4e-8d7b-4c6a-9e5f-1a2b3c4d5e6f', rules: { add_to_cart: { count: 1, points: 20 } }, signals: { page_view: 4 }, visits: 2, firstSeen: 1767225600000, traits: {} },
    { stage: 'mql', threshold: 50, score: 52.86, at: 1767484800000, n: 1 },
    { site: 'shop.example', page: 'https://shop.example/cart', attribution: { landing: 'https://shop.example/' }, lib: 'leadscore@0.1.0' },
  ),
  sentAt: 1767484800500,
  offset: 500,
};

describe('beacon v1 JSON Schema', () => {
  it('accepts what the encoder produces, with and without vitals', () => {
    for (const beacon of [base, { ...base, vitals: { lcp: 1234, inp: 80, cls: 0.012, ttfb: 210 } }]) {
      expect(validate(JSON.parse(encodeBeacon(beacon))), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it.each<[string, Record<string, unknown>]>([
    ['unknown field', { extra: 1 }],
    ['wrong version', { v: 2 }],
    ['negative score', { score: -1 }],
    ['huge score', { score: 1e12 }],
    ['string score', { score: '52' }],
    ['bad stage', { stage: 'm q l' }],
    ['fractional n', { n: 1.5 }],
    ['object trait', { traits: { a: {} } }],
    ['long page', { page: 'x'.repeat(501) }],
    ['vitals extra', { vitals: { fid: 1 } }],
  ])('rejects %s', (_, change) => {
    expect(validate({ ...JSON.parse(encodeBeacon(base)), ...change })).toBe(false);
  });
});
