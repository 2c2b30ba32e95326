import { describe, expect, it } from 'vitest';
import { newRecord, parseRecord, type VisitorRecord } from '../../src/engine/record';
import { parseRecord as parseRecordV1 } from '../fixtures/record-v1';
import { addToOutbox, CLAIM_TTL_MS, claimDue, isClaimable, nextDueAt, releaseClaims, renewClaims, settleEntry } from '../../src/transport/outbox';
import { beaconId, encodeBeacon, MAX_BEACON_BYTES, readAttribution, toSafeUrl, toStoredEvent, type BeaconV2 } from '../../src/transport/payload';
import { v1Beacon } from '../helpers/events';
import { backoffMs, DEFAULT_RETRY, judgeAttempt, parseRetryAfter } from '../../src/transport/retry';

const T0 = Date.UTC(2026, 5, 1);

const ITEMS = Array.from({ length: 5 }, (_, i) => ({ item_id: `P${i}`, name: `Product ${i}`, price: 10 + i, currency: 'EUR', views: 5 - i, adds: 0, in_cart: false }));

function beacon(overrides: Partial<BeaconV2> = {}): BeaconV2 {
  const stored = toStoredEvent(
    { visitorId: 'v-1', score: 52.857, rules: { add_to_cart: { count: 1, points: 20 } }, signals: { page_view: 3 }, visits: 2, firstSeen: T0 - 86_400_000, traits: { plan: 'pro' } },
    { type: 'qualified', at: T0, stage: { stage: 'mql', threshold: 50, n: 1, qualifiedAt: T0 }, interest: { items: ITEMS, categories: ['Mugs', 'Tea', 'Gifts'], cart: { value: 24, currency: 'EUR' }, searches: 2, terms: ['blue mug'] } },
    { site: 'shop.example', page: 'https://shop.example/cart', attribution: { landing: 'https://shop.example/?utm_source=x', utm_source: 'x' }, lib: 'leadscore@0.1.0' },
  );
  return { ...stored, sentAt: T0 + 10, offset: 10, ...overrides };
}

describe('retry policy', () => {
  it.each<[string, number, string | null, string]>([
    ['2xx', 204, null, 'done'],
    ['200', 200, null, 'done'],
    ['400 is final', 400, null, 'drop'],
    ['413 is final', 413, null, 'drop'],
    ['422 is final', 422, null, 'drop'],
    ['500 retries', 500, null, 'retry'],
    ['503 retries', 503, null, 'retry'],
    ['429 retries', 429, '5', 'retry'],
    ['network failure retries', 0, null, 'retry'],
    ['3xx that fetch could not follow retries', 302, null, 'retry'],
  ])('%s', (_, status, retryAfter, kind) => {
    expect(judgeAttempt({ status, retryAfter }, { attempts: 0, created: T0 }, { now: T0, random: () => 0.5 }).kind).toBe(kind);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(0, () => 0.5)).toBe(2000);
    expect(backoffMs(3, () => 0.5)).toBe(16_000);
    expect(backoffMs(3, () => 0)).toBe(8000);
    expect(backoffMs(3, () => 0.999)).toBe(Math.round(16_000 * 1.499));
    expect(backoffMs(40, () => 0.5)).toBe(DEFAULT_RETRY.maxDelayMs);
    const gaps = [0, 1, 2, 3, 4].map((attempt) => backoffMs(attempt, () => 0.5));
    expect(gaps).toEqual([...gaps].sort((a, b) => a - b));
  });

  it('honours Retry-After in seconds and as a date, capped, and ignores garbage', () => {
    const judge = (retryAfter: string, status = 429) =>
      judgeAttempt({ status, retryAfter }, { attempts: 0, created: T0 }, { now: T0, random: () => 0.5 });
    expect(judge('120')).toEqual({ kind: 'retry', delayMs: 120_000 });
    expect(judge(new Date(T0 + 60_000).toUTCString(), 503)).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(judge('999999')).toEqual({ kind: 'retry', delayMs: DEFAULT_RETRY.maxDelayMs });
    expect(judge('soon')).toEqual({ kind: 'retry', delayMs: 2000 });
    expect(parseRetryAfter(null, T0)).toBeNull();
    expect(parseRetryAfter(new Date(T0 - 5000).toUTCString(), T0)).toBe(0);
  });

  it('gives up after the attempt count and the age', () => {
    const policy = { ...DEFAULT_RETRY, maxAttempts: 3, maxAgeMs: 1000 };
    expect(judgeAttempt({ status: 500 }, { attempts: 2, created: T0 }, { now: T0, random: () => 0.5, policy }).kind).toBe('drop');
    expect(judgeAttempt({ status: 500 }, { attempts: 0, created: T0 }, { now: T0 + 1000, random: () => 0.5, policy }).kind).toBe('drop');
    expect(judgeAttempt({ status: 500 }, { attempts: 1, created: T0 }, { now: T0 + 999, random: () => 0.5, policy }).kind).toBe('retry');
  });
});

