import { parseBeacon, type LeadEvent } from '../../receiver/parse';
import { explainLead, type Formatters } from '../leads/explain';
import { foldEvent, isFlagged, type Lead } from '../leads/lead';
import type { EventType } from './config';
import type { StatusChange } from './plan';

/**
 * The facts every destination sends about one lead event, built from the stored lead (as it is at
 * delivery: an anonymous lead's held events go with the email it gave later) and the event. Pure.
 *
 * `LeadEventPayload` is also the webhook's body (schema `leadscore.webhook.v1`): flat, so Zapier,
 * Make and n8n map its fields without paths. Fields are added, never renamed, within a version.
 */
export interface LeadEventPayload {
  schema: 'leadscore.webhook.v1';
  /** `lead.qualified`, `lead.identified`, `lead.purchased`, `lead.stage`, `lead.score`, `lead.status_changed`. */
  type: EventType;
  /** The lead event's id: the same on every retry (also the `webhook-id` header). */
  id: string;
  /** When it happened, ISO 8601. */
  timestamp: string;
  /** True only for "send a test event". */
  test: boolean;
  lead_id: string;
  lead_url: string | null;
  site: string;
  visitor_id: string;
  email: string | null;
  name: string | null;
  stage: string;
  score: number;
  qualified_score: number;
  qualified_at: string;
  status: string;
  owner: string | null;
  /** The plain-language why, in English. */
  why: string;
  source: string;
  campaign: string | null;
  source_detail: string | null;
  landing_page: string | null;
  referrer: string | null;
  click_id: string | null;
  top_product: string | null;
  top_product_price: number | null;
  top_category: string | null;
  /** Product names (or ids), most engaged first, comma-separated. */
  products: string | null;
  cart_value: number | null;
  currency: string | null;
  visits: number;
  first_seen: string;
  last_seen: string;
  flagged: boolean;
  /** `lead.purchased`. */
  order_id: string | null;
  order_value: number | null;
  /** `lead.status_changed`. */
  status_from: string | null;
  status_to: string | null;
  changed_by: string | null;
}

const english: Formatters = {
  number: (value) => new Intl.NumberFormat('en').format(value),
  money: (value, currency) => {
    try {
      return currency ? new Intl.NumberFormat('en', { style: 'currency', currency }).format(value) : new Intl.NumberFormat('en').format(value);
    } catch {
      return `${value} ${currency ?? ''}`.trim();
    }
  },
};

const iso = (ms: number): string => {
  const date = new Date(Number.isFinite(ms) ? ms : 0);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
};
const CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'fbclid', 'msclkid', 'ttclid', 'li_fat_id', 'twclid', 'epik', 'sccid', 'dclid'];

export interface PayloadInput {
  type: EventType;
  eventId: string;
  lead: Lead;
  /** The stored beacon; null for a status change (or a test). */
  event: LeadEvent | null;
  change: StatusChange | null;
  halfLifeDays?: number;
  /** The dashboard's public URL, for links. */
  publicUrl: string | null;
  test?: boolean;
}

export function leadUrl(publicUrl: string | null, leadId: string): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/dashboard#/lead/${encodeURIComponent(leadId)}` : null;
}

export function buildPayload(input: PayloadInput): LeadEventPayload {
  const { lead, event, change } = input;
  const items = lead.interest?.items ?? [];
  const top = items[0];
  const cart = lead.interest?.cart;
  const attribution = lead.attribution ?? {};
  const clickKey = CLICK_IDS.find((key) => typeof attribution[key] === 'string');
  const name = typeof lead.traits?.name === 'string' ? lead.traits.name : null;
  const order = event && 'order' in event ? (event as { order?: { id?: string; value?: number; currency?: string } }).order : undefined;
  return {
    schema: 'leadscore.webhook.v1',
    type: input.type,
    id: input.eventId,
    timestamp: iso(change?.at ?? event?.at ?? lead.lastSeen),
    test: input.test === true,
    lead_id: lead.id,
    lead_url: leadUrl(input.publicUrl, lead.id),
    site: lead.site,
    visitor_id: lead.visitor,
    email: lead.email,
    name,
    stage: event?.stage ?? lead.stage,
    score: Math.round((event?.score ?? lead.score) * 10) / 10,
    qualified_score: lead.qualifiedScore,
    qualified_at: iso(lead.qualifiedAt),
    status: lead.status,
    owner: lead.owner,
    why: explainLead({ lead, halfLifeDays: input.halfLifeDays }, english).join(' '),
    source: lead.source,
    campaign: lead.campaign,
    source_detail: lead.via,
    landing_page: lead.landing,
    referrer: typeof attribution.referrer === 'string' ? attribution.referrer : null,
    click_id: clickKey ? `${clickKey}=${attribution[clickKey]}` : null,
    top_product: top ? (top.name ?? top.item_id) : null,
    top_product_price: typeof top?.price === 'number' ? top.price : null,
    top_category: lead.interest?.categories?.[0] ?? null,
    products: items.length ? items.map((item) => item.name ?? item.item_id).join(', ') : null,
    cart_value: cart && cart.value > 0 ? cart.value : null,
    currency: cart?.currency ?? order?.currency ?? lead.currency ?? top?.currency ?? null,
    visits: lead.visits,
    first_seen: iso(lead.firstSeen),
    last_seen: iso(lead.lastSeen),
    flagged: isFlagged(lead),
    order_id: order?.id ?? null,
    order_value: typeof order?.value === 'number' ? order.value : null,
    status_from: change?.from ?? null,
    status_to: change?.to ?? null,
    changed_by: change?.by ?? null,
  };
}

/** A believable lead for "send a test event", folded from a sample event like any other: marked `test: true` where it goes. */
export function sampleLead(now: number): Lead {
  const visitor = 'leadscore-test-visitor';
  const parsed = parseBeacon({
    v: 2,
    type: 'qualified',
    id: `${visitor}.mql.1`,
    site: 'test-site',
    visitor,
    stage: 'mql',
    threshold: 40,
    score: 52,
    n: 1,
    rules: { add_to_cart: { count: 1, points: 25 }, view_item: { count: 3, points: 15 }, repeat_visit: { count: 2, points: 12 } },
    signals: { add_to_cart: 1, view_item: 3, page_view: 6 },
    visits: 3,
    firstSeen: now - 3 * 86_400_000,
    qualifiedAt: now,
    at: now,
    sentAt: now,
    offset: 0,
    page: 'https://shop.example/cart',
    attribution: { landing: 'https://shop.example/?gclid=TeSt-gclid', gclid: 'TeSt-gclid', utm_source: 'google', utm_campaign: 'spring-sale' },
    traits: { email: 'leadscore-test@example.com', name: 'Test Lead' },
    interest: { items: [{ item_id: 'mug-blue', name: 'Blue stoneware mug', price: 24, currency: 'EUR', views: 3, adds: 1, in_cart: true }], categories: ['Mugs'], cart: { value: 48, currency: 'EUR' }, searches: 0 },
    lib: 'leadscore-test',
  });
  if (!parsed.ok) throw new Error(`the sample event is invalid: ${parsed.errors.join('; ')}`);
  return foldEvent(null, parsed.beacon, { receivedAt: now, bot: false, flags: [] });
}
