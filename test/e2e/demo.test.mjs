import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openPage, until } from './harness.mjs';

describe('npm run demo: the whole loop in real Chromium', () => {
  let server;
  let origin;
  let browser;
  const dir = mkdtempSync(join(tmpdir(), 'leadscore-demo-'));
  let password;
  let cookie;

  async function start() {
    server = spawn(process.execPath, ['demo/server.mjs'], { env: { ...process.env, PORT: '0', DEMO_DB: dir, LEADSCORE_ADMIN_PASSWORD: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    // The banner ends with the database line; stdout may deliver it in several chunks.
    await until(() => /demo store:\s+http:\/\/127\.0\.0\.1:\d+[\s\S]*lead database:.*\(\d+ leads\)/.test(output), { message: 'the demo server' });
    origin = output.match(/demo store:\s+(http:\/\/127\.0\.0\.1:\d+)/)[1];
    password = output.match(/\(password: ([\w-]+)\)/)[1];
    const login = await fetch(origin + '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    cookie = login.headers.get('set-cookie').split(';')[0];
    return output;
  }

  before(async () => {
    await start();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a short visit qualifies and the lead appears live on the dashboard, stored in the embedded database', async () => {
    const marketer = await browser.newContext();
    const dashboard = (await openPage(marketer)).page;
    await dashboard.goto(origin + '/dashboard');
    // No lead for a visitor who has not signed in.
    assert.equal((await fetch(origin + '/api/leads')).status, 401);
    await dashboard.fill('#password', 'wrong');
    await dashboard.click('#login button');
    await dashboard.waitForSelector('#login-error:text("Wrong password.")');
    await dashboard.fill('#password', password);
    await dashboard.click('#login button');
    await dashboard.waitForSelector('#live:text("● live")');
    assert.equal(await dashboard.locator('#leads tr').count(), 0);

    const shopper = await browser.newContext();
    const { page, errors } = await openPage(shopper);
    await page.goto(origin + '/');
    await page.click('text=Blue stoneware mug');
    await page.waitForURL('**/products/blue-mug');
    await Promise.all([page.waitForURL('**/cart'), page.click('button:text("Add to cart")')]);

    // The dashboard updates by itself (server-sent events): no reload.
    const row = dashboard.locator('#leads tr').first();
    await row.waitFor({ timeout: 15_000 });
    const text = await row.innerText();
    assert.match(text, /mql/);
    assert.match(text, /add_to_cart 20/);
    assert.match(text, /\/cart/);
    const state = await page.evaluate(() => leadscore.getState());
    assert.equal(state.stage, 'mql');
    assert.ok(state.score >= 40);
    assert.match(await dashboard.locator('#total').innerText(), /^1$/);
    assert.ok(existsSync(join(dir, 'leadscore.sqlite')), 'the embedded database file exists');
    const { leads } = await (await fetch(origin + '/api/leads', { headers: { cookie } })).json();
    assert.equal(leads.length, 1);
    assert.equal(leads[0].visitor, state.visitorId);
    assert.deepEqual(errors, []);
    await dashboard.screenshot({ path: 'test/e2e/.tmp/dashboard.png', fullPage: true });
    await shopper.close();
    await marketer.close();
  });

  it('keeps leads in the database across restarts of the server', async () => {
    const before = (await (await fetch(origin + '/api/leads', { headers: { cookie } })).json()).leads;
    server.kill();
    await new Promise((resolve) => server.once('exit', resolve));
    const output = await start();
    assert.match(output, /\(1 leads\)/);
    const afterRestart = (await (await fetch(origin + '/api/leads', { headers: { cookie } })).json()).leads;
    assert.deepEqual(afterRestart.map((lead) => lead.id), before.map((lead) => lead.id));
  });
});
