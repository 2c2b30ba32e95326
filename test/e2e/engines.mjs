// Three browser engines behind one small interface, so one test body runs in each: Chromium
// (playwright-core), Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKit (WebKitGTK's
// MiniBrowser through WebKitWebDriver and selenium-webdriver, which needs a display: run.mjs runs
// the suite under xvfb-run). All from Debian's packages; nothing is downloaded.
//
//   engine  = await launchEngine(name)     one browser process (WebKit: one driver per profile)
//   profile = await engine.profile()       isolated storage, like a fresh visitor
//   tab     = await profile.open(url)      a page; tab.evaluate / click / url / errors / close
//
// Classic WebDriver has no console access, so page errors are collected inside the page: every
// test page starts with ERROR_RECORDER, and tab.errors() reads what it recorded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { launchBrowser, CHROMIUM_PATH, ERROR_RECORDER } from './harness.mjs';

export const FIREFOX_PATH = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER_PATH = process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver';
export const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export { ERROR_RECORDER };

/** Why an engine cannot run here, or null when it can. */
export function missingEngine(name) {
  if (name === 'chromium') return existsSync(CHROMIUM_PATH) ? null : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`;
  if (name === 'firefox') return existsSync(FIREFOX_PATH) ? null : `no Firefox ESR at ${FIREFOX_PATH} (apt-get install firefox-esr)`;
  if (!existsSync(WEBKIT_DRIVER_PATH) || !existsSync(MINIBROWSER_PATH)) return `no WebKitGTK driver at ${WEBKIT_DRIVER_PATH} (apt-get install webkit2gtk-driver)`;
  if (!process.env.DISPLAY) return 'no display for WebKit (run under xvfb-run -a; apt-get install xvfb)';
  return null;
}

const tabOf = (api) => ({
  ...api,
  /** Polls `fn(arg)` in the page until it returns a truthy value; resolves to it. */
  async waitFor(fn, arg, { timeout = 10_000, message = 'a condition in the page' } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      let value;
      try {
        value = await api.evaluate(fn, arg);
      } catch (error) {
        // A navigation in progress destroys the context: try again.
        if (Date.now() > deadline) throw error;
      }
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  },
  /** Waits until the tab's URL contains `part` and the new page has booted the snippet. */
  async waitForUrl(part, { timeout = 10_000 } = {}) {
    const deadline = Date.now() + timeout;
    while (!(await api.url()).includes(part)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for a URL with ${part}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  },
  errors: () => api.evaluate(() => window.__errors ?? ['no error recorder on this page']),
});

/** Playwright's and puppeteer's pages share this much API; so do their contexts. */
const pageTab = (page) =>
  tabOf({
    goto: (to) => page.goto(to).then(() => undefined),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    click: (selector) => page.click(selector),
    url: async () => page.url(),
    close: () => page.close(),
  });
const contextProfile = (context) => ({
  async open(url) {
    const page = await context.newPage();
    await page.goto(url);
    return pageTab(page);
  },
  close: () => context.close(),
});

async function chromium() {
  const browser = await launchBrowser();
  return { name: 'chromium', profile: async () => contextProfile(await browser.newContext()), close: () => browser.close() };
}

async function firefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true });
  return { name: 'firefox', profile: async () => contextProfile(await browser.createBrowserContext()), close: () => browser.close() };
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function webkit() {
  const { Builder, By } = await import('selenium-webdriver');
  const drivers = new Set();
  return {
    name: 'webkit',
    /** A WebDriver session (its own MiniBrowser, its own storage) on a WebKitWebDriver of its own. */
    async profile() {
      const port = await freePort();
      const service = spawn(WEBKIT_DRIVER_PATH, [`--port=${port}`], { stdio: 'ignore' });
      let driver;
      for (let tries = 0; !driver; tries++) {
        try {
          driver = await new Builder()
            .usingServer(`http://127.0.0.1:${port}`)
            .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] } })
            .build();
        } catch (error) {
          if (tries > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await driver.manage().setTimeouts({ script: 30_000, pageLoad: 30_000 });
      const entry = { driver, service };
      drivers.add(entry);
      let first = true;
      let current;
      const on = async (handle) => {
        if (current !== handle) await driver.switchTo().window(handle);
        current = handle;
      };
      return {
        async open(url) {
          if (!first) await driver.switchTo().newWindow('tab');
          first = false;
          const handle = await driver.getWindowHandle();
          current = handle;
          await driver.get(url);
          return tabOf({
            goto: async (to) => (await on(handle), driver.get(to)),
            // The function's source runs in the page; its result comes back through the async
            // script callback (JSON-safe values only).
            evaluate: async (fn, arg) => {
              await on(handle);
              const outcome = await driver.executeAsyncScript(
                `const done = arguments[arguments.length - 1];
                 Promise.resolve().then(() => (${fn.toString()})(arguments[0])).then((value) => done({ value }), (error) => done({ error: String(error && error.stack || error) }));`,
                arg,
              );
              if (outcome?.error) throw new Error(outcome.error);
              return outcome?.value;
            },
            click: async (selector) => (await on(handle), driver.findElement(By.css(selector)).click()),
            url: async () => (await on(handle), driver.getCurrentUrl()),
            close: async () => {
              await on(handle);
              await driver.close();
              current = undefined;
              const [other] = await driver.getAllWindowHandles();
              if (other) await on(other);
            },
          });
        },
        async close() {
          drivers.delete(entry);
          await driver.quit().catch(() => undefined);
          service.kill();
        },
      };
    },
    async close() {
      for (const { driver, service } of drivers) {
        await driver.quit().catch(() => undefined);
        service.kill();
      }
    },
  };
}

/** Launches `name` ('chromium' | 'firefox' | 'webkit'). */
export function launchEngine(name) {
  return { chromium, firefox, webkit }[name]();
}
