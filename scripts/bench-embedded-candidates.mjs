// The measurement behind the choice of the embedded database (ARCHITECTURE.md): better-sqlite3 in
// WAL mode with synchronous=FULL against PGlite (PostgreSQL in WebAssembly) on disk, inserting the
// same 1.2 KB events one committed transaction each, then in groups of 32; then, for durability, a
// child process that inserts and acknowledges, killed with SIGKILL mid-run: how many acknowledged
// rows survive. Not part of the package: run it where both are installed
// (`npm install --no-save @electric-sql/pglite`), e.g. `node scripts/bench-embedded-candidates.mjs`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.BENCH_EVENTS ?? 2000);
const text = (i) => JSON.stringify({ id: `e${i}`, pad: 'x'.repeat(1200) });

async function betterSqlite(folder, group) {
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(folder, 'a.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body TEXT)');
  const insert = db.prepare('INSERT OR IGNORE INTO events VALUES (?, ?)');
  const batch = db.transaction((rows) => rows.forEach((row) => insert.run(row.id, row.body)));
  const start = performance.now();
  for (let i = 0; i < N; i += group) batch(Array.from({ length: Math.min(group, N - i) }, (_, k) => ({ id: `e${i + k}`, body: text(i + k) })));
  const ms = performance.now() - start;
  db.close();
  return Math.round(N / (ms / 1000));
}

async function pglite(folder, group) {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(join(folder, 'pg'));
  await db.exec('CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body TEXT)');
  const start = performance.now();
  for (let i = 0; i < N; i += group) {
    await db.transaction(async (tx) => {
      for (let k = 0; k < Math.min(group, N - i); k++) await tx.query('INSERT INTO events VALUES ($1, $2) ON CONFLICT DO NOTHING', [`e${i + k}`, text(i + k)]);
    });
  }
  const ms = performance.now() - start;
  await db.close();
  return Math.round(N / (ms / 1000));
}

/** A child inserts one row per transaction and prints each id once committed; killed after ~300. */
async function durability(kind) {
  const folder = mkdtempSync(join(tmpdir(), `durable-${kind}-`));
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, 'child', kind, folder], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked = [];
  let buffer = '';
  await new Promise((resolve) => {
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop();
      acked.push(...lines.filter(Boolean));
      if (acked.length >= 300) child.kill('SIGKILL');
    });
    child.on('exit', resolve);
  });
  let present = 0;
  if (kind === 'better-sqlite3') {
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(folder, 'a.sqlite'));
    present = acked.filter((id) => db.prepare('SELECT 1 FROM events WHERE id = ?').get(id)).length;
    db.close();
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    try {
      const db = new PGlite(join(folder, 'pg'));
      const rows = (await db.query('SELECT id FROM events')).rows.map((row) => row.id);
      present = acked.filter((id) => rows.includes(id)).length;
      await db.close();
    } catch (error) {
      console.log(`pglite could not reopen its data after SIGKILL: ${error.message}`);
    }
  }
  rmSync(folder, { recursive: true, force: true });
  return { acked: acked.length, present };
}

if (process.argv[2] === 'child') {
  const [, , , kind, folder] = process.argv;
  if (kind === 'better-sqlite3') {
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(folder, 'a.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE events (id TEXT PRIMARY KEY, body TEXT)');
    const insert = db.prepare('INSERT INTO events VALUES (?, ?)');
    for (let i = 0; ; i++) {
      insert.run(`e${i}`, text(i));
      process.stdout.write(`e${i}\n`);
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite(join(folder, 'pg'));
    await db.exec('CREATE TABLE events (id TEXT PRIMARY KEY, body TEXT)');
    for (let i = 0; ; i++) {
      await db.query('INSERT INTO events VALUES ($1, $2)', [`e${i}`, text(i)]);
      process.stdout.write(`e${i}\n`);
    }
  }
} else {
  for (const [name, run] of [['better-sqlite3', betterSqlite], ['pglite', pglite]]) {
    const results = [];
    for (const group of [1, 32]) {
      const folder = mkdtempSync(join(tmpdir(), `cand-${name}-`));
      results.push(`${await run(folder, group)}/s (group ${group})`);
      rmSync(folder, { recursive: true, force: true });
    }
    const durable = await durability(name);
    console.log(`${name}: ${results.join(', ')}; SIGKILL after ${durable.acked} acknowledged rows: ${durable.present} present after reopening`);
  }
}
