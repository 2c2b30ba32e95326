import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeBeacon, type BeaconV2 } from '../../src/transport/payload';
import type { InterestItem, LeadEventType, WireInterest } from '../../src/types';
import { leadEvent, v1Beacon } from '../helpers/events';

const readSchema = (name: string) => JSON.parse(readFileSync(new URL(`../../schema/${name}`, import.meta.url), 'utf8'));
const schemaV1 = readSchema('beacon.v1.json');
const schemaV2 = readSchema('beacon.v2.json');
const ajv = () => new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validateV1 = ajv().compile(schemaV1);
const validateV2 = ajv().compile(schemaV2);

describe('beacon v1 JSON Schema', () => {
  const base = v1Beacon();
  it('accepts a v1 beacon, with and without vitals', () => {
    for (const beacon of [base, { ...base, vitals: { lcp: 1234, inp: 80, cls: 0.012, ttfb: 210 } }]) {
      expect(validateV1(JSON.parse(encodeBeacon(beacon))), JSON.stringify(validateV1.errors)).toBe(true);
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
    expect(validateV1({ ...JSON.parse(encodeBeacon(base)), ...change })).toBe(false);
  });
});

const TYPES: LeadEventType[] = ['qualified', 'identified', 'purchased', 'stage', 'score'];

describe('beacon v2 JSON Schema', () => {
  it.each(TYPES)('accepts what the encoder produces for %s, with and without vitals', (type) => {
    for (const beacon of [leadEvent(type), leadEvent(type, { vitals: { lcp: 1234, inp: 80, cls: 0.012, ttfb: 210 } })]) {
      expect(validateV2(JSON.parse(encodeBeacon(beacon))), JSON.stringify(validateV2.errors)).toBe(true);
    }
  });

  it.each<[string, Record<string, unknown>]>([
    ['unknown field', { extra: 1 }],
    ['v1', { v: 1 }],
    ['unknown type', { type: 'viewed' }],
    ['missing interest', { interest: undefined }],
    ['order on a score event', { order: { value: 1 } }],
    ['interest extra', { interest: { items: [], categories: [], searches: 0, wishes: 1 } }],
    ['four categories', { interest: { items: [], categories: ['a', 'b', 'c', 'd'], searches: 0 } }],
    ['an item without id', { interest: { items: [{ views: 1, adds: 0, in_cart: false }], categories: [], searches: 0 } }],
  ])('rejects %s', (_, change) => {
    const body = JSON.parse(encodeBeacon(leadEvent('score')));
    for (const key of Object.keys(change)) if (change[key] === undefined) delete body[key];
    expect(validateV2({ ...body, ...Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)) })).toBe(false);
  });

  it('requires the order on a purchase', () => {
    const { order: _order, ...rest } = JSON.parse(encodeBeacon(leadEvent('purchased')));
    expect(validateV2(rest)).toBe(false);
  });

  // The TypeScript types are checked against the schema: each object below must name every field of
  // its type (`Required<>` and the compiler's excess-property check), and the schema must list
  // exactly those fields. A field added to one and not the other fails here or in the typecheck.
  it('lists exactly the fields of the TypeScript types', () => {
    const event: Required<BeaconV2> = { ...leadEvent('purchased'), vitals: {}, order: {} };
    const interest: Required<WireInterest> = { items: [], categories: [], cart: { value: 1 }, searches: 0, terms: [] };
    const item: Required<InterestItem> = { item_id: 'a', name: '', variant: '', price: 0, currency: '', views: 0, adds: 0, in_cart: false };
    const order: Required<NonNullable<BeaconV2['order']>> = { id: '', value: 0, currency: '' };
    const sorted = (value: object) => Object.keys(value).sort();
    expect(sorted(schemaV2.properties)).toEqual(sorted(event));
    expect(sorted(schemaV2.properties.interest.properties)).toEqual(sorted(interest));
    expect(sorted(schemaV2.properties.interest.properties.items.items.properties)).toEqual(sorted(item));
    expect(sorted(schemaV2.properties.order.properties)).toEqual(sorted(order));
    expect(schemaV2.properties.type.enum.sort()).toEqual([...TYPES].sort());
    // Every v1 field is in v2.
    expect(sorted(schemaV1.properties).filter((key) => key !== 'v').every((key) => key in schemaV2.properties)).toBe(true);
  });
});
