import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

// esbuild transpiles TypeScript (TypeScript 5's `tsc` only type-checks and emits .d.ts; see
// ARCHITECTURE.md). terser minifies: on this code it is a few percent smaller than esbuild's minifier.
const transpile = (webVitals) =>
  esbuild({
    target: 'es2020',
    define: { __WEB_VITALS__: String(webVitals) },
    minify: false,
  });

const terserOptions = {
  ecma: 2020,
  module: false,
  compress: { passes: 3, pure_getters: true, unsafe_arrows: true },
  mangle: { properties: false },
  format: { comments: false },
};

/** The script-tag build: one IIFE, everything inlined, nothing exported. */
const snippet = (file, webVitals) => ({
  input: 'src/snippet.ts',
  output: { file, format: 'iife', sourcemap: true, plugins: [terser(terserOptions)] },
  plugins: [nodeResolve({ browser: true }), transpile(webVitals)],
  treeshake: { moduleSideEffects: (id) => id.endsWith('src/snippet.ts') },
});

export default [
  snippet('dist/leadscore.js', true),
  snippet('dist/leadscore.lite.js', false),
  {
    // The npm build: readable ESM; runtime dependencies stay imports so bundlers dedupe them.
    input: { index: 'src/index.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true },
    external: ['idb-keyval', 'web-vitals', /^web-vitals\//],
    plugins: [transpile(true)],
  },
];
