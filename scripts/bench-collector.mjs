// `npm run bench:collector`: the collector's throughput and latency on the embedded database and on
// PostgreSQL, beside a floor measured in the same run: JSON.parse of the same body plus one insert of
// the same row, with the same durability (SQLite WAL + synchronous=FULL, committed in groups of the
// same size; PostgreSQL with as many concurrent connections). Then memory while 200 000 distinct ids
// arrive. The server runs as its own process (`leadscore serve`); this process only sends.
// Then jobs/s through the outbox (destinations) to a local webhook that answers at once.
// BENCH_EVENTS (default 20000), BENCH_CONCURRENCY (32), BENCH_FLAT (200000; 0 skips), BENCH_JOBS (5000; 0 skips), BENCH_RESULTS=0.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FLAT = Number(process.env.BENCH_FLAT ?? 200_000);
const JOBS = Number(process.env.BENCH_JOBS ?? 5000);
const PG_URL = process.env.LEADSCORE_TEST_DATABASE_URL ?? 'postgresql://root@/postgres?host=/var/run/postgresql';
const run = Math.random().toString(36).slice(2, 8);

/** A typical v2 event (1.2 KB), distinct per `i`. */
function body(i) {
  const visitor = `bench-${run}-${i}`;
  return JSON.stringify({
    v: 2, type: 'qualified', id: `${visitor}.mql.1`, site: 'mug-shop.example', visitor, stage: 'mql', threshold: 50, score: 59, n: 1,
    rules: { view_item: { count: 2, points: 16 }, add_to_cart: { count: 2, points: 40 }, page_view: { count: 3, points: 3 } },
    signals: { session_start: 1, page_view: 3, view_item: 2, add_to_cart: 2 },
    visits: 1, firstSeen: 1767607200000, qualifiedAt: 1767866580000, at: 1767866580000, sentAt: 1767866580120, offset: 120,
    page: 'https://mug-shop.example/cart',
    attribution: { landing: 'https://mug-shop.example/?utm_source=newsletter&utm_medium=email', utm_source: 'newsletter', utm_medium: 'email', referrer: 'https://mail.example' },
    traits: {},
    interest: {
      items: [
        { item_id: 'MUG-1', name: 'Blue mug', variant: 'MUG-1-BLUE', price: 24, currency: 'EUR', views: 2, adds: 1, in_cart: true },
        { item_id: 'TEA-3', name: 'Green tea', price: 8.5, currency: 'EUR', views: 1, adds: 0, in_cart: false },
      ],
      categories: ['Mugs', 'Tea'], cart: { value: 24, currency: 'EUR' }, searches: 1,
    },
    lib: 'leadscore@0.1.0',
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (value) => Math.round(value * 100) / 100;

function serve(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/leadscore.mjs', 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/"url":"(http:\/\/[^"]+)"/);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
  });
}

const rssOf = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024;

/** Sends `count` distinct events from `from`, `CONCURRENCY` at a time over keep-alive sockets. */
async function send(url, from, count, onProgress) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const { hostname, port } = new URL(url);
  const latencies = [];
  let next = from;
  let failed = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < from + count) {
        const i = next++;
        const payload = body(i);
        const began = process.hrtime.bigint();
        const status = await new Promise((resolve) => {
          const request = http.request({ hostname, port, path: '/collect', method: 'POST', agent, headers: { 'content-type': 'text/plain', origin: 'https://mug-shop.example', 'content-length': Buffer.byteLength(payload) } }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode));
          });
          request.on('error', () => resolve(0));
          request.end(payload);
        });
        latencies.push(Number(process.hrtime.bigint() - began) / 1e6);
        if (status !== 204) failed++;
        if (onProgress && (i - from) % 10_000 === 0) onProgress(i - from);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { perSecond: Math.round(count / seconds), p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), failed };
}

