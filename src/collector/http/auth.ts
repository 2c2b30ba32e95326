import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LeadStore } from '../store/types';

/** Sessions last this long (8 hours of work). */
export const SESSION_MS = 8 * 3_600_000;
export const SESSION_COOKIE = 'leadscore_session';

const derive = (password: string, salt: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => scrypt(password, salt, 64, { N: 16_384, r: 8, p: 1 }, (error, key) => (error ? reject(error) : resolve(key))));

/**
 * The admin password, kept only as a scrypt hash (Node's own scrypt: a memory-hard KDF). The clear
 * text read from the environment is not kept. Every check runs the KDF and compares in constant time.
 */
export async function createPasswordCheck(password: string): Promise<(attempt: string) => Promise<boolean>> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt);
  return async (attempt) => timingSafeEqual(await derive(String(attempt).slice(0, 1024), salt), hash);
}

/** Constant-time equality of two texts: their SHA-256 digests compared, so not even the length leaks. */
export const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export const newToken = (): string => randomBytes(32).toString('base64url');

export function readCookie(request: IncomingMessage, name: string): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

export interface Principal {
  user: string;
  /** Cookie sessions need the CSRF token on state-changing requests; bearer tokens do not. */
  csrf: string | null;
}

/** The signed-in user of a request: a bearer token, or a session cookie backed by the database. */
export async function authenticate(request: IncomingMessage, store: LeadStore, apiToken: string | null, now: number): Promise<Principal | null> {
  const authorization = request.headers.authorization ?? '';
  if (authorization.startsWith('Bearer ')) {
    return apiToken && sameSecret(authorization.slice(7).trim(), apiToken) ? { user: 'api', csrf: null } : null;
  }
  const id = readCookie(request, SESSION_COOKIE);
  if (!id || id.length > 100) return null;
  const session = await store.readSession(id, now);
  return session ? { user: session.user, csrf: session.csrf } : null;
}

/** A cookie-authenticated request that changes state must carry the session's CSRF token. */
export function csrfOk(request: IncomingMessage, principal: Principal): boolean {
  if (principal.csrf === null) return true;
  const token = request.headers['x-csrf-token'];
  return typeof token === 'string' && sameSecret(token, principal.csrf);
}

export function sessionCookie(id: string, secure: boolean, maxAgeMs = SESSION_MS): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure ? '; Secure' : ''}`;
}
