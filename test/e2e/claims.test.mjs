import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openPage, readState, startServer, storePage, until } from './harness.mjs';

/**
 * A tab closed within a few milliseconds of qualifying, while its send is in flight and its
 * page-hide beacon is lost: the next page view delivers the beacon during a visit of a few seconds,
 * because a claim its page no longer renews lapses (issue #17, point 5).
 */
describe('a tab closed right after qualifying, in real Chromium', () => {
  const ATTRS = 'data-allow-automation data-endpoint="/c" data-threshold="30"';
  let server;
  let browser;
  let phase = 'drop';
  const accepted = new Map();
  before(async () => {
    server = await startServer(
      { '/store': storePage({ attributes: ATTRS }), '/next': storePage({ attributes: ATTRS }) },
      {
        // 'drop': everything the closing tab sends is lost (its fetch and its page-hide beacon).
        'POST /c': ({ req, res, body }) => {
          if (phase === 'drop') return req.socket.destroy();
          const id = JSON.parse(body).id;
          accepted.set(id, (accepted.get(id) ?? 0) + 1);
          res.writeHead(204).end();
        },
      },
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const RUNS = 10;
  it(`delivers on the next page view, ${RUNS} times out of ${RUNS}, when the tab closes 0-5 ms after the crossing`, async () => {
    for (let run = 0; run < RUNS; run++) {
      phase = 'drop';
      const context = await browser.newContext();
      const { page, errors } = await openPage(context);
      await page.goto(server.origin + '/store');
      await readState(page);
      const id = await page.evaluate(
        () =>
          new Promise((resolve) => {
            window.leadscore.on('qualified', (event) => resolve(event.id));
            window.leadscore.track('add_to_cart', { item_id: 'a' });
            window.leadscore.track('add_to_cart', { item_id: 'b' });
            void window.leadscore.flush();
          }),
      );
      const wait = run % 6;
      if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
      await page.close();
      assert.deepEqual(errors, []);
      phase = 'accept';
      // The next visit: its clock is ours to move, so "a few seconds" is exact.
      await context.clock.install();
      const next = await openPage(context);
      await next.page.goto(server.origin + '/next');
      await readState(next.page);
      await context.clock.runFor(7000);
      await until(() => accepted.has(id), { timeout: 5000, message: `run ${run}: the beacon ${id} on the next page view (7 s)` });
      assert.deepEqual(next.errors, []);
      await context.close();
    }
  });
});
