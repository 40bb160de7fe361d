// One esbuild context per bundle. `--watch` rebuilds on change, `--production` minifies
// and drops source maps. lowdb and execa are ESM-only, so node bundles inline them.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // import.meta.url is used by some ESM dependencies; give them a CJS equivalent.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const bundles = [
  { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node\n' + node.banner.js } },
  { ...node, entryPoints: ['src/infra/runner/main.ts'], outfile: 'dist/runner.js' },
  { ...node, entryPoints: ['src/infra/agentCli/main.ts'], outfile: 'dist/orchard-agent.js', banner: { js: '#!/usr/bin/env node\n' + node.banner.js } },
  { ...node, entryPoints: ['src/cli/demo.ts'], outfile: 'dist/demo.js' },
  { ...node, entryPoints: ['src/infra/fakeAgent/main.ts'], outfile: 'dist/fake-agent.js' },
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
  },
];

// The dashboard's icon font, served from the extension's own dist/media (no remote content).
mkdirSync('dist/media', { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/media/${f}`);

const contexts = await Promise.all(bundles.map((options) => esbuild.context(options)));
if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
  console.log(`esbuild: watching ${contexts.length} bundles`);
} else {
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
}
