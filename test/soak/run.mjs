#!/usr/bin/env node
// `npm run test:soak`: the reliability suite (test/reliability/**) with long settings — at least
// 50 seeded SIGKILLs of the orchestrator on a 30-ticket graph, 1,000 interleaved commands from
// two writer processes, a 100 MB output flood — then 12 VS Code window reloads mid-run in the real
// host (test/e2e/reload.mjs) — then the figures: faults injected, survived, lost.
// Env overrides: ORCHARD_SOAK_KILLS, ORCHARD_SOAK_TICKETS, ORCHARD_SOAK_COMMANDS, ORCHARD_SOAK_SEED,
// ORCHARD_SOAK_RELOADS (0 skips the reload part).
// Extra arguments narrow the run to test files whose path contains one of them.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dir = join(root, 'test/reliability');
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => relative(root, join(dir, f)))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const env = {
  ...process.env,
  ORCHARD_SOAK: '1',
  ORCHARD_SOAK_KILLS: process.env.ORCHARD_SOAK_KILLS ?? '50',
  ORCHARD_SOAK_TICKETS: process.env.ORCHARD_SOAK_TICKETS ?? '30',
  ORCHARD_SOAK_COMMANDS: process.env.ORCHARD_SOAK_COMMANDS ?? '1000',
  ORCHARD_SOAK_SEED: process.env.ORCHARD_SOAK_SEED ?? '20240611',
};
const t0 = Date.now();
console.log(`soak: kills ${env.ORCHARD_SOAK_KILLS}, tickets ${env.ORCHARD_SOAK_TICKETS}, commands ${env.ORCHARD_SOAK_COMMANDS}, seed ${env.ORCHARD_SOAK_SEED}`);
// No matching test file (e.g. `npm run test:soak reload`): only the reload part runs.
const child = spawn(process.execPath, files.length ? ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files] : ['-e', ''], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (d) => {
  out += d;
  process.stdout.write(d);
});
child.on('close', (code) => {
  const reloads = Number(process.env.ORCHARD_SOAK_RELOADS ?? '12');
  if (reloads > 0 && (filters.length === 0 || filters.some((x) => 'test/e2e/reload.mjs'.includes(x)))) {
    const r = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/e2e/reload.mjs', '--reloads', String(reloads), '--tickets', '12', '--seed', env.ORCHARD_SOAK_SEED],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    r.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    r.on('close', (rc) => summary(code || rc));
  } else summary(code);
});

function summary(code) {
  let injected = 0,
    survived = 0,
    lost = 0;
  for (const m of out.matchAll(/^\[reliability\] .*?faults injected (\d+), survived (\d+), lost (\d+)/gm)) {
    injected += Number(m[1]);
    survived += Number(m[2]);
    lost += Number(m[3]);
  }
  console.log(`\nsoak: ${((Date.now() - t0) / 60000).toFixed(1)} min; faults injected ${injected}, survived ${survived}, lost ${lost}`);
  process.exit(code ?? 1);
}
