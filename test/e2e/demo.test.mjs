import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openPage, until } from './harness.mjs';

/** Screenshots of the product, for the README (docs/screenshots/). */
const SHOTS = 'docs/screenshots';
const SHOPPER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const AXE = readFileSync('node_modules/axe-core/axe.min.js', 'utf8');

describe('npm run demo and the dashboard, in real Chromium', () => {
  let server;
  let origin;
  let browser;
  let password;
  const dir = mkdtempSync(join(tmpdir(), 'leadscore-demo-'));

  async function start() {
    server = spawn(process.execPath, ['demo/server.mjs'], { env: { ...process.env, PORT: '0', DEMO_DB: dir, LEADSCORE_ADMIN_PASSWORD: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    // The banner ends with the database line; stdout may deliver it in several chunks.
    await until(() => /demo store:\s+http:\/\/127\.0\.0\.1:\d+[\s\S]*lead database:.*\(\d+ leads\)/.test(output), { message: 'the demo server' });
    origin = output.match(/demo store:\s+(http:\/\/127\.0\.0\.1:\d+)/)[1];
    password = output.match(/\(password: ([\w-]+)\)/)[1];
    return output;
  }
  /** A signed-in marketer: a context whose dashboard is open on the list. */
  // Signed in once, the session (kept in the database, so it outlives a restart) is reused: sign-in
  // attempts are rate limited per address.
  let signedIn;
  async function marketer({ viewport, bypassCSP = false } = {}) {
    const context = await browser.newContext({ viewport, bypassCSP, storageState: signedIn });
    const { page, errors } = await openPage(context);
    await page.goto(origin + '/dashboard');
    await page.waitForSelector('#login:visible, #live:text("● live")');
    if (await page.locator('#login').isVisible()) {
      await page.fill('#password', password);
      await page.click('#login button');
    }
    await page.waitForSelector('#live:text("● live")');
    await page.waitForSelector('h1:text("Leads")');
    signedIn = await context.storageState();
    return { context, page, errors };
  }
  /** A shopper who qualifies in the demo store with the real snippet. */
  async function shop() {
    // A shopper's browser, not a headless one (which the collector flags as a likely bot, never forwarded).
    const context = await browser.newContext({ userAgent: SHOPPER_UA, extraHTTPHeaders: { 'sec-ch-ua': '"Chromium";v="130", "Not?A_Brand";v="99"' } });
    const { page, errors } = await openPage(context);
    await page.goto(origin + '/');
    await page.click('text=Blue stoneware mug');
    await page.waitForURL('**/products/blue-mug');
    await Promise.all([page.waitForURL('**/cart'), page.click('button:text("Add to cart")')]);
    await until(async () => (await page.evaluate(() => leadscore.getState())).stage === 'mql', { message: 'the shopper to qualify' });
    return { context, page, errors };
  }
  async function axe(page) {
    await page.addScriptTag({ content: AXE });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    return result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await start();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a shopper qualifies with the real snippet and appears live on the signed-in dashboard, stored in the embedded database', async () => {
    // Nobody reads a lead without signing in.
    assert.equal((await fetch(origin + '/api/leads')).status, 401);
    const context = await browser.newContext();
    const { page: signIn } = await openPage(context);
    await signIn.goto(origin + '/dashboard');
    await signIn.fill('#password', 'wrong');
    await signIn.click('#login button');
    await signIn.waitForSelector('#login-error:text("That password is not right.")');
    await context.close();

    const { context: team, page: dashboard, errors: dashboardErrors } = await marketer();
    assert.match(await dashboard.locator('main').innerText(), /No lead matches/);
    const { context: shopper, page, errors } = await shop();
    // New leads wait behind a button (no row moves under the pointer); showing them loads the list.
    await dashboard.waitForSelector('#new-leads:visible', { timeout: 15_000 });
    await dashboard.click('#new-leads');
    const row = dashboard.locator('table.leads tbody tr').first();
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /Anonymous visitor/);
    assert.match(text, /mql/);
    assert.match(text, /Blue stoneware mug/);
    const state = await page.evaluate(() => leadscore.getState());
    assert.ok(existsSync(join(dir, 'leadscore.sqlite')), 'the embedded database file exists');
    assert.deepEqual(errors, []);
    assert.deepEqual(dashboardErrors, []);
    await dashboard.screenshot({ path: `${SHOTS}/leads.png`, fullPage: true });
    // The lead's score rises live: the row updates in place.
    await page.goto(origin + '/checkout');
    await until(async () => (await row.innerText()) !== text, { message: 'the row to update live', timeout: 15_000 });
    assert.equal(await dashboard.locator('table.leads tbody tr').count(), 1);
    void state;
    await shopper.close();
    await team.close();
  });

  it('a marketer searches, filters, opens a lead, reads why, sets status and a note that survive a restart, and exports what is filtered', async () => {
    const { context, page, errors } = await marketer();
    // Each search re-renders the list; #view says which query it shows.
    await page.fill('#f-q', 'stoneware');
    await page.click('form.filters button');
    await page.waitForSelector('#view[data-query*="q=stoneware"] table.leads tbody tr');
    await page.fill('#f-q', 'no-such-product');
    await page.click('form.filters button');
    await page.waitForSelector('#view[data-query*="q=no-such-product"] >> text=No lead matches');
    await page.fill('#f-q', '');
    await page.selectOption('#f-status', 'new');
    await page.click('form.filters button');
    await page.waitForSelector('#view[data-query*="status=new"] table.leads tbody tr');
    await page.click('table.leads tbody tr a');
    await page.waitForSelector('h2#why');
    const why = await page.locator('section.why').innerText();
    assert.match(why, /in the cart|added to the cart/);
    assert.match(why, /Points halve every 14 days/);
    assert.match(await page.locator('section[aria-labelledby="wants"]').innerText(), /Blue stoneware mug/);
    await page.screenshot({ path: `${SHOTS}/lead.png`, fullPage: true });
    await page.selectOption('#status', 'working');
    await page.fill('#owner', 'Grace');
    await page.fill('#note', 'Called, wants 12 mugs for the office.');
    await page.click('section.actions button[type=submit]');
    await page.waitForSelector('#saved:text("Saved.")');
    // The restarted server listens on another port: keep the lead's route.
    const route = new URL(page.url()).hash;
    assert.deepEqual(errors, []);
    await context.close();

    server.kill();
    await new Promise((resolve) => server.once('exit', resolve));
    const output = await start();
    assert.match(output, /\(1 leads\)/);
    const again = await marketer();
    await again.page.goto(origin + '/dashboard' + route);
    await again.page.waitForSelector('h2#why');
    assert.equal(await again.page.locator('#status').inputValue(), 'working');
    assert.equal(await again.page.locator('#owner').inputValue(), 'Grace');
    assert.match(await again.page.locator('section.actions').innerText(), /Called, wants 12 mugs for the office\./);
    // The CSV is exactly what the filter shows.
    await again.page.goto(origin + '/dashboard#/leads');
    await again.page.waitForSelector('#view[data-query]');
    await again.page.selectOption('#f-status', 'working');
    await again.page.click('form.filters button');
    await again.page.waitForSelector('#view[data-query*="status=working"] table.leads tbody tr');
    const href = await again.page.locator('a[download]').getAttribute('href');
    assert.match(href, /status=working/);
    const csv = await (await again.page.request.get(origin + href)).text();
    assert.equal(csv.trim().split('\n').length, 2);
    const none = await (await again.page.request.get(origin + href.replace('status=working', 'status=spam'))).text();
    assert.equal(none.trim().split('\n').length, 1);
    await again.page.goto(origin + '/dashboard#/overview');
    await again.page.waitForSelector('h1:text("Overview")');
    assert.match(await again.page.locator('main').innerText(), /Leads \(MQL\)/);
    await again.page.screenshot({ path: `${SHOTS}/overview.png`, fullPage: true });
    assert.deepEqual(again.errors, []);
    await again.context.close();
  });

  it('a hostile but schema-valid lead renders as text and breaks nothing', async () => {
    const visitor = 'hostile-visitor-0001';
    const hostile = {
      v: 2, type: 'identified', id: `${visitor}.identified.1`, site: 'mug-and-co', visitor, stage: 'mql', threshold: 40, score: 41, n: 1,
      rules: { add_to_cart: { count: 2, points: 41 } }, signals: {}, visits: 1, firstSeen: Date.now() - 1000, qualifiedAt: Date.now() - 500, at: Date.now(), sentAt: Date.now(), offset: 0,
      page: 'not a url', attribution: { landing: 'javascript:alert(1)', referrer: 'javascript:alert(2)', utm_campaign: '<script>alert(3)</script>' },
      traits: { email: '<img src=x onerror=alert(4)>@evil.example', name: '<b>bold</b>' },
      interest: { items: [{ item_id: '<svg onload=alert(5)>', name: '"><script>alert(6)</script>', views: 1, adds: 0, in_cart: false }], categories: ['<i>c</i>'], searches: 0 },
      lib: 'leadscore@0.1.0',
    };
    const response = await fetch(origin + '/collect', { method: 'POST', headers: { 'content-type': 'text/plain', origin }, body: JSON.stringify(hostile) });
    assert.equal(response.status, 204);
    const { context, page, errors } = await marketer();
    const dialogs = [];
    page.on('dialog', (dialog) => (dialogs.push(dialog.message()), dialog.dismiss()));
    await page.waitForSelector('text=<img src=x onerror=alert(4)>@evil.example');
    await page.click('text=<img src=x onerror=alert(4)>@evil.example');
    await page.waitForSelector('h2#why');
    const main = await page.locator('main').innerText();
    assert.match(main, /"><script>alert\(6\)<\/script>/);
    assert.equal(await page.locator('main a[href^="javascript"]').count(), 0);
    assert.equal(await page.locator('main img, main script, main svg[onload]').count(), 0);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a live update never wipes a note being typed; saving shows both', async () => {
    const visitor = 'live-edit-visitor-0001';
    const event = (type, score, n) => ({
      v: 2, type, id: `${visitor}.${type === 'score' ? 'score.' + n : 'mql.1'}`, site: 'mug-and-co', visitor, stage: 'mql', threshold: 40, score, n: 1,
      rules: { add_to_cart: { count: 2, points: score } }, signals: {}, visits: 1, firstSeen: Date.now() - 1000, qualifiedAt: Date.now() - 500, at: Date.now(), sentAt: Date.now(), offset: 0,
      page: origin + '/cart', attribution: {}, traits: {}, interest: { items: [], categories: [], searches: 0 }, lib: 'leadscore@0.1.0',
    });
    const send = (body) => fetch(origin + '/collect', { method: 'POST', headers: { 'content-type': 'text/plain', origin }, body: JSON.stringify(body) });
    assert.equal((await send(event('qualified', 41))).status, 204);
    const { context, page, errors } = await marketer();
    await page.fill('#f-q', visitor);
    await page.click('form.filters button');
    await page.waitForSelector(`#view[data-query*="q=${visitor}"] table.leads tbody tr`);
    await page.click('table.leads tbody tr a');
    await page.waitForSelector('h2#why');
    await page.fill('#note', 'Typing while the lead moves.');
    assert.equal((await send(event('score', 77, 2))).status, 204);
    await page.waitForSelector('#saved:text("This lead changed meanwhile")');
    assert.equal(await page.locator('#note').inputValue(), 'Typing while the lead moves.');
    await page.click('section.actions button[type=submit]');
    await page.waitForSelector('#saved:text("Saved.")');
    const text = await page.locator('main').innerText();
    assert.match(text, /Typing while the lead moves\./);
    assert.match(text, /Score now\s*77/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('works on a phone (390 px) without spilling sideways, and has no serious accessibility violations', async () => {
    const { context, page, errors } = await marketer({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    await page.waitForSelector('table.leads tbody tr');
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390, 'no horizontal scroll on the list');
    await page.screenshot({ path: `${SHOTS}/leads-phone.png`, fullPage: true });
    assert.deepEqual(await axe(page), []);
    await page.click('table.leads tbody tr a');
    await page.waitForSelector('h2#why');
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390, 'no horizontal scroll on a lead');
    assert.deepEqual(await axe(page), []);
    await page.goto(origin + '/dashboard#/overview');
    await page.waitForSelector('h1:text("Overview")');
    assert.deepEqual(await axe(page), []);
    await page.goto(origin + '/dashboard#/deliveries');
    await page.waitForSelector('h1:text("Deliveries")');
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390, 'no horizontal scroll on deliveries');
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('puts a new lead on top live, unless the pointer is on the list: then it waits behind a button', async () => {
    const { context, page, errors } = await marketer();
    const rows = page.locator('table.leads tbody tr');
    await rows.first().waitFor();
    const before = await rows.count();
    // The pointer rests on the list: nothing moves under it.
    await page.hover('table.leads tbody tr');
    const first = await shop();
    await page.waitForSelector('#new-leads:visible', { timeout: 15_000 });
    assert.equal(await rows.count(), before);
    await page.click('#new-leads');
    await until(async () => (await rows.count()) === before + 1, { message: 'the waiting lead to show' });
    // The pointer is elsewhere: the next lead goes on top without a click.
    await page.mouse.move(5, 5);
    const second = await shop();
    await until(async () => (await rows.count()) === before + 2, { message: 'the new lead to appear on top', timeout: 15_000 });
    const visitor = (await second.page.evaluate(() => leadscore.getState())).visitorId;
    assert.match(await rows.first().innerText(), new RegExp(visitor.slice(0, 8)));
    assert.ok(await page.locator('#new-leads').isHidden());
    assert.deepEqual(errors, []);
    await first.context.close();
    await second.context.close();
    await context.close();
  });

  it('forwards leads to the team inbox (a signed webhook): a lead shows where it was sent, and a test event goes on request', async () => {
    const { context, page, errors } = await marketer({ bypassCSP: true });
    await page.goto(origin + '/dashboard#/deliveries');
    await page.waitForSelector('h1:text("Deliveries")');
    const card = page.locator('section[aria-label="team-inbox"]');
    await until(async () => {
      await page.goto(origin + '/dashboard#/leads');
      await page.goto(origin + '/dashboard#/deliveries');
      await card.waitFor();
      return /Delivered\s*[1-9]/.test(await card.innerText());
    }, { message: 'a delivery to the team inbox', timeout: 15_000 });
    await card.locator('button:text("Send a test event")').click();
    await card.locator('p[role=status]:text("Delivered (HTTP 200).")').waitFor();
    assert.match(await page.locator('main').innerText(), /None: everything sent has been delivered/);
    await page.screenshot({ path: `${SHOTS}/deliveries.png`, fullPage: true });
    // A lead's page says where it went.
    const { deliveries } = await page.evaluate(() => fetch('/api/deliveries?state=done').then((response) => response.json()));
    await page.goto(origin + '/dashboard#/lead/' + encodeURIComponent(deliveries[0].leadId));
    await page.waitForSelector('h2#sent');
    assert.match(await page.locator('section[aria-labelledby="sent"]').innerText(), /team-inbox[\s\S]*delivered/);
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('serves the dashboard with a strict Content-Security-Policy and no inline script', async () => {
    const response = await fetch(origin + '/dashboard');
    assert.match(response.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'; style-src 'self'/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    const html = await response.text();
    assert.doesNotMatch(html, /<script>|<style>|\sstyle="|\son\w+="/);
  });
});
