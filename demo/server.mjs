// `npm run demo`: a small store with the leadscore snippet (debug mode), the receiver at /collect
// storing leads in SQLite (demo/data/leads.sqlite), and a live dashboard at /dashboard.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBeaconHandler, toNodeListener } from '../dist/receiver/index.js';
import { openLeadDatabase } from './db.mjs';
import { PRODUCTS, renderPage } from './pages.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.map': 'application/json', '.css': 'text/css', '.html': 'text/html; charset=utf-8' };
const dbFile = process.env.DEMO_DB ?? join(ROOT, 'demo', 'data', 'leads.sqlite');
const db = await openLeadDatabase(dbFile);

/** Dashboards listening for new leads (server-sent events). */
const listeners = new Set();
const collect = toNodeListener(
  createBeaconHandler({
    // De-duplication happens in the database (PRIMARY KEY on the beacon id), not in memory.
    dedupe: false,
    onBeacon(beacon, { bot, receivedAt }) {
      if (!db.insert(beacon, { bot, receivedAt })) return;
      const lead = { ...beacon, bot, receivedAt };
      console.log(`[collect] ${beacon.stage} lead ${beacon.visitor} at ${beacon.score} points (${beacon.page})`);
      for (const send of listeners) send(lead);
    },
  }),
);

function serveFile(res, file) {
  if (!existsSync(file)) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path === '/collect') return collect(req, res);
  if (path === '/dashboard') return serveFile(res, join(ROOT, 'demo', 'public', 'dashboard.html'));
  if (path === '/dashboard.js') return serveFile(res, join(ROOT, 'demo', 'public', 'dashboard.js'));
  if (path === '/api/leads') return res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(db.leads()));
  if (path === '/api/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const send = (lead) => res.write(`event: lead\ndata: ${JSON.stringify(lead)}\n\n`);
    listeners.add(send);
    const ping = setInterval(() => res.write(': ping\n\n'), 25_000);
    req.on('close', () => {
      clearInterval(ping);
      listeners.delete(send);
    });
    return;
  }
  if (path.startsWith('/dist/') || path.startsWith('/node_modules/jquery/')) {
    const file = normalize(join(ROOT, path));
    return file.startsWith(ROOT) ? serveFile(res, file) : res.writeHead(404).end();
  }
  // The store's cart endpoints: Shopify-style AJAX, WooCommerce-style AJAX, and a classic form post.
  if (req.method === 'POST' && (path === '/cart/add' || path === '/cart/add.js')) {
    req.resume();
    return res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }
  if (req.method === 'POST' && url.searchParams.get('wc-ajax') === 'add_to_cart') {
    req.resume();
    return res.writeHead(200, { 'content-type': 'application/json' }).end('{"fragments":{},"cart_hash":"demo"}');
  }
  if (req.method === 'POST' && path === '/cart') {
    req.resume();
    return res.writeHead(303, { location: '/cart' }).end();
  }
  if (req.method === 'POST') {
    req.resume();
    return res.writeHead(303, { location: path + '?sent=1' }).end();
  }
  const html = renderPage(path, url);
  if (html === null) return res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end(renderPage('/404', url));
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
});

const port = Number(process.env.PORT ?? 8080);
server.listen(port, '127.0.0.1', () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  console.log(`leadscore demo store:  ${origin}/`);
  console.log(`qualified leads:       ${origin}/dashboard`);
  console.log(`lead database:         ${dbFile} (${db.count()} leads)`);
  console.log(`products: ${PRODUCTS.map((p) => p.slug).join(', ')}  (Ctrl+C to stop)`);
});
