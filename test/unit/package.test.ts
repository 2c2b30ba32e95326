import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a new developer gets it: `npm pack` (of the built dist/), unpacked into a fresh
 * project, its types checked by a consumer under the three module resolutions TypeScript users
 * have. `skipLibCheck` is off, so a broken .d.ts fails; an `@ts-expect-error` line fails if the
 * types silently became `any`.
 */
const ROOT = resolve(__dirname, '../..');
const built = existsSync(join(ROOT, 'dist/index.d.ts'));
let project = '';
let files: string[] = [];

const CONSUMER = `import { createTracker, type Tracker, type VisitorState } from 'leadscore';
import { createBeaconHandler, parseBeacon } from 'leadscore/receiver';

const tracker: Tracker = createTracker({ endpoint: '/collect', threshold: 40 });
const state: Promise<VisitorState> = tracker.getState();
// @ts-expect-error threshold is a number or numeric string: fails only if the types are real
createTracker({ threshold: { points: 40 } });
const handler: (request: Request) => Promise<Response> = createBeaconHandler({ onBeacon: (beacon) => void beacon.id.length });
const parsed = parseBeacon('{}');
if (parsed.ok) parsed.beacon.visitor.toUpperCase();
export { state, handler };
`;

describe.skipIf(!built)('the packed package', () => {
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'leadscore-consumer-'));
    const { filename, files: packed } = (
      JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: ROOT, encoding: 'utf8' })) as {
        filename: string;
        files: { path: string }[];
      }[]
    )[0]!;
    files = packed.map((file) => file.path);
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, 'leadscore'), { recursive: true });
    execFileSync('tar', ['-xzf', join(project, filename), '-C', join(modules, 'leadscore'), '--strip-components=1']);
    // The package's own dependencies and the consumer's tools, from this checkout (no network).
    mkdirSync(join(modules, '@types'), { recursive: true });
    for (const name of ['idb-keyval', 'web-vitals', 'typescript', '@types/node']) symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  });
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('ships the built files, the schema and the script maps, and no source or ESM maps', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/leadscore.js', 'dist/leadscore.js.map', 'dist/index.js', 'dist/index.d.ts', 'dist/receiver/index.js', 'schema/beacon.v1.json', 'schema/beacon.v2.json', 'README.md']));
    expect(files.filter((file) => file.startsWith('src/') || file === 'dist/index.js.map' || file.startsWith('test/'))).toEqual([]);
  });

  it('has no runtime dependency its code does not use; the native embedded database is optional', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/leadscore/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
      bin: Record<string, string>;
    };
    // The browser code uses idb-keyval and web-vitals; the collector pg (pure JavaScript) and,
    // when it could be built, better-sqlite3 (a native addon: its failure must not fail an install).
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['idb-keyval', 'pg', 'web-vitals']);
    expect(Object.keys(manifest.optionalDependencies)).toEqual(['better-sqlite3']);
    expect(manifest.bin).toEqual({ leadscore: './bin/leadscore.mjs' });
    expect(files).toEqual(expect.arrayContaining(['bin/leadscore.mjs', 'dist/collector/cli.js', 'dist/collector/index.js']));
  });

  it.each([
    ['nodenext', ['--module', 'nodenext', '--moduleResolution', 'nodenext']],
    ['node16', ['--module', 'node16', '--moduleResolution', 'node16']],
    ['bundler', ['--module', 'esnext', '--moduleResolution', 'bundler']],
  ])('type-checks a consumer under moduleResolution %s, without skipLibCheck', (_, flags) => {
    const tsc = join(project, 'node_modules/typescript/bin/tsc');
    const args = [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', ...flags, 'consumer.ts'];
    let output = '';
    try {
      execFileSync(process.execPath, args, { cwd: project, encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
  }, 60_000);
});
