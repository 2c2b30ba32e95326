import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { collectorSuite, beaconIdsOf, openPage, readState, storePage, until, waitForSignals } from './harness.mjs';

const ATTRS = 'data-allow-automation data-endpoint="/collect" data-threshold="30"';
const QUALIFY = `leadscore('track', 'add_to_cart', { item_id: 'a' }); leadscore('track', 'add_to_cart', { item_id: 'b' });`;
const page = (queued, body = '', extra = {}) => storePage({ attributes: ATTRS, queued, body, ...extra });

describe('hostile pages in real Chromium', () => {
  const suite = collectorSuite(() => ({
      '/fetch-throws': page(`window.fetch = () => { throw new TypeError('wrapped'); }; ${QUALIFY}`),
      '/history-patched': page(
        `const before = history.pushState; history.pushState = function (...a) { window.hostCalls = (window.hostCalls || 0) + 1; return before.apply(this, a); };`,
        `<script>addEventListener('load', () => { const ours = history.pushState; history.pushState = function (...a) { window.hostCalls2 = (window.hostCalls2 || 0) + 1; ours.apply(this, a); return ours.apply(this, a); }; });</script>`,
      ),
      '/frozen': storePage({
        attributes: ATTRS,
        queued: `Object.freeze(Object.prototype); Object.freeze(Array.prototype); Object.freeze(Function.prototype); ${QUALIFY}`,
      }),
      '/strict-csp': {
        html: page(QUALIFY, '', { nonce: 'n0nce' }),
        headers: { 'content-security-policy': "default-src 'none'; script-src 'nonce-n0nce'; connect-src 'self'; style-src 'none'" },
      },
      '/trusted-types': {
        html: page(QUALIFY, '', { nonce: 'n0nce' }),
        headers: { 'content-security-policy': "script-src 'nonce-n0nce'; connect-src 'self'; require-trusted-types-for 'script'; trusted-types 'none'" },
      },
      '/throwing-listeners': page(
        `for (const type of ['click', 'submit', 'visibilitychange', 'pagehide']) { addEventListener(type, () => { throw new Error('host listener ' + type); }, true); }`,
        `<a id="go" href="/target">Checkout</a><button id="add" type="button">Add to cart</button>`,
      ),
      '/blocking': page(
        QUALIFY,
        `<a id="leave" href="/target">Leave</a><script>addEventListener('pagehide', () => { const end = Date.now() + 2000; while (Date.now() < end); });</script>`,
      ),
      // An old library's enumerable Object.prototype property; the page's path is a default high-value page.
      '/pricing': page(`Object.prototype.polluted = 'yes'; Array.prototype.extra = function () {};`),
      // A page whose timers never fire: queued promises must still settle.
      '/dead-timers': page(`window.setTimeout = () => 0; window.setInterval = () => 0;`),
      '/target': page(''),
    }));
  const received = suite.received;
  const ids = suite.ids;

  async function open(path) {
    const context = await suite.browser.newContext();
    const opened = await openPage(context);
    await opened.page.goto(suite.server.origin + path);
    return { context, ...opened };
  }

  it('an enumerable property on Object.prototype: rules with match still count', async () => {
    const { context, page, errors } = await open('/pricing');
    const state = await readState(page);
    assert.equal(state.rules.high_value_page?.count, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("a page whose setTimeout never fires: getState() and flush() settle", async () => {
    const { context, page, errors } = await open('/dead-timers');
    // A deadline on the Node side (the page's timers are dead): a hang is a hang, however slow the machine.
    const outcome = await Promise.race([
      page.evaluate(() => Promise.all([window.leadscore.getState(), window.leadscore.flush()]).then(([state]) => state.signals.page_view)),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 15_000)),
    ]);
    assert.equal(outcome, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a page whose fetch throws: scoring works, the beacon leaves by sendBeacon when the page goes', async () => {
    const { context, page, errors } = await open('/fetch-throws');
    assert.equal((await readState(page)).stage, 'mql');
    await page.goto(suite.server.origin + '/target');
    await until(() => received().length >= 1, { message: 'the beacon' });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('history.pushState patched before and after the snippet: host wrappers still called, no double counting, no recursion', async () => {
    const { context, page, errors } = await open('/history-patched');
    await readState(page);
    await page.evaluate(() => {
      for (let i = 0; i < 10; i++) history.pushState({}, '', `/route/${i}`);
    });
    const signals = await waitForSignals(page, (s) => s.page_view === 11);
    assert.equal(signals.page_view, 11);
    assert.deepEqual(await page.evaluate(() => [window.hostCalls, window.hostCalls2]), [20, 10]);
    assert.deepEqual(errors, []);
    await context.close();
  });

  for (const [title, path] of [
    ['frozen Object.prototype and Array.prototype: works, sends the beacon', '/frozen'],
    ['Trusted Types enforced: the production snippet works, sends the beacon', '/trusted-types'],
  ]) {
    it(title, async () => {
      const { context, page, errors } = await open(path);
      assert.equal((await readState(page)).stage, 'mql');
      await until(() => received().length === 1, { message: 'the beacon' });
      assert.deepEqual(errors, []);
      await context.close();
    });
  }

  it('strict CSP (nonce scripts, connect-src self, no styles): works, no violation, no eval in any bundle', async () => {
    const { context, page, errors } = await open('/strict-csp');
    const violations = [];
    page.on('console', (message) => /Content Security Policy/i.test(message.text()) && violations.push(message.text()));
    assert.equal((await readState(page)).stage, 'mql');
    await until(() => received().length === 1, { message: 'the beacon' });
    assert.deepEqual(violations, []);
    assert.deepEqual(errors, []);
    for (const file of ['dist/leadscore.js', 'dist/leadscore.lite.js', 'dist/leadscore.debug.js']) {
      const code = readFileSync(file, 'utf8');
      assert.ok(!/\beval\(|new Function\(|Function\(["'`]/.test(code), `${file} uses eval`);
    }
    await context.close();
  });


  it("the page's own listeners throw: capture and scoring still work", async () => {
    const context = await suite.browser.newContext();
    const { page } = await openPage(context);
    const ours = [];
    page.on('pageerror', (error) => !error.message.startsWith('host listener') && ours.push(error.message));
    await page.goto(suite.server.origin + '/throwing-listeners');
    await readState(page);
    await page.click('#add');
    await Promise.all([page.waitForURL('**/target'), page.click('#go')]);
    const signals = await waitForSignals(page, (s) => s.begin_checkout === 1);
    assert.equal(signals.page_view, 2);
    assert.deepEqual(ours, []);
    await context.close();
  });

  it('a page that blocks the main thread for 2 s while navigating: the beacon still arrives', async () => {
    const { context, page, errors } = await open('/blocking');
    assert.equal((await readState(page)).stage, 'mql');
    await Promise.all([page.waitForURL('**/target'), page.click('#leave')]);
    await until(() => received().length >= 1, { message: 'the beacon' });
    assert.equal(beaconIdsOf(suite.server.collector).size, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
