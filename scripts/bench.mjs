// npm run bench: what the snippet costs a page, measured in headless Chromium (Debian's), and what
// the receiver costs a server. Prints a Markdown table and writes bench/RESULTS.md.
// Medians of RUNS runs (BENCH_RUNS); CPU throttling rates in BENCH_CPU (default 1,4). Main-thread
// time is read from a Chromium trace of each page.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { createBeaconHandler, parseBeacon, createMemoryDedupe } from '../dist/receiver/index.js';
import { launchBrowser, startServer } from '../test/e2e/harness.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// BENCH_FILES compares other builds in the same run (say a copy of an older dist/leadscore.js as
// dist/leadscore.before.js); BENCH_RESULTS=0 leaves bench/RESULTS.md as it is.
const FILES = (process.env.BENCH_FILES ?? 'leadscore.js,leadscore.lite.js').split(',');
// BENCH_SIGNAL_MIX=commerce: the track() half of each burst is product views, cart adds and removes
// of distinct products with names, prices and categories (what interest tracking works on), not a
// custom signal: run with BENCH_FILES against a build before interest tracking to see its cost.
const COMMERCE = process.env.BENCH_SIGNAL_MIX === 'commerce';
/** Signals per page task in a burst: visitors click one thing at a time, not 1 000 in one task. */
const CHUNK = 20;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => Math.round(value * 100) / 100;

const COUNTERS = () => {
  window.__bench = { idb: 0 };
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    window.__bench.idb++;
    return transaction.apply(this, args);
  };
};

/** How a store owner installs it: an async external script (README). The control loads an empty file. */
const page = (script) => `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>${script}</head><body></body></html>`;

/**
 * Reads a Chromium trace of one page: the renderer main thread's tasks, which of them ran our code
 * (the script's evaluation, or a callback whose function lives in our file), and the long ones.
 */
function analyse(buffer, scriptUrl, marks) {
  const events = JSON.parse(buffer.toString()).traceEvents;
  const evaluation = events.find((e) => e.name === 'EvaluateScript' && e.args?.data?.url === scriptUrl);
  if (!evaluation) throw new Error(`no evaluation of ${scriptUrl} in the trace`);
  const main = events.filter((e) => e.pid === evaluation.pid && e.tid === evaluation.tid && e.ph === 'X');
  const tasks = main.filter((e) => e.name === 'RunTask').sort((a, b) => a.ts - b.ts);
  const js = main.filter((e) => e.name === 'EvaluateScript' || e.name === 'FunctionCall').sort((a, b) => a.ts - b.ts);
  const isOurs = (e) => (e.name === 'EvaluateScript' ? e === evaluation : e.args?.data?.url === scriptUrl);
  const mark = (name) => events.find((e) => e.name === name && e.cat?.includes('user_timing'))?.ts;
  let j = 0;
  const classified = tasks.map((task) => {
    while (j < js.length && js[j].ts < task.ts) j++;
    const inside = [];
    for (let k = j; k < js.length && js[k].ts <= task.ts + task.dur; k++) inside.push(js[k]);
    // `entry`: the task was ours from the start (our evaluation, timer, listener, IndexedDB callback);
    // `ours`: our code ran in it at all (also inside the page's own tasks, e.g. its dispatchEvent).
    const first = inside[0];
    const what = first ? `${first.name === 'EvaluateScript' ? 'evaluate' : first.args?.data?.functionName || '(anonymous)'} in ${(first.args?.data?.url ?? '').replace(/^.*\//, '') || 'page'}` : 'no script';
    // `cpu`: the thread's CPU time in the task. Wall time beyond it is time the thread did not run:
    // waiting on the browser process (synchronous IPC) or descheduled (this 2-core VM, with the
    // browser's other processes, the test driver and 4x throttling, which spins, all competing).
    return { ts: task.ts, ms: task.dur / 1000, cpu: (task.tdur ?? task.dur) / 1000, entry: inside.length > 0 && isOurs(inside[0]), ours: inside.some(isOurs), what };
  });
  const between = (from, to) => classified.filter((t) => t.ts >= from && t.ts < to);
  const sum = (list, key = 'ms') => list.reduce((total, t) => total + t[key], 0);
  const long = classified.filter((t) => t.ms > 50 && t.ours);
  const burstStart = mark(marks.start) ?? Infinity;
  const burstEnd = mark(marks.end) ?? Infinity;
  const period = (t) => (t.ts < burstStart ? 'load' : t.ts < burstEnd ? 'burst' : 'after');
  const describe = (t) => `${Math.round(t.ms)} ms (thread CPU ${Math.round(t.cpu)} ms), ${period(t)}, entry: ${t.what}`;
  const longest = classified.filter((t) => t.ours).reduce((top, t) => (!top || t.ms > top.ms ? t : top), null);
  const load = between(0, burstStart);
  const burst = between(burstStart, burstEnd);
  return {
    evaluateMs: evaluation.dur / 1000,
    startupMs: sum(load.filter((t) => t.ours)),
    loadMs: sum(load),
    burstDeferredMs: sum(burst.filter((t) => t.entry)),
    burstPageCpuMs: sum(burst.filter((t) => !t.entry), 'cpu'),
    burstOwnCpuMs: sum(burst.filter((t) => t.entry), 'cpu'),
    longOurs: long.length,
    longOursCpu: long.filter((t) => t.cpu > 50).length,
    longOther: classified.filter((t) => t.ms > 50 && !t.ours).length,
    longestOurs: longest?.ms ?? 0,
    longestDetail: longest ? describe(longest) : 'none',
    longDetails: long.map(describe),
  };
}

