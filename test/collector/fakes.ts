import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local servers that implement each destination's documented contract: the authentication header
 * (401 otherwise), the request's shape (400 otherwise), the success answer (webhook 200, Slack 200
 * "ok", HubSpot 200 for the upsert and 204 for the event, Klaviyo 202). A test scripts failures
 * in order: a status (with Retry-After as "429:30"), or "hang" (never answers: a timeout).
 */
export type Kind = 'webhook' | 'slack' | 'hubspot' | 'klaviyo';
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  json: any;
  /** What the fake answered. */
  status: number;
}
export interface Fake {
  url: string;
  kind: Kind;
  received: Received[];
  /** Answers for the next requests, in order. */
  script: (number | string)[];
  /** Per request, ms before answering. */
  delayMs: number;
  /** Requests being answered now, per idempotency key; and the most seen at once. */
  maxConcurrentPerKey: number;
  close(): Promise<void>;
}

export const HUBSPOT_TOKEN = 'pat-na1-test-token';
export const KLAVIYO_KEY = 'pk_test_private_key';

function contract(kind: Kind, request: IncomingMessage, body: string): { status: number; body: string; type?: string } {
  const json = (() => {
    try {
      return JSON.parse(body);
    } catch {
      return undefined;
    }
  })();
  if (request.method !== 'POST') return { status: 405, body: '' };
  switch (kind) {
    case 'webhook':
      return json ? { status: 200, body: 'ok' } : { status: 400, body: 'bad json' };
    case 'slack':
      if (!json || typeof json.text !== 'string') return { status: 400, body: 'no_text' };
      return { status: 200, body: 'ok', type: 'text/plain' };
    case 'hubspot':
      if (request.headers.authorization !== `Bearer ${HUBSPOT_TOKEN}`) return { status: 401, body: JSON.stringify({ status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' }) };
      if (request.url === '/crm/v3/objects/contacts/batch/upsert') {
        const input = json?.inputs?.[0];
        if (!input || input.idProperty !== 'email' || !input.id) return { status: 400, body: JSON.stringify({ status: 'error', category: 'VALIDATION_ERROR' }) };
        return { status: 200, body: JSON.stringify({ status: 'COMPLETE', results: [{ id: '101', properties: input.properties, new: true }] }) };
      }
      if (request.url === '/events/v3/send') return json?.eventName && json.uuid ? { status: 204, body: '' } : { status: 400, body: '{}' };
      return { status: 404, body: '' };
    case 'klaviyo':
      if (request.headers.authorization !== `Klaviyo-API-Key ${KLAVIYO_KEY}`) return { status: 401, body: JSON.stringify({ errors: [{ status: 401, code: 'not_authenticated' }] }) };
      if (!request.headers.revision) return { status: 400, body: JSON.stringify({ errors: [{ code: 'invalid', detail: 'revision header required' }] }) };
      if (request.url !== '/api/events') return { status: 404, body: '' };
      if (json?.data?.type !== 'event' || !json.data.attributes?.metric || !json.data.attributes?.profile) return { status: 400, body: '{}' };
      return { status: 202, body: '' };
  }
}

export async function startFake(kind: Kind): Promise<Fake> {
  const active = new Map<string, number>();
  const fake: Fake = {
    url: '',
    kind,
    received: [],
    script: [],
    delayMs: 0,
    maxConcurrentPerKey: 0,
    close: async () => undefined,
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const key = String(request.headers['webhook-id'] ?? body);
    active.set(key, (active.get(key) ?? 0) + 1);
    fake.maxConcurrentPerKey = Math.max(fake.maxConcurrentPerKey, active.get(key)!);
    try {
      if (fake.delayMs) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
      const scripted = fake.script.shift();
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      const record = (status: number): void => void fake.received.push({ path: request.url ?? '/', headers, body, json: safe(body), status });
      if (scripted === 'hang') {
        record(0);
        return; // never answers; the client's timeout ends it
      }
      if (scripted !== undefined) {
        const [status, retryAfter] = String(scripted).split(':');
        record(Number(status));
        response.writeHead(Number(status), retryAfter ? { 'retry-after': retryAfter } : {}).end(`scripted ${status}`);
        return;
      }
      const answer = contract(kind, request, body);
      record(answer.status);
      response.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' }).end(answer.body);
    } finally {
      active.set(key, active.get(key)! - 1);
    }
  };
  const server: Server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

const safe = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The requests a fake answered 2xx. */
export const delivered = (fake: Fake): Received[] => fake.received.filter((r) => r.status >= 200 && r.status < 300);
