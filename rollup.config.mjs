import { readFileSync } from 'node:fs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

// esbuild transpiles TypeScript (TypeScript 5's `tsc` only type-checks and emits .d.ts; see
// ARCHITECTURE.md). terser minifies: on this code it is a few percent smaller than esbuild's minifier.
const transpile = ({ webVitals, debug }) =>
  esbuild({
    target: 'es2020',
    define: { __WEB_VITALS__: String(webVitals), __DEBUG__: String(debug) },
    minify: false,
  });

/**
 * Explicit compile hint (Chrome 136+, ignored elsewhere): compile every function eagerly, off the
 * main thread while the file streams in. Nearly all of the snippet runs during start-up anyway;
 * lazily compiled, it cost 40-90 ms of main-thread compilation per start-up task at 4x CPU
 * throttling (npm run bench, trace). Only for the script-tag builds: bundlers decide for ESM users.
 */
const COMPILE_HINT = '//# allFunctionsCalledOnLoad';

const INTERNAL_PROPERTIES =
  /^(canPersist|canSend|canRecord|mayReadStorage|readStoredOptOut|setConsent|optedOut|consented|privacySignal|journalNow|addTraits|prepend|queue|schedule|crossed|forget|beforeWrite|nextTask|monotonic|beaconFor|restored|journal|mutate|latest|stopped|ready|guard|emit|merger|onEmail|readProduct|onInteraction|defer|deliver|trusted|awaiting|emittedAt|settle|leave|kind|records|clock|committed|onSeen|revive|prependTraits|traitsId)$/;

const terserOptions = {
  ecma: 2020,
  module: false,
  // A parenthesised IIFE, not terser's `!function(){}()`: V8 compiles a parenthesised function eagerly,
  // which for a `src` script happens off the main thread while the file streams in (measured: the
  // negated form cost 5 ms of main-thread compilation at evaluation; npm run bench).
  compress: { passes: 5, pure_getters: true, unsafe_arrows: true, negate_iife: false, unsafe: true, unsafe_methods: true, unsafe_comps: true, unsafe_math: true, hoist_funs: true },
  // Property names of internal units only (the privacy gate, write queue, stage tracker, page
  // lifecycle, delivery options): never wire keys, stored-record keys, config or API names, which a
  // browser test checks survive the build (test/e2e/core.test.mjs).
  mangle: { properties: { regex: INTERNAL_PROPERTIES } },
  format: { comments: false, wrap_iife: true, preamble: COMPILE_HINT },
};

/** The script-tag build: one IIFE, everything inlined, nothing exported. */
const snippet = (file, flags) => ({
  input: 'src/snippet.ts',
  output: { file, format: 'iife', sourcemap: true, plugins: [terser(terserOptions)] },
  plugins: [nodeResolve({ browser: true }), transpile(flags)],
  treeshake: { moduleSideEffects: (id) => id.endsWith('src/snippet.ts') },
});

export default [
  snippet('dist/leadscore.js', { webVitals: true, debug: false }),
  snippet('dist/leadscore.lite.js', { webVitals: false, debug: false }),
  // Loaded only when debug mode is on: the same source with every message kept.
  snippet('dist/leadscore.debug.js', { webVitals: true, debug: true }),
  {
    // The npm build: readable ESM; runtime dependencies stay imports so bundlers dedupe them.
    input: { index: 'src/index.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true },
    external: ['idb-keyval', 'web-vitals', /^web-vitals\//],
    plugins: [transpile({ webVitals: true, debug: true })],
  },
  {
    // leadscore/receiver: server side (Node 18+, Deno, Bun, edge runtimes). Never in the browser bundle.
    input: { 'receiver/index': 'src/receiver/index.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true },
    external: [/^node:/],
    plugins: [transpile({ webVitals: false, debug: true })],
  },
  {
    // The dashboard the collector serves at /dashboard: one small browser script, its page and styles.
    input: 'src/dashboard/app.ts',
    output: { file: 'dist/dashboard/app.js', format: 'iife', sourcemap: true, plugins: [terser({ ecma: 2020, format: { comments: false } })] },
    plugins: [
      transpile({ webVitals: false, debug: false }),
      {
        name: 'dashboard-files',
        generateBundle() {
          for (const name of ['index.html', 'app.css']) this.emitFile({ type: 'asset', fileName: name, source: readFileSync(`src/dashboard/${name}`, 'utf8') });
        },
      },
    ],
  },
  {
    // The collector (`npx leadscore serve`, leadscore/collector): Node only. Its database drivers
    // stay imports; the embedded one is loaded on demand (an optional native dependency).
    input: { 'collector/index': 'src/collector/index.ts', 'collector/cli': 'src/collector/cli.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true, chunkFileNames: 'collector/[name].js' },
    external: [/^node:/, 'better-sqlite3', 'pg'],
    plugins: [transpile({ webVitals: false, debug: true })],
  },
];
