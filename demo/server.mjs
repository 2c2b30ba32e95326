// `npm run demo`: a small store with the leadscore snippet (debug mode) and the collector in the
// same process: /collect storing leads in the embedded database (demo/data/), the API behind a
// login, and the collector's dashboard at /dashboard. The password is printed at start (or set
// LEADSCORE_ADMIN_PASSWORD). A "team inbox" on its own port stands for the tools a team uses: the
// collector forwards every lead event to it as a signed webhook (Standard Webhooks), and it prints
// what it got after checking the signature, as a receiver should.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCollector, createLogger, openStore, parseCollectorConfig, toRoute } from '../dist/collector/index.js';
import { PRODUCTS, renderPage } from './pages.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.map': 'application/json', '.css': 'text/css', '.html': 'text/html; charset=utf-8' };
const folder = process.env.DEMO_DB ?? join(ROOT, 'demo', 'data');
const password = process.env.LEADSCORE_ADMIN_PASSWORD || randomBytes(9).toString('base64url');
const secret = 'whsec_' + randomBytes(24).toString('base64');
const inbox = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const id = String(req.headers['webhook-id']);
    const timestamp = String(req.headers['webhook-timestamp']);
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${id}.${timestamp}.${body}`).digest();
    const valid = String(req.headers['webhook-signature'] ?? '').split(' ').some((signature) => {
      const given = Buffer.from(signature.replace(/^v1,/, ''), 'base64');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!valid || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return res.writeHead(401).end('bad signature');
    const event = JSON.parse(body);
    console.log(`team inbox: ${event.type} · ${event.email ?? 'anonymous ' + event.visitor_id.slice(0, 8)} · score ${event.score} · ${event.why}`);
    res.writeHead(200).end('ok');
  });
});
await new Promise((resolve) => inbox.listen(0, '127.0.0.1', resolve));
const inboxUrl = `http://127.0.0.1:${inbox.address().port}/leads`;
const { config } = parseCollectorConfig({
  file: { rateLimit: 10_000, destinations: [{ type: 'webhook', name: 'team-inbox', url: inboxUrl, secret: 'env:DEMO_WEBHOOK_SECRET' }] },
  env: { ...process.env, LEADSCORE_ADMIN_PASSWORD: password, DEMO_WEBHOOK_SECRET: secret },
  flags: { db: folder, log: 'pretty' },
});
const store = await openStore(config.db, { routes: config.destinations.map(toRoute) });
const collector = await createCollector({ config, store, log: createLogger('pretty'), scripts: join(ROOT, 'dist'), version: 'demo' });
const COLLECTOR_PATHS = /^\/(collect|healthz|login|dashboard)$|^\/(api|s|dashboard)\//;

function serveFile(res, file) {
  if (!existsSync(file)) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (COLLECTOR_PATHS.test(path)) return collector.handle(req, res);
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
const count = async () => {
  let total = 0;
  let cursor;
  do {
    const page = await store.list({ limit: 500, cursor });
    total += page.leads.length;
    cursor = page.next;
  } while (cursor);
  return total;
};
server.listen(port, '127.0.0.1', async () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  console.log(`leadscore demo store:  ${origin}/`);
  console.log(`qualified leads:       ${origin}/dashboard  (password: ${process.env.LEADSCORE_ADMIN_PASSWORD ? 'LEADSCORE_ADMIN_PASSWORD' : password})`);
  console.log(`lead database:         ${folder} (${await count()} leads)`);
  console.log(`team inbox (webhook):  ${inboxUrl}  (every lead event, signed; see Deliveries in the dashboard)`);
  console.log(`products: ${PRODUCTS.map((p) => p.slug).join(', ')}  (Ctrl+C to stop)`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close();
    inbox.close();
    void collector.close().then(() => process.exit(0));
  });
}
