// `npm run demo`: a small store with the leadscore snippet (debug mode) and the collector in the
// same process: /collect storing leads in the embedded database (demo/data/), the API behind a
// login, and the collector's dashboard at /dashboard. The password is printed at start (or set
// LEADSCORE_ADMIN_PASSWORD).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCollector, createLogger, openStore, parseCollectorConfig } from '../dist/collector/index.js';
import { PRODUCTS, renderPage } from './pages.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.map': 'application/json', '.css': 'text/css', '.html': 'text/html; charset=utf-8' };
const folder = process.env.DEMO_DB ?? join(ROOT, 'demo', 'data');
const password = process.env.LEADSCORE_ADMIN_PASSWORD || randomBytes(9).toString('base64url');
const { config } = parseCollectorConfig({ file: { rateLimit: 10_000 }, env: { ...process.env, LEADSCORE_ADMIN_PASSWORD: password }, flags: { db: folder, log: 'pretty' } });
const store = await openStore(config.db);
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
  console.log(`products: ${PRODUCTS.map((p) => p.slug).join(', ')}  (Ctrl+C to stop)`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close();
    void collector.close().then(() => process.exit(0));
  });
}
