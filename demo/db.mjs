// The demo's lead database: SQLite (sql.js: SQLite compiled to WebAssembly, no native build), in a
// real database file under demo/data/, created on first run. The PRIMARY KEY on the beacon id is the
// receiver's de-duplication store: the pattern the README recommends for production.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import initSqlJs from 'sql.js';

export async function openLeadDatabase(file) {
  const SQL = await initSqlJs();
  const db = existsSync(file) ? new SQL.Database(readFileSync(file)) : new SQL.Database();
  db.run(`CREATE TABLE IF NOT EXISTS leads (
    id TEXT PRIMARY KEY,
    visitor TEXT NOT NULL,
    site TEXT NOT NULL,
    stage TEXT NOT NULL,
    score REAL NOT NULL,
    threshold REAL NOT NULL,
    n INTEGER NOT NULL,
    qualified_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    page TEXT NOT NULL,
    bot INTEGER NOT NULL,
    beacon TEXT NOT NULL
  )`);
  const save = () => {
    mkdirSync(dirname(file), { recursive: true });
    // Write then rename: a crash mid-write never leaves a torn database file.
    writeFileSync(file + '.tmp', Buffer.from(db.export()));
    renameSync(file + '.tmp', file);
  };
  save();

  const rows = (sql, params = []) => {
    const statement = db.prepare(sql);
    statement.bind(params);
    const result = [];
    while (statement.step()) result.push(statement.getAsObject());
    statement.free();
    return result;
  };
  const toLead = (row) => ({ ...JSON.parse(row.beacon), receivedAt: row.received_at, bot: row.bot === 1 });

  return {
    /** Inserts a lead; false when its id is already stored (a duplicate beacon). */
    insert(beacon, { receivedAt, bot }) {
      db.run(
        `INSERT OR IGNORE INTO leads (id, visitor, site, stage, score, threshold, n, qualified_at, received_at, page, bot, beacon)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [beacon.id, beacon.visitor, beacon.site, beacon.stage, beacon.score, beacon.threshold, beacon.n, beacon.qualifiedAt, receivedAt, beacon.page, bot ? 1 : 0, JSON.stringify(beacon)],
      );
      const inserted = db.getRowsModified() === 1;
      if (inserted) save();
      return inserted;
    },
    leads: (limit = 200) => rows('SELECT * FROM leads ORDER BY received_at DESC LIMIT ?', [limit]).map(toLead),
    count: () => rows('SELECT COUNT(*) AS n FROM leads')[0].n,
  };
}
