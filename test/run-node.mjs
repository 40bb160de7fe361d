// `node test/run-node.mjs unit|process [filter…]`: Node's own test runner (TypeScript through tsx)
// over one layer's *.test.ts files, optionally only those whose path contains a filter.
//   unit     test/unit: pure, in milliseconds: the core on fake ports (no git, no processes)
//   process  test/process and test/reliability: the same core on real git repositories, the
//            runner and agent processes, built bundles
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const LAYERS = { unit: ['unit'], process: ['process', 'reliability'] };
const [layer, ...filters] = process.argv.slice(2);
if (!LAYERS[layer]) {
  console.error(`usage: node test/run-node.mjs ${Object.keys(LAYERS).join('|')} [filter…] (got "${layer ?? ''}")`);
  process.exit(2);
}
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(process.cwd(), p));
  }
}
for (const dir of LAYERS[layer]) walk(join(root, dir));
// The slowest files start first: a layer ends when its last file does, and in name order the
// two slowest (workflowsRun, faults) started last. Longest first, measured on an idle run of
// the process layer; a file not listed starts after these, in name order.
const SLOW_FIRST = ['workflowsRun', 'faults', 'agents', 'crash', 'orchestrator', 'merge', 'planner', 'gates', 'stateAndWriters'];
const rank = (f) => {
  const i = SLOW_FIRST.indexOf(basename(f, '.test.ts'));
  return i < 0 ? SLOW_FIRST.length : i;
};
const chosen = files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (chosen.length === 0) {
  console.error(`no ${layer} test files match ${filters.join(' ')}`);
  process.exit(1);
}
// Each file (and each test) may take up to 10 minutes: limits are for hangs, and a loaded
// machine runs the slowest files (faults, workflows) several times slower.
// Four files at a time: most of a file's time is spent waiting on agents, git and timers,
// not on the CPU. On an idle 2-core machine the process layer took 168 s three at a time and
// 147 s four at a time (both slowest first).
// --test-force-exit is not used: it can end the run before every file's results are reported.
// A file that never exits (a leaked handle) is caught by this whole-layer limit instead.
const LAYER_LIMIT_MS = Number(process.env.ORCHARD_UNIT_LIMIT_MS ?? 30 * 60_000);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=4', '--test-timeout=600000', ...chosen], {
  stdio: 'inherit',
  timeout: LAYER_LIMIT_MS,
  killSignal: 'SIGKILL',
});
if (r.error && /ETIMEDOUT/.test(String(r.error.code ?? r.error.message))) {
  console.error(`${layer} tests did not finish within ${LAYER_LIMIT_MS / 60_000} min (a test file that never exits?); stopped`);
  console.log('# fail 1');
}
process.exit(r.status ?? 1);
