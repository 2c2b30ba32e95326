// Prints raw, gzip and brotli bytes for every shipped file and fails when one is over its budget.
import { readdirSync, readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const budget = JSON.parse(readFileSync(new URL('../size-budget.json', import.meta.url), 'utf8'));
// Shipped to browsers: the script-tag files and the ESM entry. The receiver (dist/receiver/) is server-side.
const files = readdirSync('dist')
  .filter((name) => name.endsWith('.js'))
  .map((name) => `dist/${name}`)
  .sort();
if (!files.length) {
  console.error('size: dist/ is empty; run npm run build first');
  process.exit(1);
}

let failed = false;
const rows = files.map((file) => {
  const bytes = readFileSync(file);
  const gzip = gzipSync(bytes, { level: 9 }).length;
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const limit = budget[file]?.brotli;
  const over = limit !== undefined && brotli > limit;
  failed ||= over;
  return { file, raw: bytes.length, gzip, brotli, budget: limit ?? '-', status: limit === undefined ? '' : over ? 'OVER' : 'ok' };
});
for (const file of Object.keys(budget)) {
  if (!file.startsWith('$') && !files.includes(file)) {
    console.error(`size: ${file} has a budget but was not built`);
    failed = true;
  }
}
console.table(rows);
if (failed) {
  console.error('size: over budget (size-budget.json)');
  process.exit(1);
}
