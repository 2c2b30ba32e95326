import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { TrustProxy } from '../config';

/**
 * Who is asking: the socket's address, or, only through a configured `trustProxy`, an address from
 * X-Forwarded-For read from the right (the part a trusted proxy appended). A client-supplied
 * header is never trusted by default: without a proxy every rotating value is the same socket.
 */
export function clientAddress(request: IncomingMessage, trust: TrustProxy): string {
  const socket = normalize(request.socket.remoteAddress ?? 'unknown');
  if (!trust) return socket;
  const header = request.headers['x-forwarded-for'];
  const chain = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((part) => normalize(part.trim())).filter(Boolean);
  if ('hops' in trust) {
    // With N proxies in front, the client is the Nth address from the right (the socket is the last proxy).
    const all = [...chain, socket];
    return all[Math.max(0, all.length - 1 - trust.hops)] ?? socket;
  }
  const proxies = toBlockList(trust.cidrs);
  if (!isTrusted(proxies, socket)) return socket;
  // Walk from the right past trusted proxies; the first untrusted address is the client.
  for (let i = chain.length - 1; i >= 0; i--) if (!isTrusted(proxies, chain[i]!)) return chain[i]!;
  return chain[0] ?? socket;
}

const normalize = (address: string): string => address.replace(/^::ffff:(?=\d+\.)/, '');

const lists = new Map<string, BlockList>();
function toBlockList(cidrs: string[]): BlockList {
  const key = cidrs.join(',');
  let list = lists.get(key);
  if (list) return list;
  list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/');
    const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, Number(bits), family);
  }
  lists.set(key, list);
  return list;
}
function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * A fixed-window counter per key, bounded: at most `maxKeys` keys are remembered (the least recently
 * seen go first), so a flood of distinct keys costs bounded memory. Returns the seconds to wait when
 * over `max`, else null.
 */
export function createLimiter({ max, windowMs = 60_000, maxKeys = 50_000, now = Date.now }: { max: number; windowMs?: number; maxKeys?: number; now?: () => number }) {
  const counters = new Map<string, { start: number; count: number }>();
  return (key: string, cost = 1): number | null => {
    const time = now();
    let counter = counters.get(key);
    if (!counter || time - counter.start >= windowMs) counter = { start: time, count: 0 };
    counters.delete(key);
    counters.set(key, counter);
    if (counters.size > maxKeys) counters.delete(counters.keys().next().value!);
    counter.count += cost;
    return counter.count > max ? Math.max(1, Math.ceil((counter.start + windowMs - time) / 1000)) : null;
  };
}