/** A fresh browser context (no storage, no cache) and its page, `init` run before the page's scripts, CPU throttled. */
async function openPage(browser, throttle, init) {
  const context = await browser.newContext();
  if (init) await context.addInitScript(init);
  const tab = await context.newPage();
  const client = await context.newCDPSession(tab);
  if (throttle > 1) await client.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  return { context, tab };
}

async function measure(browser, server, path, scriptUrl, throttle, burst) {
  const { context, tab } = await openPage(browser, throttle, COUNTERS);
  const requests = [];
  tab.on('request', (request) => request.url().includes('/collect') && requests.push(request.url()));
  await browser.startTracing(tab, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing'] });
  await tab.goto(server.origin + path);
  await tab.waitForFunction(() => document.readyState === 'complete');
  // Let the deferred start-up work (capture, IndexedDB open, first write) finish.
  await tab.evaluate(() => (window.leadscore?.flush ? window.leadscore.flush() : null));
  await tab.waitForTimeout(500);
  // Half clicks on distinct declared buttons (distinct items: none is merged as a double click), half track().
  await tab.evaluate((count) => {
    for (let i = 0; i < count / 2; i++) {
      const button = document.createElement('button');
      button.setAttribute('data-leadscore-event', 'cta');
      button.setAttribute('data-leadscore-item-id', String(i));
      document.body.append(button);
    }
  }, burst);
  const idbBefore = await tab.evaluate(() => window.__bench.idb);
  const inPageMs = await tab.evaluate(
    async ([count, chunk, commerce]) => {
      const names = ['view_item', 'add_to_cart', 'remove_from_cart'];
      performance.mark('burst-start');
      let spent = 0;
      const buttons = document.querySelectorAll('button');
      await new Promise((resolve) => {
        let i = 0;
        const step = () => {
          const started = performance.now();
          for (const end = Math.min(i + chunk, count); i < end; i++) {
            if (i % 2 && commerce) leadscore.track(names[(i >> 1) % 3], { item_id: 'p' + i, name: 'Product ' + i, price: i % 97, currency: 'EUR', category: 'C' + (i % 7) });
            else if (i % 2) leadscore.track('bench_signal', { i });
            else buttons[i / 2].dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
          }
          spent += performance.now() - started;
          if (i < count) setTimeout(step, 0);
          else resolve();
        };
        step();
      });
      await leadscore.flush();
      await new Promise((resolve) => setTimeout(resolve, 300));
      performance.mark('burst-end');
      return spent;
    },
    [burst, CHUNK, COMMERCE],
  );
  const idb = (await tab.evaluate(() => window.__bench.idb)) - idbBefore;
  const trace = await browser.stopTracing();
  await context.close();
  const result = analyse(trace, scriptUrl, { start: 'burst-start', end: 'burst-end' });
  // BENCH_TRACES=dir keeps the trace of every run with a long task of ours, for chrome://tracing.
  if (process.env.BENCH_TRACES && result.longOurs) {
    mkdirSync(process.env.BENCH_TRACES, { recursive: true });
    writeFileSync(`${process.env.BENCH_TRACES}/${path.slice(1)}-${throttle}x-${burst}-${Date.now()}.json`, trace);
  }
  return { ...result, inPageMs, idb, requests: requests.length };
}

const THROTTLES = (process.env.BENCH_CPU ?? '1,4').split(',').map(Number);
const PATHS = ['/control', ...FILES.map((file) => `/${file}`)];

/** A page per build, installed as in the README, and the control page, which loads an empty script (plus `control`). */
function startBenchServer(control = '') {
  const pages = { '/control': page(`<script async src="/empty.js"></script>${control}`) };
  // A threshold no burst reaches: any request before qualification would be a bug.
  for (const file of FILES) pages[`/${file}`] = page(`<script async src="/dist/${file}" data-allow-automation data-endpoint="/collect" data-threshold="100000"></script>`);
  // The floor for any script that reads its own tag: one line, `document.currentScript`. On a blank
  // page the first touch of `document` creates its wrappers; a real page has paid that already.
  pages['/floor'] = page('<script async src="/floor.js"></script>');
  // The same scripts on a page whose own inline script touched `document` first, as every real page
  // has by the time an async tag runs.
  for (const [name, src] of TOUCHED) pages[`/touched/${name}`] = page(`<script>document.documentElement;</script><script async src="${src}" data-allow-automation data-endpoint="/collect" data-threshold="100000"></script>`);
  const script = (body) => ({ res }) => res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(body);
  return startServer(pages, {
    'GET /empty.js': script(''),
    'GET /floor.js': script('document.currentScript;'),
    // The least any snippet must do at evaluation: keep its tag and schedule its start.
    'GET /floor-start.js': script('(function(){var s=document.currentScript;setTimeout(function(){s&&s.src})})();'),
    'GET /size-only.js': script(sizeOnly()),
  });
}

/**
 * leadscore.js returning before its first statement: what its size alone costs the evaluation (the
 * compiled code published to the main thread, its functions instantiated), before any line runs.
 */
function sizeOnly() {
  const source = readFileSync('dist/leadscore.js', 'utf8');
  const head = '(function(){"use strict";';
  if (!source.includes(head)) throw new Error('dist/leadscore.js no longer starts its IIFE with ' + head);
  return source.replace(head, head + 'if(self)return;');
}

/** Scripts whose evaluation is measured on a page that touched `document` first: [name, src]. */
const TOUCHED = [
  ['empty', '/empty.js'],
  ['floor', '/floor.js'],
  ['floor-start', '/floor-start.js'],
  ['size-only', '/size-only.js'],
  ...FILES.map((file) => [file, `/dist/${file}`]),
];

/** Only the script's evaluation (EvaluateScript in a trace) on a fresh page. */
async function measureEvaluation(browser, server, path, scriptUrl, throttle) {
  const { context, tab } = await openPage(browser, throttle);
  await browser.startTracing(tab, { categories: ['devtools.timeline'] });
  await tab.goto(server.origin + path);
  await tab.waitForFunction(() => document.readyState === 'complete');
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  await context.close();
  const evaluation = events.find((e) => e.name === 'EvaluateScript' && e.args?.data?.url === scriptUrl);
  if (!evaluation) throw new Error(`no evaluation of ${scriptUrl} in the trace`);
  return { wall: evaluation.dur / 1000, cpu: (evaluation.tdur ?? evaluation.dur) / 1000 };
}

/**
 * Evaluation on a page that touched `document` first (the realistic case), interleaved: wall and
 * thread CPU time per script, against an empty script and the two floors.
 */
async function benchTouchedEvaluation() {
  return eachThrottle('touched', '', async (browser, server, throttle) => {
    const runs = Object.fromEntries(TOUCHED.map(([name]) => [name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, src] of TOUCHED) runs[name].push(await measureEvaluation(browser, server, `/touched/${name}`, server.origin + src, throttle));
    }
    const pick = (name, key) => ms(median(runs[name].map((r) => r[key])));
    return [{ throttle, cells: Object.fromEntries(TOUCHED.map(([name]) => [name, { wall: pick(name, 'wall'), cpu: pick(name, 'cpu') }])) }];
  });
}

/**
 * One phase of the bench: its own server and browser, `body(browser, server, throttle)` for each CPU
 * throttling rate, and the host's share during each rate: noted under `label` for the run's summary,
 * and as `steal` on each row the body returned for that rate.
 */
async function eachThrottle(label, control, body) {
  const server = await startBenchServer(control);
  const browser = await launchBrowser();
  const rows = [];
  try {
    for (const throttle of THROTTLES) {
      const phase = cpuTimes();
      const results = await body(browser, server, throttle);
      const steal = stealSince(phase);
      stealByPhase.push(`${label} ${throttle}×: ${steal} %`);
      for (const row of results) rows.push({ ...row, steal });
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return rows;
}

async function benchBrowser() {
  return eachThrottle('traced', '<script>window.leadscore = { track() {}, flush: async () => {} };</script>', async (browser, server, throttle) => {
    const run = async (path, url) => {
      const small = await measure(browser, server, path, url, throttle, 1000);
      const large = await measure(browser, server, path, url, throttle, 10_000);
      return { small, large };
    };
    const rows = [];
    const control = [];
    for (let i = 0; i < RUNS; i++) control.push(await run('/control', `${server.origin}/empty.js`));
    const c = (pick) => median(control.map(pick));
    const floor = [];
    for (let i = 0; i < RUNS; i++) floor.push((await measureEvaluation(browser, server, '/floor', `${server.origin}/floor.js`, throttle)).wall);
    for (const file of FILES) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await run(`/${file}`, `${server.origin}/dist/${file}`));
      const m = (pick) => median(runs.map(pick));
      const all = runs.flatMap((r) => [r.small, r.large]);
      const longest = all.reduce((top, r) => (r.longestOurs > top.longestOurs ? r : top));
      rows.push({
        file,
        throttle,
        evaluateMs: ms(m((r) => r.small.evaluateMs)),
        controlEvaluateMs: ms(c((r) => r.small.evaluateMs)),
        floorEvaluateMs: ms(median(floor)),
        startupMs: ms(m((r) => r.small.startupMs)),
        loadMs: ms(m((r) => r.small.loadMs)),
        controlLoadMs: ms(c((r) => r.small.loadMs)),
        // In the page's own tasks (its clicks and track() calls) beyond the control, plus our own tasks.
        burst1kMs: ms(m((r) => r.small.inPageMs) - c((r) => r.small.inPageMs) + m((r) => r.small.burstDeferredMs)),
        burst1kOwnMs: ms(m((r) => r.small.burstDeferredMs)),
        burst1kCpuMs: ms(m((r) => r.small.burstPageCpuMs) - c((r) => r.small.burstPageCpuMs) + m((r) => r.small.burstOwnCpuMs)),
        burst10kMs: ms(m((r) => r.large.inPageMs) - c((r) => r.large.inPageMs) + m((r) => r.large.burstDeferredMs)),
        idbPerBurst: m((r) => r.small.idb),
        longOurs: all.reduce((n, r) => n + r.longOurs, 0),
        longOursCpu: all.reduce((n, r) => n + r.longOursCpu, 0),
        longDetails: all.flatMap((r) => r.longDetails),
        longOther: all.reduce((n, r) => n + r.longOther, 0),
        controlLong: control.flatMap((r) => [r.small, r.large]).reduce((n, r) => n + r.longOther, 0),
        longestOursMs: ms(longest.longestOurs),
        longestDetail: longest.longestDetail,
        requests: all.reduce((n, r) => n + r.requests, 0),
      });
    }
    return rows;
  });
}

/**
 * Long tasks without tracing (tracing itself slows the browser): page loads of each build and of
 * the empty-script control, counted by a `longtask` PerformanceObserver over the load and the
 * following second. The control's count is this machine's own noise.
 */
async function longTaskSurvey() {
  const LOADS = Number(process.env.BENCH_LOADS ?? 10);
  return eachThrottle('untraced', '', async (browser, server, throttle) => {
    const counts = Object.fromEntries(PATHS.map((path) => [path, []]));
    const loadSteal = Object.fromEntries(PATHS.map((path) => [path, []]));
    for (let i = 0; i < LOADS; i++) {
      for (const path of PATHS) {
        // The host's share during this one load: long tasks in loads it took from are suspect.
        const load = cpuTimes();
        const { context, tab } = await openPage(browser, throttle, () => {
          window.__long = [];
          window.__scripts = [];
          new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__long.push({ start: e.startTime, ms: e.duration }))).observe({ type: 'longtask', buffered: true });
          // Long Animation Frames name the scripts (over 5 ms) that ran in a long frame: which long
          // tasks our code made long, without the tracing that slows the browser.
          new PerformanceObserver((list) => list.getEntries().forEach((frame) => frame.scripts.forEach((script) => window.__scripts.push({ url: script.sourceURL, start: script.startTime, ms: script.duration, invoker: script.invoker })))).observe({ type: 'long-animation-frame', buffered: true });
        });
        await tab.goto(server.origin + path);
        // The load, its start-up steps and the first write (1 s after the start), with a margin.
        await tab.waitForTimeout(2500);
        const { long, scripts } = await tab.evaluate(() => ({ long: window.__long, scripts: window.__scripts }));
        const steal = stealSince(load);
        loadSteal[path].push(steal);
        for (const task of long) {
          const own = scripts.filter((script) => /\/dist\/leadscore/.test(script.url) && script.start >= task.start - 1 && script.start < task.start + task.ms);
          const ours = own.reduce((sum, script) => sum + script.ms, 0);
          // Ours when our scripts' time is what made it long: without it, the task would be under 50 ms.
          const via = own.map((script) => script.invoker.replace(/^https?:\/\/[^/]+\/dist\//, '')).join(' + ');
          counts[path].push({ ms: Math.round(task.ms), ours: Math.round(ours), caused: ours > 0 && task.ms - ours <= 50, via, steal });
        }
        await context.close();
      }
    }
    return [{ throttle, loads: LOADS, counts, loadSteal }];
  });
}

function typicalBeacon(i) {
  return JSON.stringify({
    v: 2, type: 'qualified', id: `visitor-${i}.mql.1`, site: 'mug-shop.example', visitor: `visitor-${i}`, stage: 'mql', threshold: 50, score: 52.86, n: 1,
    rules: { repeat_visit: { count: 1, points: 10 }, view_item: { count: 2, points: 16 }, add_to_cart: { count: 1, points: 20 }, high_value_page: { count: 1, points: 12 }, page_view: { count: 6, points: 5.4 }, engaged_time: { count: 4, points: 4 } },
    signals: { session_start: 2, repeat_visit: 1, page_view: 6, view_item: 2, add_to_cart: 1, engaged_time: 6 },
    visits: 2, firstSeen: 1767607200000, qualifiedAt: 1767866580000, at: 1767866580000, sentAt: 1767866580120, offset: 120,
    page: 'https://mug-shop.example/cart',
    attribution: { landing: 'https://mug-shop.example/?utm_source=newsletter&utm_medium=email', utm_source: 'newsletter', utm_medium: 'email', referrer: 'https://mail.example' },
    traits: { email: 'ana@example.com' },
    interest: {
      items: [
        { item_id: 'MUG-1', name: 'Blue mug', variant: 'MUG-1-BLUE', price: 24, currency: 'EUR', views: 2, adds: 1, in_cart: true },
        { item_id: 'TEA-3', name: 'Green tea', price: 8.5, currency: 'EUR', views: 1, adds: 0, in_cart: false },
      ],
      categories: ['Mugs', 'Tea'], cart: { value: 24, currency: 'EUR' }, searches: 1,
    },
    vitals: { lcp: 1180, inp: 64, cls: 0.0123, ttfb: 210 }, lib: 'leadscore@0.1.0',
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

/**
 * CPU time the hypervisor gave to others while this machine wanted it ("steal", /proc/stat), as a
 * share of all CPU time: on a shared VM it inflates every wall-clock figure, and even thread CPU time.
 */
function cpuTimes() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user and nice).
    return { total: fields.slice(0, 8).reduce((sum, value) => sum + value, 0), steal: fields[7] ?? 0 };
  } catch {
    return null;
  }
}
/** The stolen share since `before`, in whole percent ('?' where /proc/stat cannot be read). */
function stealSince(before) {
  const after = cpuTimes();
  return before && after && after.total > before.total ? Math.round((100 * (after.steal - before.steal)) / (after.total - before.total)) : '?';
}
const stealByPhase = [];
/** A load during which the host took under this share of the CPU counts as quiet. */
const QUIET_STEAL = 3;
const quiet = (steal) => typeof steal === 'number' && steal < QUIET_STEAL;
const cpuBefore = cpuTimes();
const shipped = sizes();
const browserRows = await benchBrowser();
const touched = await benchTouchedEvaluation();
const survey = await longTaskSurvey();
const receiver = benchReceiver();
const chromium = (await import('node:child_process')).execSync('/usr/bin/chromium --version').toString().trim();
const steal = cpuBefore ? ` CPU time stolen by the hypervisor during the run: ${stealSince(cpuBefore)} % (${stealByPhase.join(', ')}).` : '';

const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform} (${(await import('node:os')).cpus().length} cores), ${chromium}, Node ${process.version}; median of ${RUNS} runs.${steal}`,
  '',
  '| file | raw | gzip | brotli |',
  '|---|---|---|---|',
  ...shipped.map((s) => `| ${s.file} | ${s.raw} B | ${s.gzip} B | ${s.brotli} B |`),
  '',
  '| build | CPU | evaluation | same, empty script | same, a script that only reads `document.currentScript` | start-up tasks | page main-thread time to idle | same, empty script | 1 000 signals (in page tasks + own tasks) | same, thread CPU time | 10 000 signals | IndexedDB transactions / 1 000 signals | long tasks running our code | of them, over 50 ms of thread CPU time | longest task running our code | other long tasks (control) | requests before qualification |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...browserRows.map((r) => `| ${r.file} | ${r.throttle}× | ${r.evaluateMs} ms | ${r.controlEvaluateMs} ms | ${r.floorEvaluateMs} ms | ${r.startupMs} ms | ${r.loadMs} ms | ${r.controlLoadMs} ms | ${r.burst1kMs} ms (${ms(r.burst1kMs - r.burst1kOwnMs)} + ${r.burst1kOwnMs}) | ${r.burst1kCpuMs} ms | ${r.burst10kMs} ms | ${r.idbPerBurst} | ${r.longOurs} | ${r.longOursCpu} | ${r.longestOursMs} ms | ${r.longOther} (${r.controlLong}) | ${r.requests} |`),
  '',
  `From a Chromium trace of each page (median of ${RUNS} runs; long-task counts are totals over all runs). Evaluation: the script's EvaluateScript on the main thread (an \`async\` script as in the README, compiled off the main thread while it streams in), against an empty script and against the floor for any script that finds its own tag (on a blank page, the first touch of \`document\` creates its wrappers). Start-up tasks: every main-thread task, until the burst, in which leadscore code ran (its evaluation, the deferred start, capture, the first IndexedDB read and write). Signals: half \`track()\` calls, half clicks on distinct \`data-leadscore-event\` buttons, ${CHUNK} per page task, all stored (\`flush()\`); the time of those page tasks beyond the same burst on the control page (a no-op \`leadscore\`), plus every task of our own during the burst (storage writes). Thread CPU time: the same tasks' CPU time on the main thread (trace \`tdur\`), which leaves out time the thread was not running (descheduled on this 2-core VM, or waiting on the browser process). Long tasks: main-thread tasks over 50 ms, split by whether leadscore code ran in them; of ours, those with over 50 ms of thread CPU time.`,
  '',
  `Evaluation on a page whose inline script touched \`document\` first, as any real page has (EvaluateScript in a trace, median of ${RUNS} interleaved loads per script; wall / thread CPU time; \`currentScript\` + timer: the least any snippet does, keep its tag and schedule its start; size only: leadscore.js returning before its first statement, the cost of its size alone):`,
  '',
  '| CPU | host took | empty script | `document.currentScript` alone | `currentScript` + timer | size only | ' + FILES.join(' | ') + ' | ' + FILES.map((file) => `${file} / empty (CPU)`).join(' | ') + ' |',
  '|---|---|---|---|---|---|' + FILES.map(() => '---|---|').join(''),
  ...touched.map((r) => `| ${r.throttle}× | ${r.steal} % | ${TOUCHED.map(([name]) => `${r.cells[name].wall} / ${r.cells[name].cpu} ms`).join(' | ')} | ${FILES.map((file) => `${ms(r.cells[file].cpu / r.cells.empty.cpu)}×`).join(' | ')} |`),
  '',
  '',
  'Long tasks on page loads without tracing (a `longtask` observer over the load and the next 2.5 s, which include the first write; `ours`: the time of leadscore scripts in that task, from Long Animation Frame script entries, which list scripts over 5 ms; a task is one our code made long when it would be under 50 ms without that time; `host`: the share of CPU time the hypervisor took during that load, from `/proc/stat`):',
  '',
  '| CPU | loads per page | empty script | ' + FILES.join(' | ') + ' | long tasks our code made long (' + FILES.join(' / ') + `) | same, in loads while the host took under ${QUIET_STEAL} % (of how many loads) |`,
  '|---|---|---|' + FILES.map(() => '---|').join('') + '---|---|',
  ...survey.map((r) => `| ${r.throttle}× | ${r.loads} | ${Object.values(r.counts).map((list) => `${list.length}${list.length ? ` (${list.map((t) => `${t.ms} ms${t.ours ? `, ours ${t.ours} ms in ${t.via}` : ''}, host ${t.steal} %`).join('; ')})` : ''}`).join(' | ')} | ${FILES.map((file) => r.counts[`/${file}`].filter((t) => t.caused).length).join(' / ')} | ${FILES.map((file) => `${r.counts[`/${file}`].filter((t) => t.caused && quiet(t.steal)).length} (${r.loadSteal[`/${file}`].filter(quiet).length})`).join(' / ')} |`),
  '',
  'Long tasks in which leadscore code ran, all traced runs:',
  ...browserRows.flatMap((r) => r.longDetails.map((detail) => `- ${r.file} ${r.throttle}×: ${detail}`)),
  ...(browserRows.some((r) => r.longDetails.length) ? [] : ['- none']),
  '',
  'The longest task in which leadscore code ran, per build (traced, all runs):',
  ...browserRows.map((r) => `- ${r.file} ${r.throttle}×: ${r.longestDetail}`),
  '',
  `Receiver, one core: ${receiver.validatePerSecond.toLocaleString('en')} beacons/s validated and de-duplicated vs ${receiver.jsonParsePerSecond.toLocaleString('en')}/s bare JSON.parse of the same ${receiver.bytes}-byte bodies: ${receiver.ratio}× the cost of JSON.parse.`,
];
const report = lines.join('\n');
console.log(report);
if (process.env.BENCH_RESULTS !== '0') writeFileSync('bench/RESULTS.md', `# Benchmark results\n\nReproduce: \`npm run bench\` (BENCH_RUNS=9 for more runs).\n\n${report}\n`);
