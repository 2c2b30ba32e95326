import Ajv2020 from 'ajv/dist/2020.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { collectorSuite, openPage, readState, storePage, until, untilFirstAttemptSettled } from './harness.mjs';

const schema = JSON.parse(readFileSync(new URL('../../schema/beacon.v2.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(schema);

// Two cart adds are 40 points: over the threshold of 30 used here.
const QUALIFY = `leadscore('track', 'add_to_cart', { item_id: 'a' }); leadscore('track', 'add_to_cart', { item_id: 'b' });`;
const ATTRS = 'data-allow-automation data-endpoint="/collect" data-threshold="30"';

describe('qualification beacon in real Chromium', () => {
  const suite = collectorSuite(() => ({
      '/qualify': storePage({ attributes: ATTRS, queued: QUALIFY }),
      '/idle': storePage({ attributes: ATTRS }),
      '/prototype': storePage({
        attributes: ATTRS,
        queued: `Array.prototype.toJSON = function () { return '"[' + this.join(',') + ']"'; }; ${QUALIFY}`,
      }),
      '/click-full': storePage({ attributes: ATTRS, body: `<button onclick="${QUALIFY.replace(/"/g, '&quot;')}">Buy</button>` }),
      '/click-lite': storePage({ script: 'leadscore.lite.js', attributes: ATTRS, body: `<button onclick="${QUALIFY.replace(/"/g, '&quot;')}">Buy</button>` }),
      '/blocked-fetch': storePage({
        attributes: ATTRS,
        queued: `window.fetch = () => new Promise(() => {}); ${QUALIFY}`,
      }),
    }));
  const received = suite.received;
  const ids = suite.ids;

  async function open(path, context) {
    context ??= await suite.browser.newContext();
    const { page, errors } = await openPage(context);
    await page.clock.install();
    await page.goto(suite.server.origin + path);
    return { context, page, errors };
  }

  it('keeps the stored record and outbox keys through the minified build (property mangling touches internal names only)', async () => {
    const { context, page } = await open('/qualify');
    await readState(page); // the record is written
    const record = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const open = indexedDB.open('leadscore');
          open.onerror = () => resolve({});
          open.onsuccess = () => {
            const request = open.result.transaction('kv').objectStore('kv').get('visitor.v1');
            request.onsuccess = () => resolve(request.result ?? {});
            request.onerror = () => resolve({});
          };
        }),
    );
    assert.deepEqual(Object.keys(record).sort(), ['attribution', 'firstSeen', 'heard', 'id', 'interest', 'lastSeen', 'outbox', 'queue', 'recent', 'rules', 'seen', 'sessionStart', 'signals', 'stages', 'traits', 'version', 'visits']);
    assert.deepEqual(record.outbox, []);
    assert.deepEqual(Object.keys(record.heard).sort(), ['identified', 'identity', 'orders', 'score', 'scoreVisit']);
    assert.deepEqual(Object.keys(record.interest).sort(), ['cart', 'categories', 'items', 'terms']);
    assert.deepEqual(Object.keys(record.interest.items[0]).sort(), ['adds', 'in_cart', 'item_id', 'views']);
    if (record.queue.length) assert.deepEqual(Object.keys(record.queue[0]).sort(), ['attempts', 'beacon', 'claim', 'claimAt', 'created', 'id', 'next', 'page']);
    await context.close();
  });

  it('sends one text/plain beacon that validates against schema v2', async () => {
    const { context, page, errors } = await open('/qualify');
    await until(() => received().length === 1, { message: 'the beacon' });
    const [request] = received();
    assert.equal(request.headers['content-type'], 'text/plain;charset=UTF-8');
    assert.equal(request.headers.cookie, undefined);
    const body = JSON.parse(request.body);
    assert.ok(validate(body), JSON.stringify(validate.errors));
    const state = await readState(page);
    assert.equal(body.id, `${state.visitorId}.mql.1`);
    assert.equal(body.type, 'qualified');
    assert.equal(body.page, suite.server.origin + '/qualify');
    assert.ok(body.vitals === undefined || typeof body.vitals === 'object');
    await page.evaluate(() => leadscore.flush());
    await page.reload();
    await readState(page);
    await page.evaluate(() => leadscore.flush());
    assert.equal(received().length, 1, 'never sent again once the endpoint accepted it');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('retries an endpoint that fails 500 three times, then stops after it succeeds', async () => {
    suite.server.collector.script.push(500, 500, 500);
    const { context, page, errors } = await open('/qualify');
    await until(() => received().length === 1, { message: 'first attempt' });
    for (let i = 0; i < 60 && received().length < 4; i++) {
      await page.clock.runFor(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Three 500s, then the 204 (a fake-clock jump past the 10 s send deadline on a slow machine can
    // add one retry of an in-flight request: the same id, so still one accepted beacon).
    const attempts = received().length;
    assert.ok(attempts >= 4 && attempts <= 5, `attempts: ${attempts}`);
    assert.equal(ids().size, 1, 'every retry carries the same idempotency id');
    await until(() => page.evaluate(() => leadscore.flush()).then(() => true), { message: 'flush' });
    const settled = received().length;
    await page.clock.runFor(600_000);
    await page.evaluate(() => leadscore.flush());
    assert.equal(received().length, settled, 'nothing more once the endpoint accepted it');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('waits for Retry-After on 429', async () => {
    suite.server.collector.script.push({ status: 429, headers: { 'retry-after': '60' } });
    const { context, page, errors } = await open('/qualify');
    await until(() => received().length === 1, { message: 'first attempt' });
    await untilFirstAttemptSettled(page);
    for (let i = 0; i < 5; i++) await page.clock.runFor(10_000);
    assert.equal(received().length, 1, 'nothing before Retry-After');
    await page.clock.runFor(15_000);
    await until(() => received().length === 2, { message: 'the retry after 60 s' });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('holds the beacon while offline and sends it when back online', async () => {
    const context = await suite.browser.newContext();
    const { page, errors } = await openPage(context);
    await page.goto(suite.server.origin + '/idle');
    await readState(page);
    await context.setOffline(true);
    await page.evaluate((code) => new Function(code)(), QUALIFY);
    const state = await readState(page);
    assert.equal(state.stage, 'mql');
    assert.equal(received().length, 0);
    await context.setOffline(false);
    await until(() => received().length === 1, { message: 'the beacon after going online' });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a tab closed right after crossing: delivered by the page-hide path or on the next load, one accepted id', async () => {
    suite.server.collector.status = 204;
    const context = await suite.browser.newContext();
    const { page } = await openPage(context);
    await page.goto(suite.server.origin + '/idle');
    await readState(page);
    // Qualify and close at once: the visible fetch is cut short by the close.
    await page.evaluate((code) => new Function(code)(), QUALIFY);
    await page.close({ runBeforeUnload: true });
    const next = await openPage(context);
    await next.page.clock.install();
    await next.page.goto(suite.server.origin + '/idle');
    await readState(next.page);
    for (let i = 0; i < 8 && received().length === 0; i++) {
      await next.page.clock.runFor(5000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await until(() => received().length >= 1, { message: 'the beacon' });
    assert.equal(ids().size, 1);
    assert.deepEqual(next.errors, []);
    await context.close();
  });

  it('several tabs crossing together: one accepted id', async () => {
    const context = await suite.browser.newContext();
    const pages = [];
    for (let i = 0; i < 4; i++) {
      const { page, errors } = await openPage(context);
      await page.goto(suite.server.origin + '/idle');
      await readState(page);
      pages.push({ page, errors });
    }
    await Promise.all(pages.map(({ page }) => page.evaluate((code) => new Function(code)(), QUALIFY)));
    await until(() => received().length >= 1, { message: 'the beacon' });
    await Promise.all(pages.map(({ page }) => page.evaluate(() => leadscore.flush())));
    assert.equal(ids().size, 1);
    assert.equal(received().length, 1);
    for (const { errors } of pages) assert.deepEqual(errors, []);
    await context.close();
  });

  it('carries page experience (web-vitals) in leadscore.js and none in leadscore.lite.js', async () => {
    for (const [path, expectVitals] of [['/click-full', true], ['/click-lite', false]]) {
      suite.server.collector.requests.length = 0;
      const context = await suite.browser.newContext();
      const { page, errors } = await openPage(context);
      await page.goto(suite.server.origin + path);
      await page.waitForLoadState('load');
      await readState(page);
      await page.click('button');
      await until(() => received().length === 1, { message: 'the beacon' });
      const body = JSON.parse(received()[0].body);
      assert.ok(validate(body), JSON.stringify(validate.errors));
      if (expectVitals) assert.equal(typeof body.vitals?.ttfb, 'number', JSON.stringify(body.vitals));
      else assert.equal(body.vitals, undefined);
      assert.deepEqual(errors, []);
      await context.close();
    }
  });

  it('sends a correct beacon on a page that patched Array.prototype.toJSON', async () => {
    const { context, errors } = await open('/prototype');
    await until(() => received().length === 1, { message: 'the beacon' });
    const body = JSON.parse(received()[0].body);
    assert.ok(validate(body), JSON.stringify(validate.errors));
    assert.deepEqual(body.rules.add_to_cart, { count: 2, points: 40 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('on a page whose fetch never settles, the page-hide path still delivers', async () => {
    const { context, page, errors } = await open('/blocked-fetch');
    const state = await readState(page);
    assert.equal(state.stage, 'mql');
    await page.goto(suite.server.origin + '/idle');
    await until(() => received().length >= 1, { message: 'the beacon from sendBeacon' });
    assert.equal(ids().size, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
