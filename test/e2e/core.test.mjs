import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IMPORT_MAP, launchBrowser, openPage, readState, startServer, storePage } from './harness.mjs';

describe('core in real Chromium', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer({
      '/': storePage({
        queued: `leadscore('track', 'view_item', { item_id: 'mug' }); leadscore('identify', { plan: 'pro' });`,
      }),
      '/lite': storePage({ script: 'leadscore.lite.js', queued: `leadscore('track', 'add_to_cart');` }),
      '/esm': `<!doctype html>${IMPORT_MAP}<script type="module">
        import { createTracker } from '/dist/index.js';
        window.tracker = createTracker({ allowAutomation: true });
        window.tracker.track('begin_checkout');
      </script>`,
      '/double': storePage({ body: '<script src="/dist/leadscore.js" data-allow-automation></script>' }),
      '/automation': storePage({ attributes: '' }),
      '/debug': storePage({ attributes: 'data-allow-automation data-debug data-treshold="5"', queued: `leadscore('track', 'view_item');` }),
      // Page code that uses the API in the script's own load event: the same task as its evaluation,
      // so the tracker has certainly not started yet.
      '/early': `<!doctype html><html><head><script>
          function useEarly() {
            window.seen = [];
            leadscore('init', { threshold: 5, rules: [{ id: 'early', signal: 'early_call', points: 6 }] });
            leadscore.on('signal', (event) => seen.push(event.name));
            const off = leadscore.on('signal', () => seen.push('unsubscribed listener ran'));
            off();
            leadscore.track('early_call', { n: 1 });
            window.early = leadscore.getState();
          }
        </script><script src="/dist/leadscore.js" data-allow-automation onload="useEarly()"></script></head><body></body></html>`,
      '/bad-endpoint': storePage({ attributes: 'data-allow-automation data-endpoint="javascript:alert(1)"' }),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('records queued calls made before load, and restores the state from IndexedDB after a reload', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/');
    const first = await readState(page);
    assert.equal(first.signals.view_item, 1);
    assert.equal(first.signals.page_view, 1);
    assert.deepEqual(first.traits, { plan: 'pro' });
    assert.equal(first.storage, 'idb');
    assert.equal(first.rules.view_item.points, 8);

    await page.reload();
    const second = await readState(page);
    assert.equal(second.visitorId, first.visitorId);
    assert.equal(second.signals.view_item, 2, 'the queued call ran again on reload and added to the stored count');
    assert.equal(second.signals.page_view, 2);
    assert.equal(second.visits, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('queues API calls made right after a blocking script tag, before the tracker starts', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/early');
    const state = await page.evaluate(() => window.early);
    assert.equal(state.signals.early_call, 1);
    assert.equal(state.rules.early.points, 6);
    assert.equal(state.stage, 'mql', 'the init call made after the tag configured the tracker');
    const seen = await page.evaluate(() => window.seen);
    assert.ok(seen.includes('early_call'));
    assert.ok(!seen.includes('unsubscribed listener ran'));
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('keeps visitors apart between browser profiles (contexts)', async () => {
    const a = await browser.newContext();
    const b = await browser.newContext();
    const pa = await openPage(a);
    const pb = await openPage(b);
    await pa.page.goto(server.origin + '/');
    await pb.page.goto(server.origin + '/');
    const [sa, sb] = await Promise.all([readState(pa.page), readState(pb.page)]);
    assert.notEqual(sa.visitorId, sb.visitorId);
    await a.close();
    await b.close();
  });

  it('runs the lite build', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/lite');
    const state = await readState(page);
    assert.equal(state.signals.add_to_cart, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('works as an ES module import', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/esm');
    await page.waitForFunction(() => window.tracker);
    const state = await page.evaluate(() => window.tracker.getState());
    assert.equal(state.signals.begin_checkout, 1);
    assert.equal(state.storage, 'idb');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('counts once when the script is included twice', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/double');
    await page.waitForLoadState('load');
    const state = await readState(page);
    assert.equal(state.signals.page_view, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('does not score under automation unless the site allows it', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    await page.goto(server.origin + '/automation');
    const state = await readState(page);
    assert.deepEqual(state.signals, {});
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('hands over to the debug build in debug mode, which explains signals and config typos', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    const logs = [];
    page.on('console', (message) => logs.push(message.text()));
    await page.goto(server.origin + '/debug');
    const state = await readState(page);
    assert.equal(state.signals.view_item, 1);
    const scripts = await page.evaluate(() => Array.from(document.scripts, (s) => s.src).filter(Boolean));
    assert.ok(scripts.some((src) => src.endsWith('/dist/leadscore.debug.js')));
    assert.ok(logs.some((line) => line.includes('unknown option "treshold" (data-treshold); did you mean "threshold" (data-threshold)?')), logs.join('\n'));
    assert.ok(logs.some((line) => line.startsWith('[leadscore] view_item')), logs.join('\n'));
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('warns once, concisely, about a fatal config problem outside debug mode', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openPage(context);
    const warnings = [];
    page.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
    await page.goto(server.origin + '/bad-endpoint');
    await readState(page);
    assert.deepEqual(warnings, ['[leadscore] not sending: endpoint uses javascript: (only http and https): nothing will be sent']);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('ships no debug text in the production builds', async () => {
    const { readFileSync } = await import('node:fs');
    for (const file of ['dist/leadscore.js', 'dist/leadscore.lite.js']) {
      const code = readFileSync(file, 'utf8');
      assert.ok(!code.includes('did you mean'), file);
      assert.ok(!code.includes('IndexedDB unavailable'), file);
    }
    assert.ok(readFileSync('dist/leadscore.debug.js', 'utf8').includes('did you mean'));
  });

  it('adds no enumerable global but window.leadscore and leaves prototypes alone', async () => {
    const context = await browser.newContext();
    const { page } = await openPage(context);
    await page.goto(server.origin + '/');
    await readState(page);
    const leaked = await page.evaluate(() => {
      const frame = document.createElement('iframe');
      document.body.appendChild(frame);
      const clean = new Set(Object.keys(frame.contentWindow));
      const added = Object.keys(window).filter((key) => !clean.has(key) && !/^\d+$/.test(key));
      const protos = [Object.prototype, Array.prototype, Function.prototype, EventTarget.prototype, History.prototype];
      const names = protos.map((proto, i) => [i, Object.getOwnPropertyNames(proto).filter((name) => !(name in frame.contentWindow[['Object', 'Array', 'Function', 'EventTarget', 'History'][i]].prototype))]);
      return { added, names: names.filter(([, list]) => list.length) };
    });
    assert.deepEqual(leaked.added, ['leadscore']);
    assert.deepEqual(leaked.names, []);
    await context.close();
  });
});
