// TypeScript writes relative imports in .d.ts files as they are in the source ('./tracker'), which
// `moduleResolution: node16 | nodenext` rejects (TS2834). This gives every relative specifier in
// dist/**/*.d.ts its real file: './tracker' -> './tracker.js', './capture' -> './capture/index.js'.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SPECIFIER = /(\bfrom\s+|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;

function fix(file) {
  const source = readFileSync(file, 'utf8');
  const fixed = source.replace(SPECIFIER, (match, lead, quote, specifier) => {
    if (/\.(js|mjs|cjs|json)$/.test(specifier)) return match;
    const target = resolve(dirname(file), specifier);
    if (existsSync(`${target}.d.ts`)) return `${lead}${quote}${specifier}.js${quote}`;
    if (existsSync(join(target, 'index.d.ts'))) return `${lead}${quote}${specifier}/index.js${quote}`;
    throw new Error(`fix-dts: ${file}: cannot resolve ${specifier}`);
  });
  if (fixed !== source) writeFileSync(file, fixed);
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.d.ts')) fix(path);
  }
}
walk('dist');
