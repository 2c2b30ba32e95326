import type { ServerResponse } from 'node:http';

/**
 * Live updates for dashboards (server-sent events). Bounded: at most `max` streams; a client that
 * stops reading is dropped once its unsent data passes `maxBuffered` bytes, so memory stays flat
 * whatever the clients do; a comment line every `heartbeatMs` keeps proxies from closing idle streams.
 */
export function createStreams({ max, maxBuffered = 64 * 1024, heartbeatMs = 15_000 }: { max: number; maxBuffered?: number; heartbeatMs?: number }) {
  const clients = new Set<ServerResponse>();
  const drop = (client: ServerResponse): void => {
    clients.delete(client);
    client.destroy();
  };
  const send = (client: ServerResponse, text: string): void => {
    if (client.writableLength > maxBuffered) return drop(client);
    client.write(text);
  };
  const heartbeat = setInterval(() => {
    for (const client of clients) send(client, ': ping\n\n');
  }, heartbeatMs);
  heartbeat.unref();
  return {
    /** Opens a stream, or answers 503 when full. */
    open(response: ServerResponse): boolean {
      if (clients.size >= max) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' }).end('{"errors":["too many live connections"]}');
        return false;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      response.write(': connected\n\n');
      clients.add(response);
      response.on('close', () => clients.delete(response));
      return true;
    },
    publish(event: string, data: unknown): void {
      const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const client of clients) send(client, text);
    },
    get size(): number {
      return clients.size;
    },
    close(): void {
      clearInterval(heartbeat);
      for (const client of clients) drop(client);
    },
  };
}
