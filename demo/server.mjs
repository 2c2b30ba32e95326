// `npm run demo`: a small local store with the snippet in debug mode and a collector that prints
// what it receives. Issue #6 grows this into the full demo (SQLite, live dashboard).
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PUBLIC = join(ROOT, 'demo', 'public');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.map': 'application/json', '.css': 'text/css' };
const port = Number(process.env.PORT ?? 8080);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/collect' && req.method === 'POST') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      console.log(`[collect] ${new Date().toISOString()} ${body.slice(0, 500)}`);
      res.writeHead(204).end();
    });
    return;
  }
  const base = url.pathname.startsWith('/dist/') ? ROOT : PUBLIC;
  let path = url.pathname.endsWith('/') ? url.pathname + 'index.html' : url.pathname;
  if (!extname(path)) path += '.html';
  const file = normalize(join(base, path));
  if (!file.startsWith(base) || !existsSync(file)) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  res.end(readFileSync(file));
});
server.listen(port, '127.0.0.1', () => {
  console.log(`leadscore demo store: http://127.0.0.1:${server.address().port}/  (Ctrl+C to stop)`);
});
