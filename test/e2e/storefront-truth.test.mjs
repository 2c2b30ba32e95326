import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readState, storefrontSuite, waitForSignals } from './harness.mjs';
import { handlers, pages } from './storefronts.mjs';

/**
 * What real storefront code showed (issue #17): refused adds the store answers with 200 or with its
 * error page, a second add of the same product a second later, Shopify's dynamic checkout, and the
 * cart, list, search and removal signals. Exact counts; no page error.
 */
describe('storefront outcomes in real Chromium', () => {
  const suite = storefrontSuite(pages, handlers);
  const open = suite.open;
  /** After a navigation: the new page decides the provisional adds once it has loaded (1 s later). */
  async function settledSignals(page, pageViews) {
    await waitForSignals(page, (s) => s.page_view === pageViews);
    await page.clock.runFor(3000);
    await readState(page);
    await page.clock.runFor(10_000);
    return (await readState(page)).signals;
  }

  it('WooCommerce: the same product added twice, a second apart, counts twice', async () => {
    const { context, page, errors } = await open('/woo/shop');
    await page.click('[data-product_id="15"]');
    await page.waitForSelector('.added_to_cart');
    await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.clock.runFor(1000);
    await page.click('[data-product_id="15"]');
    await waitForSignals(page, (s) => s.add_to_cart === 2);
    await page.clock.runFor(10_000);
    assert.equal((await readState(page)).signals.add_to_cart, 2);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('WooCommerce: an AJAX add the store refuses (200 with an error, then its product page) is not counted', async () => {
    const { context, page, errors } = await open('/woo/shop');
    await Promise.all([page.waitForURL('**/woo/product/soldout?error=1'), page.click('#soldout')]);
    assert.ok(await page.isVisible('.woocommerce-error'));
    const signals = await settledSignals(page, 2);
    assert.equal(signals.add_to_cart, undefined);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('WooCommerce classic: a form post the store refuses (its error notice on the next page) is not counted', async () => {
    const { context, page, errors } = await open('/woo/product/soldout');
    await Promise.all([page.waitForURL('**/woo/product/soldout?error=1'), page.click('.single_add_to_cart_button')]);
    const signals = await settledSignals(page, 2);
    assert.equal(signals.add_to_cart, undefined);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('Shopify without theme JavaScript: an accepted post counts on the cart page; a refused one (rendered at /cart/add) does not', async () => {
    const { context, page, errors } = await open('/shopify/classic');
    await Promise.all([page.waitForURL('**/cart/add'), page.click('#refused button')]);
    assert.equal((await settledSignals(page, 2)).add_to_cart, undefined);
    await page.goto(suite.server.origin + '/shopify/classic');
    await Promise.all([page.waitForURL('**/shopify/cart'), page.click('#ok button')]);
    assert.equal((await settledSignals(page, 4)).add_to_cart, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('Magento: an add answered with backUrl to its error message is not counted', async () => {
    const { context, page, errors } = await open('/magento/mug.html?soldout=1');
    await page.waitForFunction(() => window.magentoReady === true);
    await Promise.all([page.waitForURL('**/magento/mug.html?error=1'), page.click('#product-addtocart-button')]);
    assert.ok(await page.isVisible('.message-error'));
    assert.equal((await settledSignals(page, 2)).add_to_cart, undefined);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("Shopify's dynamic checkout: Buy it now and the accelerated button (in a shadow root) are checkout starts, not adds", async () => {
    const { context, page, errors } = await open('/shopify/products/mug');
    await Promise.all([page.waitForURL('**/empty?checkout=1'), page.click('.shopify-payment-button__button')]);
    let signals = await settledSignals(page, 2);
    assert.equal(signals.begin_checkout, 1);
    assert.equal(signals.add_to_cart, undefined);
    await page.goto(suite.server.origin + '/shopify/products/mug');
    await Promise.all([page.waitForURL('**/empty?checkout=2'), page.click('text=Buy with Shop')]);
    signals = await settledSignals(page, 4);
    assert.equal(signals.add_to_cart, undefined);
    assert.equal((await readState(page)).rules.begin_checkout.count, 1, 'one per session by the default rule');
    assert.equal(signals.begin_checkout, 2);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a collection, a search (without its terms), the cart page and a removed line: one signal each', async () => {
    const { context, page, errors } = await open('/collections/mugs');
    await waitForSignals(page, (s) => s.view_item_list === 1);
    await page.goto(suite.server.origin + '/search?q=blue+mug');
    await waitForSignals(page, (s) => s.search === 1);
    await page.goto(suite.server.origin + '/shopify/cart');
    await waitForSignals(page, (s) => s.view_cart === 1);
    await page.click('cart-remove-button a');
    await page.waitForFunction(() => window.removed === true);
    const signals = await waitForSignals(page, (s) => s.remove_from_cart === 1);
    assert.equal(signals.view_item_list, 1);
    assert.equal(signals.search, 1);
    const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage));
    assert.ok(!stored.includes('blue'), 'search terms are not stored');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
