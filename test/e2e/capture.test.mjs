import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readState, storefrontSuite, waitForSignals } from './harness.mjs';
import { handlers, pages } from './storefronts.mjs';

describe('automatic capture on storefronts in real Chromium', () => {
  const suite = storefrontSuite(pages, handlers);
  const open = suite.open;

  it('Shopify: one add from the AJAX product form, none from a sold-out variant, steppers or option pickers', async () => {
    const { context, page, errors } = await open('/shopify/products/mug');
    let signals = await waitForSignals(page, (s) => s.view_item === 1);
    await page.click('button[name=plus]');
    await page.click('.quick-add__submit');
    await page.click('text=Click "Add to cart" to buy this mug.');
    await page.click('#soldout');
    await page.waitForFunction(() => window.lastStatus === 422);
    await page.click('#ProductSubmitButton-main');
    signals = await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.clock.runFor(10_000);
    signals = (await readState(page)).signals;
    assert.equal(signals.add_to_cart, 1);
    assert.equal(signals.view_item, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('WooCommerce: the AJAX archive button and the block button count once each; variable and wishlist links are not adds', async () => {
    const { context, page, errors } = await open('/woo/shop');
    await page.click('.ajax_add_to_cart:not(.wc-interactive)');
    await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.click('.wc-interactive');
    await waitForSignals(page, (s) => s.add_to_cart === 2);
    await page.click('.add_to_wishlist');
    await page.clock.runFor(10_000);
    const signals = (await readState(page)).signals;
    assert.equal(signals.add_to_cart, 2);
    assert.equal(signals.add_to_wishlist, 1);
    // The variable product link navigates to its product page: not an add there either.
    await page.click('.product_type_variable');
    await page.waitForURL('**/woo/product/variable');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('WooCommerce classic: a form post that navigates is recorded before the page goes, confirmed by the next page, and not again from the notice', async () => {
    const { context, page, errors } = await open('/woo/product/mug');
    await Promise.all([page.waitForURL('**/woo/product/mug?added=1'), page.click('.single_add_to_cart_button')]);
    assert.ok(await page.isVisible('.woocommerce-message'));
    await waitForSignals(page, (s) => s.page_view === 2);
    await page.clock.runFor(3000);
    const signals = await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.clock.runFor(10_000);
    assert.equal((await readState(page)).signals.add_to_cart, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('Magento: one add through the late-loading jQuery widget', async () => {
    const { context, page, errors } = await open('/magento/mug.html');
    await page.waitForFunction(() => window.magentoReady === true);
    await page.click('#product-addtocart-button');
    await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.clock.runFor(10_000);
    assert.equal((await readState(page)).signals.add_to_cart, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('BigCommerce: one add from the stencil request, one from a card link that navigates', async () => {
    const { context, page, errors } = await open('/bigcommerce/mug');
    await page.click('#form-action-addToCart');
    await waitForSignals(page, (s) => s.add_to_cart === 1);
    await Promise.all([page.waitForURL('**/empty'), page.click('a[data-button-type=add-cart]')]);
    await waitForSignals(page, (s) => s.page_view === 2);
    await page.clock.runFor(3000);
    await waitForSignals(page, (s) => s.add_to_cart === 2);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('PrestaShop: updateCart with add-to-cart counts; removing does not', async () => {
    const { context, page, errors } = await open('/prestashop/mug');
    await page.click('[data-button-action=add-to-cart]');
    await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.click('#remove');
    await page.clock.runFor(10_000);
    assert.equal((await readState(page)).signals.add_to_cart, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('GA4 dataLayer: the add pushed before load and the one after a click; a wishlist push is not a cart add', async () => {
    const { context, page, errors } = await open('/ga4');
    await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.click('#add');
    await page.click('#wish');
    const signals = await waitForSignals(page, (s) => s.add_to_cart === 2 && s.add_to_wishlist === 1);
    assert.equal(signals.add_to_cart, 2);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('plain store: an add-to-bag button confirmed by its request counts; unconfirmed and compare buttons do not', async () => {
    const { context, page, errors } = await open('/plain');
    await page.click('#js-only');
    await page.click('#compare');
    await page.clock.runFor(10_000);
    assert.equal((await readState(page)).signals.add_to_cart, undefined);
    await page.click('#bag');
    const confirmed = await waitForSignals(page, (s) => s.add_to_cart === 1);
    assert.equal(confirmed.add_to_cart, 1, 'confirmed by the request');
    await page.clock.runFor(10_000);
    assert.equal((await readState(page)).signals.add_to_cart, 1, 'still one after the deadline');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('single-page app: one page_view per route change, high-value routes scored', async () => {
    const { context, page, errors } = await open('/spa');
    await page.click('text=Products');
    await page.click('text=Products');
    await page.click('text=Pricing');
    await page.goBack();
    const signals = await waitForSignals(page, (s) => s.page_view === 4);
    const state = await readState(page);
    assert.equal(signals.page_view, 4);
    assert.equal(state.rules.high_value_page.count, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('engaged time: counts while the tab is shown and active, nothing while it is hidden', async () => {
    const { context, page, errors } = await open('/empty');
    for (let i = 0; i < 6; i++) {
      await page.mouse.move(10 + i, 10);
      await page.clock.runFor(5000);
    }
    const shown = await waitForSignals(page, (s) => s.engaged_time >= 2);
    assert.equal(shown.engaged_time, 2, '30 s visible and active = two 15 s chunks');
    // Headless Chromium keeps every page visible (another tab in front, a minimised window: both
    // tried), so the test hides the page the way the browser reports it: visibilityState + event.
    const setVisibility = (state) =>
      page.evaluate((value) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => value });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    const hiddenAt = (await readState(page)).signals.engaged_time;
    for (let i = 0; i < 12; i++) {
      await page.mouse.move(30 + i, 30);
      await page.clock.runFor(5000);
    }
    assert.equal((await readState(page)).signals.engaged_time, hiddenAt);
    await setVisibility('visible');
    for (let i = 0; i < 4; i++) {
      await page.mouse.move(20 + i, 20);
      await page.clock.runFor(5000);
    }
    await waitForSignals(page, (s) => s.engaged_time > hiddenAt);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