describe('payload', () => {
  it('has a stable idempotency id per visitor, stage and qualification', () => {
    expect(beacon().id).toBe(beaconId('v-1', 'mql', 1));
    expect(beaconId('v-1', 'mql', 2)).not.toBe(beaconId('v-1', 'mql', 1));
  });

  it('carries every v1 field, and the v2 type, time and interest', () => {
    const body = JSON.parse(encodeBeacon(beacon({ vitals: { lcp: 1200 } })));
    expect(Object.keys(body).sort()).toEqual(
      ['v', 'type', 'id', 'site', 'visitor', 'stage', 'threshold', 'score', 'n', 'rules', 'signals', 'visits', 'firstSeen', 'qualifiedAt', 'at', 'sentAt', 'offset', 'page', 'attribution', 'traits', 'interest', 'vitals', 'lib'].sort(),
    );
    expect(body).toMatchObject({ v: 2, type: 'qualified', score: 52.86, at: T0 });
  });

  it('names other events by visitor, type and key', () => {
    const stored = toStoredEvent(
      { visitorId: 'v-1', score: 40, rules: {}, signals: {}, visits: 3, firstSeen: T0, traits: {} },
      { type: 'purchased', key: 'o-1', at: T0 + 5, stage: { stage: 'mql', threshold: 50, n: 1, qualifiedAt: T0 }, interest: { items: [], categories: [], searches: 0 }, order: { id: 'o-1', value: 48 } },
      { site: 's', page: '', attribution: {}, lib: 'l' },
    );
    expect(stored).toMatchObject({ id: 'v-1.purchased.o-1', type: 'purchased', stage: 'mql', qualifiedAt: T0, at: T0 + 5, order: { id: 'o-1', value: 48 } });
  });

  it('still encodes a v1 beacon an older script queued', () => {
    const body = JSON.parse(encodeBeacon(v1Beacon()));
    expect(body.v).toBe(1);
    expect(body).not.toHaveProperty('interest');
  });

  it('is small for a typical visitor', () => {
    // With a full interest block (5 products, 3 categories, a cart and a search term).
    expect(new TextEncoder().encode(encodeBeacon(beacon())).length).toBeLessThan(1536);
  });

  it('trims an oversized beacon below the cap, keeping what identifies it', () => {
    const huge = beacon({
      traits: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${i}`, 'x'.repeat(200)])),
      signals: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`signal_name_number_${i}_${'y'.repeat(40)}`, i])),
      rules: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`rule_${i}_${'z'.repeat(40)}`, { count: i, points: i }])),
      attribution: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`utm_${i}`, 'a'.repeat(200)])),
    });
    const body = encodeBeacon(huge);
    expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(MAX_BEACON_BYTES);
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({ id: huge.id, stage: 'mql', visitor: 'v-1', score: 52.86, v: 2, type: 'qualified' });
    expect(Object.keys(parsed.rules).length).toBeGreaterThan(0);
    expect(Object.keys(parsed.rules)[0]).toMatch(/^rule_99_/);
    // The long tail of interest went first, the cart stays.
    expect(parsed.interest).toEqual({ items: [], categories: [], cart: { value: 24, currency: 'EUR' }, searches: 2 });
  });

  it('drops the long tail of interest first', () => {
    const wide = beacon({ traits: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`t${i}`, 'x'.repeat(200)])) });
    const full = new TextEncoder().encode(encodeBeacon(wide)).length;
    const parsed = JSON.parse(encodeBeacon(wide, full - 1));
    expect(parsed.interest.items.map((item: { item_id: string }) => item.item_id)).toEqual(['P0', 'P1', 'P2']);
    expect(parsed.interest.categories).toEqual(['Mugs', 'Tea', 'Gifts']);
    expect(parsed.interest).not.toHaveProperty('terms');
    expect(Object.keys(parsed.traits)).toHaveLength(5);
    expect(Object.keys(parsed.signals)).toEqual(['page_view']);
  });

  it('counts bytes, not characters', () => {
    const wide = beacon({ traits: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${i}`, '€'.repeat(200)])) });
    expect(new TextEncoder().encode(encodeBeacon(wide, 4096)).length).toBeLessThanOrEqual(4096);
  });

  it('strips queries except attribution parameters, and the hash', () => {
    expect(toSafeUrl('https://s.example/cart?email=a%40b.c&token=1&utm_source=g&gclid=9#x')).toBe('https://s.example/cart?utm_source=g&gclid=9');
    expect(toSafeUrl('https://s.example/p?q=secret', ['q'])).toBe('https://s.example/p?q=secret');
    expect(toSafeUrl('not a url')).toBe('');
  });

  it('reads first-visit attribution: landing, referrer origin from other sites, params', () => {
    expect(readAttribution('https://s.example/?utm_source=news&utm_campaign=fall&email=x', 'https://www.google.com/search?q=mugs')).toEqual({
      landing: 'https://s.example/?utm_source=news&utm_campaign=fall',
      utm_source: 'news',
      utm_campaign: 'fall',
      referrer: 'https://www.google.com',
    });
    expect(readAttribution('https://s.example/a', 'https://s.example/b')).toEqual({ landing: 'https://s.example/a' });
  });
});

