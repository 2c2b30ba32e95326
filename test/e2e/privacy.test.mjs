import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openPage, readState, startServer, storePage, until } from './harness.mjs';

const QUALIFY = `leadscore('track', 'add_to_cart', { item_id: 'a' }); leadscore('track', 'add_to_cart', { item_id: 'b' });`;
const STRICT_CSP = "default-src 'none'; script-src 'nonce-r4nd0m'; connect-src 'self'; style-src 'none'; img-src 'none'";

/** Counts every IndexedDB open and Web Storage access the page makes, before any script runs. */
const INSTRUMENT = () => {
  window.__storage = { idb: 0, local: 0 };
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (...args) {
    window.__storage.idb++;
    return open.apply(this, args);
  };
  for (const method of ['getItem', 'setItem', 'removeItem']) {
    const original = Storage.prototype[method];
    Storage.prototype[method] = function (...args) {
      window.__storage.local++;
      return original.apply(this, args);
    };
  }
};

describe('consent, privacy and debug mode in real Chromium', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer({
      '/required': storePage({ attributes: 'data-allow-automation data-endpoint="/collect" data-threshold="30" data-consent="required"', queued: QUALIFY }),
      '/debug-csp': {
        html: storePage({ nonce: 'r4nd0m', attributes: 'data-allow-automation data-debug data-threshold="15"', queued: `leadscore('track', 'add_to_cart');` }),
        headers: { 'content-security-policy': STRICT_CSP },
      },
      '/trusted-types': {
        html: storePage({ nonce: 'r4nd0m', attributes: 'data-allow-automation data-debug', queued: `leadscore('track', 'view_item');` }),
        headers: { 'content-security-policy': `${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types 'none'` },
      },
      '/gpc': storePage({ attributes: 'data-allow-automation data-endpoint="/collect" data-threshold="30"', queued: QUALIFY }),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('consent required: no IndexedDB, no Web Storage, no network before consent; then storage and one beacon', async () => {
    server.collector.requests.length = 0;
    const context = await browser.newContext();
    await context.addInitScript(INSTRUMENT);
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/required');
    const before = await readState(page);
    assert.equal(before.stage, 'mql', 'scores in memory for the page');
    assert.equal(before.storage, 'memory');
    await page.evaluate(() => window.dispatchEvent(new Event('pagehide')));
    assert.deepEqual(await page.evaluate(() => window.__storage), { idb: 0, local: 0 });
    assert.equal(server.collector.requests.length, 0);
    await page.evaluate(() => leadscore('consent', true));
    await until(() => server.collector.requests.length === 1, { message: 'the beacon after consent' });
    const after = await readState(page);
    assert.equal(after.storage, 'idb');
    assert.ok((await page.evaluate(() => window.__storage)).idb > 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('Global Privacy Control: no storage and no network', async () => {
    server.collector.requests.length = 0;
    const context = await browser.newContext();
    await context.addInitScript(INSTRUMENT);
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/gpc');
    const state = await readState(page);
    assert.equal(state.stage, 'mql');
    await page.evaluate(() => leadscore.flush());
    assert.equal((await page.evaluate(() => window.__storage)).idb, 0);
    assert.equal(server.collector.requests.length, 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('renders the debug panel under a strict Content-Security-Policy (nonce scripts, no inline styles)', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    const violations = [];
    page.on('console', (message) => /Content Security Policy/i.test(message.text()) && violations.push(message.text()));
    await page.goto(server.origin + '/debug-csp');
    await readState(page);
    await page.waitForSelector('[data-leadscore-panel]', { state: 'attached' });
    // The panel's shadow root is closed: read it the way DevTools does.
    const session = await context.newCDPSession(page);
    let text = '';
    await until(async () => {
      const { root } = await session.send('DOM.getDocument', { depth: -1, pierce: true });
      const texts = [];
      const walk = (node) => {
        if (node.nodeType === 3) texts.push(node.nodeValue);
        for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) walk(child);
      };
      walk(root);
      text = texts.join(' ');
      return text.includes('stage: mql');
    }, { message: 'the panel text' });
    assert.match(text, /leadscore debug/);
    assert.match(text, /score 21/);
    assert.match(text, /add_to_cart ×1/);
    assert.deepEqual(violations, []);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: 'test/e2e/.tmp/debug-panel.png' });
    await context.close();
  });

  it('falls back to console output with one clear message where Trusted Types forbid loading the debug build', async () => {
    const context = await browser.newContext();
    const { page } = await openPage(context);
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const warnings = [];
    page.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
    await page.goto(server.origin + '/trusted-types');
    const state = await readState(page);
    assert.equal(state.signals.view_item, 1);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(warnings.filter((w) => w.startsWith('[leadscore]')), ["[leadscore] the page's policy blocks the debug build; running without debug output"]);
    await context.close();
  });
});
