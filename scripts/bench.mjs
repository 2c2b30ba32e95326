// npm run bench: what the snippet costs a page, measured in headless Chromium (Debian's), and what
// the receiver costs a server. Prints a Markdown table and writes bench/RESULTS.md.
// Medians of RUNS runs; main-thread time is CDP Performance.getMetrics TaskDuration.
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { createBeaconHandler, parseBeacon, createMemoryDedupe } from '../dist/receiver/index.js';
import { launchBrowser, startServer } from '../test/e2e/harness.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FILES = ['leadscore.js', 'leadscore.lite.js'];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => Math.round(value * 100) / 100;

const COUNTERS = () => {
  window.__bench = { idb: 0, longTasks: 0 };
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    window.__bench.idb++;
    return transaction.apply(this, args);
  };
  new PerformanceObserver((list) => (window.__bench.longTasks += list.getEntries().length)).observe({ type: 'longtask', buffered: true });
};

function page(code, attributes) {
  // The snippet inline, between two marks: its evaluation and synchronous initialisation.
  return `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<script>performance.mark('before')</script><script ${attributes}>${code}</script><script>performance.mark('after')</script>
</head><body><button id="b" data-leadscore-event="cta">Go</button></body></html>`;
}

async function metrics(client) {
  const { metrics } = await client.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

async function measure(browser, server, path, throttle, burst) {
  const context = await browser.newContext();
  await context.addInitScript(COUNTERS);
  const tab = await context.newPage();
  const client = await context.newCDPSession(tab);
  await client.send('Performance.enable');
  if (throttle > 1) await client.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  const requests = [];
  tab.on('request', (request) => request.url().includes('/collect') && requests.push(request.url()));
  await tab.goto(server.origin + path);
  await tab.waitForFunction(() => document.readyState === 'complete');
  // Let the deferred start-up work (IndexedDB open, first write) finish, then read the totals.
  await tab.evaluate(() => (window.leadscore?.flush ? window.leadscore.flush() : null));
  await tab.waitForTimeout(300);
  const evalMs = await tab.evaluate(() => performance.measure('snippet', 'before', 'after').duration);
  const start = await metrics(client);
  let burstMs = null;
  let idbPerBurst = null;
  if (burst) {
    const idbBefore = await tab.evaluate(() => window.__bench.idb);
    const before = await metrics(client);
    await tab.evaluate(async (count) => {
      const button = document.getElementById('b');
      for (let i = 0; i < count; i++) {
        if (i % 2) leadscore.track('bench_signal', { i });
        else button.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
      }
      await leadscore.flush();
    }, burst);
    await tab.waitForTimeout(200);
    const after = await metrics(client);
    burstMs = (after.TaskDuration - before.TaskDuration) * 1000;
    idbPerBurst = (await tab.evaluate(() => window.__bench.idb)) - idbBefore;
  }
  const counters = await tab.evaluate(() => window.__bench);
  await context.close();
  return { evalMs, loadTaskMs: start.TaskDuration * 1000, burstMs, idbPerBurst, longTasks: counters.longTasks, requests: requests.length };
}

async function benchBrowser() {
  // The control runs the same page and burst with a no-op leadscore: its cost is the page's own.
  const pages = { '/control': page('window.leadscore = { track() {}, flush: async () => {} };', '') };
  for (const file of FILES) {
    const code = readFileSync(`dist/${file}`, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
    // A threshold no burst reaches: any request before qualification would be a bug.
    pages[`/${file}`] = page(code, 'data-allow-automation data-endpoint="/collect" data-threshold="100000"');
  }
  const server = await startServer(pages);
  const browser = await launchBrowser();
  const rows = [];
  try {
    for (const throttle of [1, 4]) {
      const control = [];
      for (let i = 0; i < RUNS; i++) {
        const small = await measure(browser, server, '/control', throttle, 1000);
        const large = await measure(browser, server, '/control', throttle, 10_000);
        control.push({ ...small, burst10k: large.burstMs, longTasks: small.longTasks + large.longTasks });
      }
      const controlLoad = median(control.map((c) => c.loadTaskMs));
      const controlLongTasks = control.reduce((sum, c) => sum + c.longTasks, 0);
      for (const file of FILES) {
        const runs = { evalMs: [], loadTaskMs: [], burst1k: [], burst10k: [], idb: [], longTasks: 0, requests: 0 };
        for (let i = 0; i < RUNS; i++) {
          const small = await measure(browser, server, `/${file}`, throttle, 1000);
          const large = await measure(browser, server, `/${file}`, throttle, 10_000);
          runs.evalMs.push(small.evalMs);
          runs.loadTaskMs.push(small.loadTaskMs);
          runs.burst1k.push(small.burstMs);
          runs.burst10k.push(large.burstMs);
          runs.idb.push(small.idbPerBurst);
          runs.longTasks += small.longTasks + large.longTasks;
          runs.requests += small.requests + large.requests;
        }
        rows.push({
          file,
          throttle,
          evalMs: ms(median(runs.evalMs)),
          controlEvalMs: ms(median(control.map((c) => c.evalMs))),
          loadMs: ms(median(runs.loadTaskMs)),
          controlLoadMs: ms(controlLoad),
          burst1kMs: ms(median(runs.burst1k) - median(control.map((c) => c.burstMs))),
          burst10kMs: ms(median(runs.burst10k) - median(control.map((c) => c.burst10k))),
          idbPerBurst: median(runs.idb),
          longTasks: runs.longTasks,
          controlLongTasks,
          requests: runs.requests,
        });
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return rows;
}

function typicalBeacon(i) {
  return JSON.stringify({
    v: 1, id: `visitor-${i}.mql.1`, site: 'mug-shop.example', visitor: `visitor-${i}`, stage: 'mql', threshold: 50, score: 52.86, n: 1,
    rules: { repeat_visit: { count: 1, points: 10 }, view_item: { count: 2, points: 16 }, add_to_cart: { count: 1, points: 20 }, high_value_page: { count: 1, points: 12 }, page_view: { count: 6, points: 5.4 }, engaged_time: { count: 4, points: 4 } },
    signals: { session_start: 2, repeat_visit: 1, page_view: 6, view_item: 2, add_to_cart: 1, engaged_time: 6 },
    visits: 2, firstSeen: 1767607200000, qualifiedAt: 1767866580000, sentAt: 1767866580120, offset: 120,
    page: 'https://mug-shop.example/cart',
    attribution: { landing: 'https://mug-shop.example/?utm_source=newsletter&utm_medium=email', utm_source: 'newsletter', utm_medium: 'email', referrer: 'https://mail.example' },
    traits: { email: 'ana@example.com' }, vitals: { lcp: 1180, inp: 64, cls: 0.0123, ttfb: 210 }, lib: 'leadscore@0.1.0',
  });
}

function benchReceiver() {
  const bodies = Array.from({ length: 20_000 }, (_, i) => typicalBeacon(i));
  const time = (fn) => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  // Warm up the JIT on both paths first.
  for (const body of bodies.slice(0, 2000)) (JSON.parse(body), parseBeacon(body));
  const parseMs = median([0, 1, 2].map(() => time(() => bodies.forEach((body) => JSON.parse(body)))));
  const validateMs = median(
    [0, 1, 2].map(() => {
      const dedupe = createMemoryDedupe();
      return time(() => bodies.forEach((body) => { const result = parseBeacon(body); if (result.ok) dedupe.add(result.beacon.id); }));
    }),
  );
  void createBeaconHandler;
  return {
    beacons: bodies.length,
    bytes: Buffer.byteLength(bodies[0]),
    jsonParsePerSecond: Math.round(bodies.length / (parseMs / 1000)),
    validatePerSecond: Math.round(bodies.length / (validateMs / 1000)),
    ratio: ms(validateMs / parseMs),
  };
}

function sizes() {
  return ['leadscore.js', 'leadscore.lite.js', 'leadscore.debug.js'].map((file) => {
    const bytes = readFileSync(`dist/${file}`);
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes).length };
  });
}

const shipped = sizes();
const browserRows = await benchBrowser();
const receiver = benchReceiver();
const chromium = (await import('node:child_process')).execSync('/usr/bin/chromium --version').toString().trim();

const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform} (${(await import('node:os')).cpus().length} cores), ${chromium}, Node ${process.version}; median of ${RUNS} runs.`,
  '',
  '| file | raw | gzip | brotli |',
  '|---|---|---|---|',
  ...shipped.map((s) => `| ${s.file} | ${s.raw} B | ${s.gzip} B | ${s.brotli} B |`),
  '',
  '| build | CPU | eval + init (sync) | same, empty script | page main-thread time to idle | same, empty script | ratio | 1 000 signals | 10 000 signals | IndexedDB transactions / 1 000 signals | long tasks (all runs) | same, empty script | requests before qualification |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...browserRows.map((r) => `| ${r.file} | ${r.throttle}× | ${r.evalMs} ms | ${r.controlEvalMs} ms | ${r.loadMs} ms | ${r.controlLoadMs} ms | ${ms(r.loadMs / r.controlLoadMs)}× | ${r.burst1kMs} ms | ${r.burst10kMs} ms | ${r.idbPerBurst} | ${r.longTasks} | ${r.controlLongTasks} | ${r.requests} |`),
  '',
  'Signals: half `track()` calls, half clicks on a `data-leadscore-event` button, all stored (`flush()`); main-thread time minus the same burst on the control page (a no-op `leadscore`). Long tasks: every task over 50 ms on the page during the load and both bursts, including the burst loop itself.',
  '',
  `Receiver, one core: ${receiver.validatePerSecond.toLocaleString('en')} beacons/s validated and de-duplicated vs ${receiver.jsonParsePerSecond.toLocaleString('en')}/s bare JSON.parse of the same ${receiver.bytes}-byte bodies: ${receiver.ratio}× the cost of JSON.parse.`,
];
const report = lines.join('\n');
console.log(report);
writeFileSync('bench/RESULTS.md', `# Benchmark results\n\nReproduce: \`npm run bench\` (BENCH_RUNS=9 for more runs).\n\n${report}\n`);