describe('outbox claims', () => {
  const stored = () => {
    const { sentAt: _s, offset: _o, ...rest } = beacon();
    return rest;
  };

  it('queues a beacon claimed by the qualifying tab, once', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    addToOutbox(record, stored(), { now: T0, tab: 'B', page: 'p2' });
    expect(record.queue).toHaveLength(1);
    expect(record.queue[0]).toMatchObject({ claim: 'A', attempts: 0, next: T0 });
  });

  it('lets only one tab claim a due entry until the claim expires', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    expect(claimDue(record, { now: T0 + 1, tab: 'B' })).toEqual([]);
    expect(claimDue(record, { now: T0 + 1, tab: 'A' })).toHaveLength(1);
    // A died: after the TTL, B takes over, with the same id.
    const taken = claimDue(record, { now: T0 + CLAIM_TTL_MS + 2, tab: 'B' });
    expect(taken.map((entry) => entry.id)).toEqual([beacon().id]);
    expect(record.queue[0]!.claim).toBe('B');
  });

  it('keeps a renewed claim alive and lets an unrenewed one lapse within seconds', () => {
    expect(CLAIM_TTL_MS).toBeLessThanOrEqual(10_000);
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    renewClaims(record, 'A', T0 + CLAIM_TTL_MS);
    renewClaims(record, 'B', T0 + 2 * CLAIM_TTL_MS); // not B's to renew
    expect(isClaimable(record.queue[0]!, 'B', T0 + CLAIM_TTL_MS * 2)).toBe(false);
    expect(isClaimable(record.queue[0]!, 'B', T0 + CLAIM_TTL_MS * 2 + 1)).toBe(true);
  });

  it('treats a claim far in the future (clock went back) as expired, never as live forever', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0 + 86_400_000, tab: 'A', page: 'p1' });
    expect(claimDue(record, { now: T0, tab: 'B' })).toHaveLength(1);
  });

  it('removes a delivered or rejected entry and reschedules a retry, releasing the claim', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    settleEntry(record, beacon().id, { kind: 'retry', delayMs: 5000 }, { now: T0, tab: 'A' });
    expect(record.queue[0]).toMatchObject({ attempts: 1, next: T0 + 5000, claim: '' });
    expect(claimDue(record, { now: T0 + 4999, tab: 'B' })).toEqual([]);
    expect(claimDue(record, { now: T0 + 4999, tab: 'B', force: true })).toHaveLength(1);
    settleEntry(record, beacon().id, { kind: 'done' }, { now: T0, tab: 'B' });
    expect(record.queue).toEqual([]);
  });

  it('does not let a late settlement undo a takeover', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    claimDue(record, { now: T0 + CLAIM_TTL_MS + 1, tab: 'B' });
    settleEntry(record, beacon().id, { kind: 'retry', delayMs: 1000 }, { now: T0, tab: 'A' });
    expect(record.queue[0]).toMatchObject({ claim: 'B', attempts: 0 });
  });

  it('reports when the next entry is due', () => {
    const record = newRecord('v-1', T0);
    expect(nextDueAt(record, 'A')).toBeNull();
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    expect(nextDueAt(record, 'A')).toBe(T0);
    expect(nextDueAt(record, 'B')).toBe(T0 + CLAIM_TTL_MS);
    releaseClaims(record, 'A');
    expect(nextDueAt(record, 'B')).toBe(T0);
  });

  it('keeps the outbox bounded', () => {
    const record = newRecord('v-1', T0);
    for (let n = 1; n <= 15; n++) addToOutbox(record, { ...stored(), id: beaconId('v-1', 'mql', n), n }, { now: T0, tab: 'A', page: 'p' });
    expect(record.queue).toHaveLength(10);
  });

  it('adopts what a script from before v2 queued in `outbox`, once, and leaves that key an empty array', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    const { sentAt: _s, offset: _o, ...legacy } = v1Beacon({ id: 'v-1.hot.1', visitor: 'v-1', stage: 'hot' });
    const old = { id: legacy.id, beacon: legacy, created: T0, attempts: 2, next: T0, claim: '', claimAt: 0, page: 'p0' };
    const parsed = parseRecord({ ...record, outbox: [old, { ...record.queue[0] }] })!;
    expect(parsed.queue.map((entry) => [entry.id, entry.beacon.v])).toEqual([[beacon().id, 2], ['v-1.hot.1', 1]]);
    expect(parsed.outbox).toEqual([]);
    // A record written before v2 has no queue at all.
    const { queue: _q, ...before } = { ...record, outbox: [old] };
    expect(parseRecord(before)!.queue.map((entry) => entry.id)).toEqual(['v-1.hot.1']);
  });

  it('writes records a script from before v2 reads without losing our events, interest or what was told', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    record.interest.items.push({ item_id: 'MUG-1', views: 1, adds: 0, in_cart: false });
    record.heard = { identity: '', identified: 0, score: 52.86, scoreVisit: 0, orders: [] };
    const seenByOld = parseRecordV1(structuredClone(record)) as unknown as VisitorRecord;
    expect(seenByOld).not.toBeNull();
    // The old script writes back what it read: our keys are still there for the next new page.
    const back = parseRecord(seenByOld)!;
    expect(back.queue.map((entry) => entry.id)).toEqual([beacon().id]);
    expect(back.interest.items[0]!.item_id).toBe('MUG-1');
    expect(back.heard).toEqual(record.heard);
  });

  it('drops corrupt outbox entries on their own when the record is read', () => {
    const record = newRecord('v-1', T0);
    addToOutbox(record, stored(), { now: T0, tab: 'A', page: 'p1' });
    const corrupt = { ...record, queue: [...record.queue, { id: 'x' }, null, { ...record.queue[0], beacon: { v: 2 } }, { ...record.queue[0], attempts: -1 }] };
    const parsed = parseRecord(corrupt);
    expect(parsed).not.toBeNull();
    expect(parsed!.queue.map((entry) => entry.id)).toEqual([beacon().id]);
  });
});