/** The floor on SQLite: parse + one insert, committed in groups of CONCURRENCY, synchronous=FULL. */
function sqliteFloor(count) {
  const folder = mkdtempSync(join(tmpdir(), 'leadscore-floor-'));
  const db = new Database(join(folder, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE events (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT OR IGNORE INTO events (id, body) VALUES (?, ?)');
  const group = db.transaction((bodies) => {
    for (const text of bodies) insert.run(JSON.parse(text).id, text);
  });
  const bodies = Array.from({ length: count }, (_, i) => body(1e9 + i));
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += CONCURRENCY) group(bodies.slice(i, i + CONCURRENCY));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  rmSync(folder, { recursive: true, force: true });
  return { perSecond: Math.round(count / seconds), perEventMs: round((seconds * 1000) / count) };
}

/** The floor on PostgreSQL: parse + one autocommitted insert, CONCURRENCY connections. */
async function postgresFloor(url, count) {
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
  await pool.query('CREATE TABLE floor_events (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const text = body(2e9 + next++);
        await pool.query('INSERT INTO floor_events (id, body) VALUES ($1, $2) ON CONFLICT DO NOTHING', [JSON.parse(text).id, text]);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await pool.query('DROP TABLE floor_events');
  await pool.end();
  return { perSecond: Math.round(count / seconds) };
}

const config = join(mkdtempSync(join(tmpdir(), 'leadscore-bench-')), 'config.json');
writeFileSync(config, JSON.stringify({ rateLimit: 1e9 }));
const rows = [];

// Embedded database (BENCH_EVENTS=0 skips the throughput phases).
if (EVENTS > 0) {
  const folder = mkdtempSync(join(tmpdir(), 'leadscore-bench-db-'));
  const { child, url } = await serve(['--db', folder, '--config', config]);
  await send(url, 0, 1000); // warm up
  const result = await send(url, 1000, EVENTS);
  const floor = sqliteFloor(EVENTS);
  rows.push({ database: 'embedded (SQLite WAL, synchronous=FULL)', ...result, floor: floor.perSecond, ratio: round(floor.perSecond / result.perSecond) });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  rmSync(folder, { recursive: true, force: true });
}

// PostgreSQL, when it answers.
let pgNote = '';
if (EVENTS > 0) try {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const name = `leadscore_bench_${run}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = PG_URL.replace(/\/postgres(\?|$)/, `/${name}$1`);
  const { child, url: collector } = await serve(['--config', config], { DATABASE_URL: url });
  await send(collector, 0, 1000);
  const result = await send(collector, 1000, Math.min(EVENTS, 10_000));
  const floor = await postgresFloor(url, Math.min(EVENTS, 10_000));
  const version = (await admin.query('SHOW server_version')).rows[0].server_version;
  rows.push({ database: `PostgreSQL ${version} (local socket)`, ...result, floor: floor.perSecond, ratio: round(floor.perSecond / result.perSecond) });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
} catch (error) {
  pgNote = `PostgreSQL not measured: ${error.message}`;
}

// Where the time goes (embedded database), each part alone, same events, same concurrency:
// validation (parseBeacon), the store's insert without HTTP (fold + three statements + group commit),
// and Node's HTTP server answering 204 to the same requests without doing anything.
const parts = {};
if (EVENTS > 0) {
  const { parseBeacon } = await import('../dist/receiver/index.js');
  const bodies = Array.from({ length: EVENTS }, (_, i) => body(3e9 + i));
  let start = process.hrtime.bigint();
  for (const text of bodies) parseBeacon(text);
  parts.parse = Math.round(EVENTS / (Number(process.hrtime.bigint() - start) / 1e9));

  const { openStore } = await import('../dist/collector/index.js');
  const folder = mkdtempSync(join(tmpdir(), 'leadscore-bench-store-'));
  const store = await openStore({ kind: 'sqlite', folder });
  const events = bodies.map((text) => parseBeacon(text).beacon);
  let next = 0;
  start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < events.length) await store.insert(events[next++], { receivedAt: Date.now(), bot: false, flags: [] });
  }));
  parts.store = Math.round(EVENTS / (Number(process.hrtime.bigint() - start) / 1e9));
  await store.close();
  rmSync(folder, { recursive: true, force: true });

  const child = spawn(process.execPath, ['-e', `require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(204).end()); }).listen(0, '127.0.0.1', function () { console.log('"url":"http://127.0.0.1:' + this.address().port + '"'); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => child.stdout.on('data', (chunk) => resolve(String(chunk).match(/"url":"([^"]+)"/)[1])));
  parts.http = (await send(url, 4e9, EVENTS)).perSecond;
  child.kill();
}

// Memory while distinct ids keep arriving (the de-duplication is the database's, not the process's).
const memory = [];
const queries = [];
if (FLAT > 0) {
  const folder = mkdtempSync(join(tmpdir(), 'leadscore-bench-flat-'));
  const token = 'bench-token-' + run;
  const { child, url } = await serve(['--db', folder, '--config', config], { LEADSCORE_API_TOKEN: token });
  await send(url, 5e6, FLAT, (done) => memory.push([done, Math.round(rssOf(child.pid) / 1048576)]));
  memory.push([FLAT, Math.round(rssOf(child.pid) / 1048576)]);
  // The API on that many leads (every event above is a lead of its own): median of 5 requests each.
  const timed = async (label, path) => {
    const times = [];
    let size = 0;
    for (let i = 0; i < 5; i++) {
      const began = performance.now();
      const response = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
      size = (await response.arrayBuffer()).byteLength;
      if (!response.ok) throw new Error(`${path}: ${response.status}`);
      times.push(performance.now() - began);
    }
    times.sort((a, b) => a - b);
    queries.push([label, round(times[2]), size]);
  };
  const firstPage = await (await fetch(url + '/api/leads?limit=50&sort=score', { headers: { authorization: `Bearer ${token}` } })).json();
  await timed('newest 50', '/api/leads?limit=50');
  await timed('top 50 by score', '/api/leads?limit=50&sort=score');
  await timed('the next page (cursor)', `/api/leads?limit=50&sort=score&cursor=${firstPage.next}`);
  await timed('one site, source email, a date range', '/api/leads?limit=50&site=mug-shop.example&source=email&from=2026-01-01&to=2026-02-01');
  await timed('search `q` (a substring of one visitor id)', `/api/leads?limit=50&q=${run}-5001234`);
  await timed(`CSV export of all ${FLAT.toLocaleString('en')} leads`, '/api/leads.csv');
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  rmSync(folder, { recursive: true, force: true });
}

// The outbox: JOBS events stored with one webhook destination (their jobs written in the same
// transaction), then the real delivery loop drains them to a local webhook (its own process)
// answering 200 at once: concurrency 16, no rate limit. Jobs/s from the first claim to the last record.
const outbox = [];
if (JOBS > 0) {
  const { openStore, createDispatcher, parseDestinations, toRoute, silentLogger } = await import('../dist/collector/index.js');
  const { parseBeacon } = await import('../dist/receiver/index.js');
  const hook = spawn(process.execPath, ['-e', `require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200).end('ok')); }).listen(0, '127.0.0.1', function () { console.log('"url":"http://127.0.0.1:' + this.address().port + '"'); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const hookUrl = await new Promise((resolve) => hook.stdout.on('data', (chunk) => resolve(String(chunk).match(/"url":"([^"]+)"/)[1])));
  const secret = 'whsec_' + Buffer.from('bench-secret-bench-secret').toString('base64');
  const { destinations } = parseDestinations([{ type: 'webhook', url: hookUrl, secret: 'env:S', concurrency: 16, ratePerSecond: 1e6 }], { S: secret });
  const measure = async (label, db, drop) => {
    const store = await openStore(db, { routes: destinations.map(toRoute) });
    const events = Array.from({ length: JOBS }, (_, i) => parseBeacon(body(6e9 + i)).beacon);
    let next = 0;
    let began = process.hrtime.bigint();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < events.length) await store.insert(events[next++], { receivedAt: Date.now(), bot: false, flags: [] });
    }));
    const storedPerSecond = Math.round(JOBS / (Number(process.hrtime.bigint() - began) / 1e9));
    const dispatcher = createDispatcher({ store, destinations, log: silentLogger, publicUrl: null, pollMs: 20 });
    began = process.hrtime.bigint();
    dispatcher.start();
    for (;;) {
      const done = (await store.jobCounts()).find((row) => row.state === 'done')?.count ?? 0;
      if (done >= JOBS) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    await dispatcher.stop();
    await store.close();
    await drop();
    outbox.push({ label, storedPerSecond, jobsPerSecond: Math.round(JOBS / seconds) });
  };
  const folder = mkdtempSync(join(tmpdir(), 'leadscore-bench-outbox-'));
  await measure('embedded (SQLite)', { kind: 'sqlite', folder }, async () => rmSync(folder, { recursive: true, force: true }));
  try {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const name = `leadscore_bench_outbox_${run}`;
    await admin.query(`CREATE DATABASE ${name}`);
    await measure('PostgreSQL', { kind: 'postgres', url: PG_URL.replace(/\/postgres(\?|$)/, `/${name}$1`) }, async () => {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    });
  } catch (error) {
    outbox.push({ label: 'PostgreSQL', error: error.message });
  }
  hook.kill();
}

const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform} (${(await import('node:os')).cpus().length} cores), Node ${process.version}; ${EVENTS} distinct events (10 000 on PostgreSQL), ${CONCURRENCY} concurrent keep-alive connections from a separate process, each a 1.2 KB v2 event answered 204 after its commit.`,
  '',
  '| database | events/s | p50 | p99 | failed | floor (parse + one insert, same durability) | floor / collector |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.database} | ${r.perSecond} | ${r.p50} ms | ${r.p99} ms | ${r.failed} | ${r.floor}/s | ${r.ratio}× |`),
  ...(pgNote ? ['', pgNote] : []),
  '',
  `Where the time goes on the embedded database, each part alone at the same concurrency: validation (\`parseBeacon\`) ${parts.parse}/s; the store's insert without HTTP (fold, three statements, group commit) ${parts.store}/s; Node's HTTP server answering 204 without doing anything, to the same load generator ${parts.http}/s. The floor has neither HTTP nor the lead fold; the client runs on the same two cores.`,
  '',
  FLAT > 0 ? `Collector memory (RSS) while ${FLAT.toLocaleString('en')} distinct ids arrive (embedded database): ${memory.map(([done, mb]) => `${done.toLocaleString('en')}: ${mb} MB`).join(', ')}.` : '',
  ...(outbox.length ? ['', `The outbox: ${JOBS.toLocaleString('en')} events stored with one webhook destination (each event's job in its transaction), then delivered by the real loop (16 at once, signed, no rate limit) to a local webhook answering 200 at once, in its own process:`, '', '| database | events/s stored with their jobs (no HTTP) | jobs/s delivered |', '|---|---|---|', ...outbox.map((o) => (o.error ? `| ${o.label} | not measured: ${o.error} | |` : `| ${o.label} | ${o.storedPerSecond} | ${o.jobsPerSecond} |`))] : []),
  ...(queries.length ? ['', `The API with ${FLAT.toLocaleString('en')} leads in the embedded database (median of 5, over HTTP, with its response size):`, '', '| query | time | bytes |', '|---|---|---|', ...queries.map(([label, ms, size]) => `| ${label} | ${ms} ms | ${size} |`)] : []),
];
const report = lines.join('\n');
console.log(report);
if (process.env.BENCH_RESULTS !== '0') {
  const file = 'bench/RESULTS.md';
  const text = readFileSync(file, 'utf8');
  const heading = '## Collector (`npm run bench:collector`)';
  const start = text.indexOf(heading);
  const rest = start < 0 ? '' : text.slice(start + heading.length).replace(/^[\s\S]*?(?=\n## |$)/, '');
  writeFileSync(file, (start < 0 ? text.trimEnd() : text.slice(0, start).trimEnd()) + `\n\n${heading}\n\n${report}\n` + rest);
}
