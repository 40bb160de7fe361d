#!/usr/bin/env node
// Bundles the integration suite for the extension host:
//   test/integration/index.ts     -> out/test/integration/index.js   (mocha bundled in)
//   test/integration/*.test.ts    -> out/test/integration/<name>.test.js (one per file)
// `vscode` stays external (the extension host provides it). Mocha 12 is ESM-only; bundling
// it (as CJS) avoids depending on require(esm) in whatever Node the host runs.
import * as esbuild from 'esbuild';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.mjs';

export const outDir = join(repoRoot, 'out', 'test', 'integration');
export const indexJs = join(outDir, 'index.js');

export async function buildTests() {
  const t0 = Date.now();
  const srcDir = join(repoRoot, 'test', 'integration');
  const tests = readdirSync(srcDir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const common = {
    absWorkingDir: repoRoot,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
    // mocha's parallel mode (unused here) resolves worker files at run time; never reached.
    logOverride: { 'require-resolve-not-external': 'silent' },
    external: ['vscode'],
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  };
  await esbuild.build({ ...common, entryPoints: { index: join(srcDir, 'index.ts') }, outdir: outDir });
  if (tests.length) {
    await esbuild.build({
      ...common,
      entryPoints: Object.fromEntries(tests.map((f) => [f.replace(/\.ts$/, ''), join(srcDir, f)])),
      outdir: outDir,
    });
  }
  console.log(`[orchard-host] built integration suite: index + ${tests.length} test file(s) in ${Date.now() - t0} ms -> ${outDir}`);
  return { indexJs, tests };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildTests();
}
