// Browser-test harness: a local server for dist/ and test pages, a collector that records every
// request, and Debian's Chromium driven by playwright-core. Never downloads a browser.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, beforeEach } from 'node:test';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TYPES = { '.js': 'text/javascript', '.map': 'application/json', '.html': 'text/html', '.json': 'application/json' };

/**
 * Starts the server. `pages` maps a path to HTML (or a function of the request returning HTML);
 * `/dist/*` serves the built files; `/collect` records requests and answers `collector.status`.
 */
export async function startServer(pages = {}, handlers = {}) {
  const requests = [];
  /** `script`: statuses (or { status, headers }) for the next requests, then `status`. */
  const collector = { requests, status: 204, script: [] };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    const handler = handlers[`${req.method} ${url.pathname}`];
    if (handler) {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => handler({ req, res, url, body }));
      return;
    }
    if (url.pathname === '/collect-redirect') return res.writeHead(307, { location: '/collect', 'access-control-allow-origin': '*' }).end();
    if (url.pathname === '/collect') {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        collector.lastAt = Date.now();
        requests.push({ method: req.method, headers: req.headers, body, time: Date.now() });
        const next = collector.script.length ? collector.script.shift() : collector.status;
        // 'drop': the connection dies (endpoint down); { delay }: a slow endpoint.
        if (next === 'drop') return req.socket.destroy();
        const { status, headers = {}, delay = 0 } = typeof next === 'number' ? { status: next } : next;
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(status, { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Retry-After', ...headers }).end();
        }, delay);
      });
      return;
    }
    if (url.pathname.startsWith('/dist/') || url.pathname.startsWith('/node_modules/')) {
      const file = normalize(join(ROOT, url.pathname));
      const allowed = file.startsWith(join(ROOT, 'dist')) || file.startsWith(join(ROOT, 'node_modules'));
      if (!allowed || !existsSync(file)) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      return res.end(readFileSync(file));
    }
    const page = pages[url.pathname];
    if (page === undefined) return res.writeHead(404, { 'content-type': 'text/html' }).end('<!doctype html><title>404</title>');
    const value = typeof page === 'function' ? page(req, url) : page;
    const { html, headers = {} } = typeof value === 'string' ? { html: value } : value;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, collector, close: () => new Promise((resolve) => server.close(resolve)) };
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A new page that records page errors and console errors; `errors` must stay empty. */
export async function openPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The browser's own log of a failed request is the page's business (a sold-out 422, a 404).
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console.error: ${message.text()}`);
  });
  return { page, errors };
}

/**
 * Records the page's uncaught errors and unhandled rejections in `window.__errors`: classic
 * WebDriver (WebKit) has no console access, so every engine reads them from the page. Not
 * enumerable: the global-leak test counts enumerable globals.
 */
export const ERROR_RECORDER = `<script>Object.defineProperty(window, '__errors', { value: [] }); addEventListener('error', (e) => __errors.push('error: ' + e.message)); addEventListener('unhandledrejection', (e) => __errors.push('unhandledrejection: ' + String(e.reason)));</script>`;

/** A store page with the documented stub, optional queued calls and the script tag. */
export function storePage({ attributes = 'data-allow-automation', queued = '', body = '', script = 'leadscore.js', nonce = '' } = {}) {
  const n = nonce ? ` nonce="${nonce}"` : '';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Test store</title>
${ERROR_RECORDER.replace('<script>', `<script${n}>`)}
<script${n}>
window.leadscore = window.leadscore || function () { (leadscore.q = leadscore.q || []).push(arguments) };
${queued}
</script>
<script async${n} src="/dist/${script}" ${attributes}></script>
</head><body>${body}</body></html>`;
}

/** Waits until the script booted (the stub was replaced) and returns the state. */
export async function readState(page) {
  await page.waitForFunction(() => typeof window.leadscore?.getState === 'function');
  return page.evaluate(() => window.leadscore.getState());
}

/** An import map so pages can import the npm build (dist/index.js) with its bare dependencies. */
export const IMPORT_MAP = `<script type="importmap">${JSON.stringify({
  imports: {
    'idb-keyval': '/node_modules/idb-keyval/dist/index.js',
    'web-vitals': '/node_modules/web-vitals/dist/web-vitals.js',
  },
})}</script>`;

/**
 * Polls `leadscore.getState()` until `predicate(signals)` holds; returns the signals. Fails with the
 * last state after `timeout` ms. (page.waitForFunction does not await async predicates.)
 */
export async function waitForSignals(page, predicate, { timeout = 10_000 } = {}) {
  const deadline = Date.now() + timeout;
  let signals;
  for (;;) {
    signals = (await readState(page)).signals;
    if (predicate(signals)) return signals;
    if (Date.now() > deadline) throw new Error(`waitForSignals timed out; last signals: ${JSON.stringify(signals)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls until `condition()` holds (Node side). */
export async function until(condition, { timeout = 10_000, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The beacons a collector received, and their distinct idempotency ids. */
export const beaconsOf = (collector) => collector.requests.filter((request) => request.method === 'POST');
export const beaconIdsOf = (collector) => new Set(beaconsOf(collector).map((request) => JSON.parse(request.body).id));

/**
 * The common suite set-up: a server with `pages` (a function, so pages may use the origin) and
 * handlers, one browser, and a collector reset before each test. Returns live accessors.
 */
export function collectorSuite(pages, handlers = {}) {
  const suite = { server: null, browser: null };
  before(async () => {
    suite.server = await startServer(typeof pages === 'function' ? pages() : pages, handlers);
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  let endedAt = 0;
  afterEach(() => {
    endedAt = Date.now();
  });
  beforeEach(async () => {
    // Closing the previous test's pages hands their outbox to sendBeacon: let those requests land
    // (the collector quiet for 300 ms after that test ended) before counting this test's.
    const collector = suite.server.collector;
    await until(() => Date.now() - Math.max(endedAt, collector.lastAt ?? 0) >= 300, { message: 'a quiet collector' });
    collector.requests.length = 0;
    collector.script.length = 0;
    collector.status = 204;
  });
  suite.received = () => beaconsOf(suite.server.collector);
  suite.ids = () => beaconIdsOf(suite.server.collector);
  return suite;
}

/** The stored beacon outbox of the page's visitor (read straight from IndexedDB). */
export function readOutbox(page) {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        const open = indexedDB.open('leadscore');
        open.onerror = () => resolve([]);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('kv')) return resolve([]), db.close();
          const request = db.transaction('kv').objectStore('kv').get('visitor.v1');
          request.onsuccess = () => (resolve(request.result?.queue ?? []), db.close());
          request.onerror = () => (resolve([]), db.close());
        };
      }),
  );
}

/** Waits until the page has settled its first delivery attempt (so a fake-clock jump cannot time it out). */
export const untilFirstAttemptSettled = (page) =>
  until(async () => {
    const outbox = await readOutbox(page);
    return outbox.length === 0 || outbox[0].attempts >= 1;
  }, { message: 'the first attempt to be settled' });

/**
 * A suite on the storefront pages: one server and browser for the suite; `open(path)` gives a new
 * context and page with a fake clock, the snippet booted.
 */
export function storefrontSuite(pages, handlers) {
  const suite = { server: null, browser: null };
  before(async () => {
    suite.server = await startServer(pages, handlers);
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  suite.open = async (path) => {
    const context = await suite.browser.newContext();
    const { page, errors } = await openPage(context);
    await page.clock.install();
    await page.goto(suite.server.origin + path);
    await readState(page);
    return { context, page, errors };
  };
  return suite;
}
