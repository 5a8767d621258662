// Builds the console: node build.mjs <outdir>
// Output: <outdir>/index.html, <outdir>/app.js, <outdir>/app.css. Deterministic (no hashes,
// no source maps, no timestamps); exits non-zero on any error.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outArg = process.argv[2];
if (!outArg) {
  console.error('usage: node build.mjs <outdir>');
  process.exit(2);
}
const outdir = resolve(outArg);

if (outdir === here || existsSync(join(outdir, 'package.json'))) {
  console.error(`refusing to build into ${outdir}: give an output directory`);
  process.exit(2);
}

try {
  // Start clean: the daemon embeds every file of the output directory.
  mkdirSync(outdir, { recursive: true });
  for (const f of readdirSync(outdir)) {
    if (/\.(js|css|html|map)$/.test(f)) rmSync(join(outdir, f), { force: true });
  }
  const result = await build({
    absWorkingDir: here,
    // app.js (+ app.css for the CSS it imports); uplot.js, loaded on demand by the charts.
    entryPoints: { app: 'src/main.jsx' },
    outdir,
    entryNames: '[name]',
    chunkNames: '[name]', // a shared chunk would need a name: the build fails loudly then
    splitting: true,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    charset: 'utf8',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.js': 'jsx' },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  if (result.errors.length) process.exit(1);
  copyFileSync(join(here, 'index.html'), join(outdir, 'index.html'));
} catch (e) {
  // esbuild has already printed its diagnostics
  if (!e.errors) console.error(e);
  process.exit(1);
}
