import Ajv2020 from 'ajv/dist/2020.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { collectorSuite, openPage, readState, storePage, until, waitForSignals } from './harness.mjs';

const schema = JSON.parse(readFileSync(new URL('../../schema/beacon.v2.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(schema);

// A product page view (8), a page view (1) and a cart add (20) are 29 points: over 25.
const ATTRS = 'data-allow-automation data-endpoint="/collect" data-threshold="25" data-capture-email';

/** What the page heard: dataLayer pushes and `leadscore:*` DOM events, recorded by the page itself. */
const LISTEN = `window.dataLayer = window.dataLayer || [];
window.__heard = [];
for (const type of ['qualified', 'identified', 'purchased', 'stage', 'score']) document.addEventListener('leadscore:' + type, (event) => __heard.push({ type: event.type, detail: event.detail }));`;

const PRODUCT = storePage({
  attributes: ATTRS,
  queued: LISTEN,
  body: `<script type="application/ld+json">${JSON.stringify({
    '@context': 'https://schema.org',
    '@graph': [
      { '@type': 'BreadcrumbList', itemListElement: [{ '@type': 'ListItem', position: 1, name: 'Home' }, { '@type': 'ListItem', position: 2, name: 'Mugs' }, { '@type': 'ListItem', position: 3, name: 'Blue mug' }] },
      { '@type': 'Product', name: 'Blue mug', sku: 'MUG-1', offers: { '@type': 'Offer', price: '24.00', priceCurrency: 'EUR' } },
    ],
  })}</script>
<h1>Blue mug</h1>
<form action="/cart/add" method="post" id="product-form"><input type="hidden" name="id" value="MUG-1-BLUE"><input name="quantity" value="2"><button type="submit" name="add">Add to cart</button></form>
<form id="newsletter" action="/subscribe" method="post"><label>Email <input type="email" name="email"></label><button type="submit">Subscribe</button></form>
<script>
document.getElementById('product-form').addEventListener('submit', (event) => {
  event.preventDefault();
  fetch('/cart/add.js', { method: 'POST', body: new FormData(event.target) }).then(() => (window.added = true));
});
document.getElementById('newsletter').addEventListener('submit', (event) => {
  event.preventDefault();
  fetch('/subscribe', { method: 'POST', body: new FormData(event.target) }).then(() => (window.subscribed = true));
});
</script>`,
});

const THANK_YOU = storePage({
  attributes: ATTRS,
  queued: `${LISTEN}
dataLayer.push({ ecommerce: null });
dataLayer.push({ event: 'purchase', ecommerce: { transaction_id: '1001', value: 48, currency: 'EUR', items: [{ item_id: 'MUG-1', item_name: 'Blue mug', price: 24, quantity: 2 }] } });`,
  body: '<h1>Thank you for your order</h1>',
});

describe('the lead journey in real Chromium', () => {
  const suite = collectorSuite(
    () => ({
      '/products/blue-mug': PRODUCT,
      '/checkouts/c/abc123/thank-you': THANK_YOU,
      '/qualify': storePage({ attributes: ATTRS, queued: `leadscore('track', 'add_to_cart', { item_id: 'a' }); leadscore('track', 'add_to_cart', { item_id: 'b' });` }),
      '/idle': storePage({ attributes: ATTRS }),
    }),
    {
      'POST /cart/add.js': ({ res }) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}'),
      'POST /subscribe': ({ res }) => res.writeHead(204).end(),
    },
  );
  const events = () => suite.received().map((request) => JSON.parse(request.body));
  const ofType = (type) => events().filter((event) => event.type === type);
  const distinct = (list) => [...new Map(list.map((event) => [event.id, event])).values()];

  it('an anonymous shopper qualifies, subscribes, then buys: one qualified, one identified with the email and the cart, one purchased with the value', async () => {
    const context = await suite.browser.newContext();
    const { page, errors } = await openPage(context);
    await page.clock.install();
    await page.goto(suite.server.origin + '/products/blue-mug');
    await waitForSignals(page, (s) => s.view_item === 1);
    await page.click('button[name=add]');
    await page.waitForFunction(() => window.added === true);
    await waitForSignals(page, (s) => s.add_to_cart === 1);
    await page.evaluate(() => leadscore.flush());
    await until(() => ofType('qualified').length >= 1, { message: 'the qualification' });
    const [qualified] = distinct(ofType('qualified'));
    assert.equal(qualified.traits.email, undefined, 'anonymous when it qualified');
    assert.deepEqual(qualified.interest.items, [{ item_id: 'MUG-1', name: 'Blue mug', variant: 'MUG-1-BLUE', price: 24, currency: 'EUR', views: 1, adds: 1, in_cart: true }]);
    assert.deepEqual(qualified.interest.categories, ['Mugs']);
    assert.deepEqual(qualified.interest.cart, { value: 48, currency: 'EUR' });

    await page.fill('input[type=email]', 'ada@example.com');
    await page.click('#newsletter button');
    await page.waitForFunction(() => window.subscribed === true);
    await page.clock.runFor(9000);
    await page.evaluate(() => leadscore.flush());
    await until(() => ofType('identified').length >= 1, { message: 'the identified event' });
    const [identified] = distinct(ofType('identified'));
    assert.equal(identified.id, `${qualified.visitor}.identified.1`);
    assert.equal(identified.traits.email, 'ada@example.com');
    assert.deepEqual(identified.interest.cart, { value: 48, currency: 'EUR' });
    assert.equal(identified.interest.items[0].item_id, 'MUG-1');

    // The page heard of both (and of the score the sign-up raised, when it came in a later write), without the email.
    const heard = await page.evaluate(() => ({ layer: dataLayer.filter((entry) => String(entry.event).startsWith('leadscore_')), events: __heard }));
    assert.deepEqual(heard.layer.map((entry) => entry.event).slice(0, 2), ['leadscore_qualified', 'leadscore_identified']);
    assert.deepEqual(heard.events.map((event) => event.type), heard.layer.map((entry) => entry.event.replace('leadscore_', 'leadscore:')));
    assert.deepEqual(heard.layer.length, events().filter((event, i, all) => all.findIndex((other) => other.id === event.id) === i).length);
    assert.deepEqual(heard.layer[0].leadscore, heard.events[0].detail);
    assert.equal(heard.layer[0].leadscore.stage, 'mql');
    assert.doesNotMatch(JSON.stringify(heard), /example\.com/);

    await page.goto(suite.server.origin + '/checkouts/c/abc123/thank-you');
    await waitForSignals(page, (s) => s.purchase === 1);
    await page.evaluate(() => leadscore.flush());
    await until(() => ofType('purchased').length >= 1, { message: 'the purchase' });
    // The confirmation page reloaded: the same order is not told twice.
    await page.reload();
    await readState(page);
    await page.evaluate(() => leadscore.flush());
    const purchased = distinct(ofType('purchased'));
    assert.equal(purchased.length, 1);
    assert.equal(purchased[0].id, `${qualified.visitor}.purchased.1001`);
    assert.deepEqual(purchased[0].order, { id: '1001', value: 48, currency: 'EUR' });
    assert.equal(purchased[0].traits.email, 'ada@example.com');

    for (const event of events()) assert.ok(validate(event), `${event.type}: ${JSON.stringify(validate.errors)}`);
    assert.equal(distinct(ofType('qualified')).length, 1);
    assert.equal(distinct(ofType('identified')).length, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a tab closed right after identifying still delivers the identified event, once', async () => {
    const context = await suite.browser.newContext();
    const { page } = await openPage(context);
    await page.goto(suite.server.origin + '/qualify');
    await until(() => ofType('qualified').length >= 1, { message: 'the qualification' });
    // identify() and close at once: the traits are not yet in IndexedDB; the journal keeps them.
    await page.evaluate(() => leadscore('identify', { email: 'grace@example.com' }));
    await page.close({ runBeforeUnload: true });
    const { page: next, errors } = await openPage(context);
    await next.goto(suite.server.origin + '/idle');
    await readState(next);
    await next.evaluate(() => leadscore.flush());
    await until(() => ofType('identified').length >= 1, { message: 'the identified event from the next page' });
    await next.evaluate(() => leadscore.flush());
    const identified = distinct(ofType('identified'));
    assert.equal(identified.length, 1);
    assert.equal(identified[0].traits.email, 'grace@example.com');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
