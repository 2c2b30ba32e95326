// Runs the browser tests in real headless Chromium. Without Chromium it prints a loud notice and
// skips, unless REQUIRE_BROWSER=1 (CI), when a missing browser is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { CHROMIUM_PATH } from './harness.mjs';

if (!existsSync(CHROMIUM_PATH)) {
  const line = '='.repeat(78);
  console.error(`${line}\n  BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM_PATH}\n  Install it with:  sudo apt-get update && sudo apt-get install -y chromium\n  (or set CHROMIUM_PATH)\n${line}`);
  process.exit(process.env.REQUIRE_BROWSER === '1' ? 1 : 0);
}
if (!existsSync('dist/leadscore.js')) {
  console.error('browser tests need the build: run npm run build first');
  process.exit(1);
}
const files = readdirSync('test/e2e')
  .filter((name) => name.endsWith('.test.mjs'))
  .map((name) => `test/e2e/${name}`);
const filter = process.argv.slice(2);
const args = ['--test', '--test-concurrency=2', '--test-reporter=spec', ...(filter.length ? filter : files)];
// WebKit's MiniBrowser has no headless mode: without a display, the suite runs under xvfb-run.
const xvfb = !process.env.DISPLAY && existsSync('/usr/bin/xvfb-run');
const result = xvfb
  ? spawnSync('/usr/bin/xvfb-run', ['-a', process.execPath, ...args], { stdio: 'inherit' })
  : spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
