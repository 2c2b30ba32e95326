import { toStoredEvent, type BeaconV1, type BeaconV2 } from '../../src/transport/payload';
import type { LeadEventType } from '../../src/types';

export const VISITOR = '2f1c9a4e-8d7b-4c6a-9e5f-1a2b3c4d5e6f';
export const QUALIFIED_AT = 1767484800000;

const keys: Record<LeadEventType, string | undefined> = { qualified: undefined, stage: undefined, identified: '1', purchased: '1001', score: '3' };

/** A v2 lead event as a client sends it. */
export function leadEvent(type: LeadEventType = 'qualified', overrides: Partial<BeaconV2> = {}): BeaconV2 {
  const stage = type === 'stage' ? { stage: 'hot', threshold: 100, n: 1, qualifiedAt: QUALIFIED_AT } : { stage: 'mql', threshold: 50, n: 1, qualifiedAt: QUALIFIED_AT };
  const at = type === 'qualified' || type === 'stage' ? QUALIFIED_AT : QUALIFIED_AT + 60_000;
  const stored = toStoredEvent(
    { visitorId: VISITOR, score: type === 'stage' ? 104.5 : 52.86, rules: { add_to_cart: { count: 1, points: 20 } }, signals: { page_view: 4, search: 1 }, visits: 2, firstSeen: 1767225600000, traits: type === 'identified' ? { email: 'ada@example.com' } : {} },
    {
      type,
      key: keys[type],
      at,
      stage,
      interest: { items: [{ item_id: 'MUG-1', name: 'Blue mug', price: 24, currency: 'EUR', views: 2, adds: 1, in_cart: true }], categories: ['Mugs'], cart: { value: 24, currency: 'EUR' }, searches: 1 },
      order: type === 'purchased' ? { id: '1001', value: 48, currency: 'EUR' } : undefined,
    },
    { site: 'shop.example', page: 'https://shop.example/cart', attribution: { landing: 'https://shop.example/' }, lib: 'leadscore@0.2.0' },
  );
  return { ...stored, sentAt: at + 500, offset: 500, ...overrides };
}

/** A v1 qualification beacon, as scripts before wire format v2 send it. */
export function v1Beacon(overrides: Partial<BeaconV1> = {}): BeaconV1 {
  return {
    v: 1,
    id: `${VISITOR}.mql.1`,
    site: 'shop.example',
    visitor: VISITOR,
    stage: 'mql',
    threshold: 50,
    score: 52.86,
    n: 1,
    rules: { add_to_cart: { count: 1, points: 20 } },
    signals: { page_view: 4 },
    visits: 2,
    firstSeen: 1767225600000,
    qualifiedAt: QUALIFIED_AT,
    sentAt: QUALIFIED_AT + 500,
    offset: 500,
    page: 'https://shop.example/cart',
    attribution: {},
    traits: {},
    lib: 'leadscore@0.1.0',
    ...overrides,
  };
}
