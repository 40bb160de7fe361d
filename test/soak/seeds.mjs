#!/usr/bin/env node
// `npm run test:soak:seeds`: the crash soak (test/reliability/crash.test.ts: seeded SIGKILLs of the
// orchestrator, restart, nothing lost) over many seeds, unattended, optionally beside a CPU load
// it makes itself, then the pass rate. Each seed runs with its own TMPDIR: a passing seed's
// folders are removed, a failing seed's repositories are kept and named.
// Env: ORCHARD_SOAK_SEEDS=100 (seeds 1..100) or 4200-4299 (a range) or 4242,2027 (a list);
//      ORCHARD_SOAK_LOAD=2 (busy loops beside it, default 0); ORCHARD_SOAK_KILLS (50),
//      ORCHARD_SOAK_TICKETS (30) as in test:soak.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

function seedList(spec) {
  if (/^\d+$/.test(spec)) return Array.from({ length: Number(spec) }, (_, i) => i + 1);
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
  const list = spec.split(',').map((s) => s.trim());
  if (list.every((s) => /^\d+$/.test(s))) return list.map(Number);
  console.error(`ORCHARD_SOAK_SEEDS must be a count (100), a range (4200-4299) or a list (4242,2027); got "${spec}"`);
  process.exit(2);
}

const seeds = seedList(process.env.ORCHARD_SOAK_SEEDS ?? '10');
const load = Number(process.env.ORCHARD_SOAK_LOAD ?? '0');
const keepRoot = mkdtempSync(join(tmpdir(), 'orchard-soak-seeds-'));
// Busy loops beside the soak: a user's machine is rarely quiet.
const loops = Array.from({ length: load }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
const stopLoops = () => loops.forEach((l) => l.kill('SIGKILL'));
process.on('exit', stopLoops);
process.on('SIGINT', () => process.exit(130));

const env = {
  ...process.env,
  ORCHARD_SOAK: '1',
  // The tests keep their repositories; this script removes a passing seed's folder itself.
  ORCHARD_KEEP_TEMP: '1',
  ORCHARD_SOAK_KILLS: process.env.ORCHARD_SOAK_KILLS ?? '50',
  ORCHARD_SOAK_TICKETS: process.env.ORCHARD_SOAK_TICKETS ?? '30',
};
console.log(
  `soak seeds: ${seeds.length} seeds (${seeds[0]}…${seeds[seeds.length - 1]}), kills ${env.ORCHARD_SOAK_KILLS}, tickets ${env.ORCHARD_SOAK_TICKETS}, load ${load} busy loop(s)`,
);

const failed = [];
const t0 = Date.now();
let referenceTree;
for (const [i, seed] of seeds.entries()) {
  const dir = join(keepRoot, `seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const { code, out } = await new Promise((resolve) => {
    let text = '';
    const c = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', 'test/reliability/crash.test.ts'], {
      cwd: root,
      env: { ...env, ORCHARD_SOAK_SEED: String(seed), TMPDIR: dir, ...(referenceTree && { ORCHARD_SOAK_REFERENCE_TREE: referenceTree }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout.on('data', (d) => (text += d));
    c.stderr.on('data', (d) => (text += d));
    c.on('close', (exit) => resolve({ code: exit, out: text }));
  });
  // The undisturbed reference run is the same for every seed: the first one's tree serves the rest.
  referenceTree ??= /\[reliability\] reference tree ([0-9a-f]{40})/.exec(out)?.[1];
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  if (code === 0) {
    rmSync(dir, { recursive: true, force: true });
    console.log(`seed ${seed}: passed (${secs} s) [${i + 1}/${seeds.length}]`);
  } else {
    writeFileSync(join(dir, 'output.txt'), out);
    const why = (out.match(/^\s*(AssertionError|Error)[^\n]*\n?[^\n]*/m)?.[0] ?? `exit ${code}`).replace(/\s+/g, ' ').slice(0, 300);
    failed.push({ seed, why, dir });
    console.log(`seed ${seed}: FAILED (${secs} s) — ${why}\n  kept: ${dir} (output.txt, the repositories)`);
  }
}
stopLoops();
const passed = seeds.length - failed.length;
console.log(
  `\nsoak seeds: ${passed}/${seeds.length} passed under ${load} busy loop(s) in ${((Date.now() - t0) / 60000).toFixed(1)} min${failed.length ? `; failed: ${failed.map((f) => f.seed).join(', ')} (kept under ${keepRoot})` : ''}`,
);
if (!failed.length) rmSync(keepRoot, { recursive: true, force: true });
process.exit(failed.length ? 1 : 0);
