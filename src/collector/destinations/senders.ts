import { createHash, createHmac } from 'node:crypto';
import type { Destination, HubspotDestination, KlaviyoDestination, SlackDestination, WebhookDestination } from './config';
import type { LeadEventPayload } from './payload';

/**
 * One destination's requests for one lead event: pure builders (the dispatcher sends them). Each
 * carries the destination's own idempotency key, the same on every retry: `webhook-id`, HubSpot's
 * event `uuid`, Klaviyo's `unique_id`. A job with several requests (HubSpot: the contact, then
 * the event) is done when all answered 2xx; a retry repeats them all, each idempotent.
 */
export interface HttpRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

// ---------- webhook (Standard Webhooks) ----------

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret, space-separated (rotation: several). */
export function signWebhook(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets
    .map((secret) => 'v1,' + createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestampSeconds}.${body}`).digest('base64'))
    .join(' ');
}

export function webhookRequest(destination: WebhookDestination, payload: LeadEventPayload, now: number): HttpRequest {
  const body = JSON.stringify(payload);
  // Signed at each attempt: receivers refuse timestamps older than a few minutes.
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    ...destination.headers,
    'content-type': 'application/json',
    'user-agent': 'leadscore-collector',
    'webhook-id': payload.id,
    'webhook-timestamp': String(timestamp),
  };
  if (destination.secrets.length) headers['webhook-signature'] = signWebhook(destination.secrets, payload.id, timestamp, body);
  return { url: destination.url, method: 'POST', headers, body };
}

// ---------- Slack ----------

/** Slack mrkdwn: `&`, `<` and `>` are control characters; anything else shows as typed. */
export const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (text: string, max: number): string => (text.length > max ? text.slice(0, max - 1) + '…' : text);

const SOURCE_WORDS: Record<string, string> = {
  paid_search: 'paid search',
  paid_social: 'paid social',
  display: 'display ads',
  email: 'email',
  affiliate: 'an affiliate',
  organic_search: 'organic search',
  organic_social: 'social media',
  referral: 'a referral',
  direct: 'direct',
};

const HEADLINES: Record<string, string> = {
  'lead.qualified': 'New qualified lead',
  'lead.identified': 'A lead gave an email',
  'lead.purchased': 'A lead bought',
  'lead.stage': 'A lead reached a new stage',
  'lead.score': "A lead's score rose",
  'lead.status_changed': "A lead's status changed",
};

export function slackMessage(payload: LeadEventPayload): { text: string; blocks: unknown[] } {
  const who = payload.email ?? `Anonymous visitor ${payload.visitor_id.slice(0, 8)}`;
  const source = `${SOURCE_WORDS[payload.source] ?? payload.source}${payload.campaign ? ` (${payload.campaign})` : ''}`;
  const wants = payload.top_product ? `${payload.top_product}${payload.cart_value ? `, cart ${payload.cart_value}${payload.currency ? ' ' + payload.currency : ''}` : ''}` : null;
  const headline = `${payload.test ? '[test] ' : ''}${HEADLINES[payload.type] ?? payload.type}`;
  const status = payload.type === 'lead.status_changed' ? ` ${payload.status_from} → ${payload.status_to} by ${payload.changed_by}.` : '';
  // The fallback: notifications, screen readers and clients without blocks read this.
  const text = cut(
    `${headline}: ${who}, score ${payload.score} (${payload.stage}).${status} ${payload.why}${wants ? ` Wants: ${wants}.` : ''} Source: ${source}.${payload.lead_url ? ` ${payload.lead_url}` : ''}`,
    3000,
  );
  const fields = [`*Score*\n${payload.score} (${slackEscape(payload.stage)})`, `*Source*\n${slackEscape(source)}`];
  if (wants) fields.push(`*Wants*\n${slackEscape(cut(wants, 200))}`);
  fields.push(`*Site*\n${slackEscape(payload.site)}`);
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: cut(`*${slackEscape(headline)}:* ${slackEscape(who)}${slackEscape(status)}`, 3000) } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(slackEscape(payload.why), 3000) }, fields: fields.map((field) => ({ type: 'mrkdwn', text: cut(field, 2000) })) },
  ];
  if (payload.lead_url) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the lead' }, url: payload.lead_url }] });
  return { text, blocks };
}

export function slackRequest(destination: SlackDestination, payload: LeadEventPayload): HttpRequest {
  return { url: destination.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(slackMessage(payload)) };
}

// ---------- HubSpot ----------

/** A stable UUID from any text (the event id): HubSpot's event `uuid` is the same on every retry. */
export function uuidFrom(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The contact properties written (create them in HubSpot first; see docs/destinations/hubspot.md). */
export function hubspotProperties(payload: LeadEventPayload): Record<string, string> {
  const properties: Record<string, string> = {
    email: payload.email ?? '',
    leadscore_score: String(payload.score),
    leadscore_stage: payload.stage,
    leadscore_why: cut(payload.why, 65_000),
    leadscore_source: payload.source,
    leadscore_status: payload.status,
  };
  if (payload.campaign) properties.leadscore_campaign = payload.campaign;
  if (payload.top_product) properties.leadscore_top_product = cut(payload.top_product, 1000);
  if (payload.lead_url) properties.leadscore_lead_url = payload.lead_url;
  return properties;
}

export function hubspotRequests(destination: HubspotDestination, payload: LeadEventPayload): HttpRequest[] {
  const headers = { authorization: `Bearer ${destination.token}`, 'content-type': 'application/json' };
  const email = payload.email ?? '';
  const requests: HttpRequest[] = [
    {
      url: `${destination.baseUrl}/crm/v3/objects/contacts/batch/upsert`,
      method: 'POST',
      headers,
      body: JSON.stringify({ inputs: [{ id: email, idProperty: 'email', properties: hubspotProperties(payload) }] }),
    },
  ];
  if (destination.eventName) {
    const properties: Record<string, string | number> = { leadscore_event_type: payload.type, leadscore_score: payload.score, leadscore_stage: payload.stage, leadscore_source: payload.source };
    if (payload.top_product) properties.leadscore_top_product = cut(payload.top_product, 1000);
    if (payload.cart_value !== null) properties.leadscore_cart_value = payload.cart_value;
    requests.push({
      url: `${destination.baseUrl}/events/v3/send`,
      method: 'POST',
      headers,
      body: JSON.stringify({ eventName: destination.eventName, email, uuid: uuidFrom(payload.id), occurredAt: payload.timestamp, properties }),
    });
  }
  return requests;
}

// ---------- Klaviyo ----------

export function klaviyoRequest(destination: KlaviyoDestination, payload: LeadEventPayload, items: unknown[]): HttpRequest {
  const value = payload.type === 'lead.purchased' ? (payload.order_value ?? payload.cart_value) : payload.cart_value;
  const attributes: Record<string, unknown> = {
    properties: {
      score: payload.score,
      stage: payload.stage,
      why: payload.why,
      source: payload.source,
      campaign: payload.campaign,
      top_product: payload.top_product,
      top_category: payload.top_category,
      items,
      site: payload.site,
      lead_id: payload.lead_id,
      lead_url: payload.lead_url,
      status: payload.status,
      test: payload.test,
      ...(payload.order_id ? { order_id: payload.order_id } : {}),
      ...(payload.status_to ? { status_from: payload.status_from, status_to: payload.status_to } : {}),
    },
    time: payload.timestamp,
    // Klaviyo de-duplicates on unique_id: a retry after an unknown outcome is harmless.
    unique_id: payload.id,
    metric: { data: { type: 'metric', attributes: { name: destination.metrics[payload.type] } } },
    profile: { data: { type: 'profile', attributes: { email: payload.email } } },
  };
  if (typeof value === 'number') {
    attributes.value = value;
    if (payload.currency) attributes.value_currency = payload.currency;
  }
  return {
    url: `${destination.baseUrl}/api/events`,
    method: 'POST',
    headers: {
      authorization: `Klaviyo-API-Key ${destination.apiKey}`,
      revision: destination.revision,
      accept: 'application/vnd.api+json',
      'content-type': 'application/vnd.api+json',
    },
    body: JSON.stringify({ data: { type: 'event', attributes } }),
  };
}

/** Every request of one attempt, in order. */
export function requestsFor(destination: Destination, payload: LeadEventPayload, items: unknown[], now: number): HttpRequest[] {
  switch (destination.type) {
    case 'webhook':
      return [webhookRequest(destination, payload, now)];
    case 'slack':
      return [slackRequest(destination, payload)];
    case 'hubspot':
      return hubspotRequests(destination, payload);
    case 'klaviyo':
      return [klaviyoRequest(destination, payload, items)];
  }
}
