// Loads src/ through an esbuild bundle of helpers/entry.ts (execa and lowdb are ESM-only;
// tsx runs these tests as CommonJS, where requiring them fails with ERR_PACKAGE_PATH_NOT_EXPORTED).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT } from './repo';

export type Src = typeof import('./entry');

let cached: Src | undefined;

export function loadSrc(): Src {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-test-bundle-'));
  const outfile = path.join(dir, 'entry.cjs');
  buildSync({
    entryPoints: [path.join(ROOT, 'test/helpers/entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  cached = require(outfile) as Src;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return cached;
}
