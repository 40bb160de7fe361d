#!/usr/bin/env node
// `npm test`: every test layer in order, never stopping early:
//   1. typecheck    npx tsc --noEmit
//   2. lint         npm run lint                      (ESLint: src/core stays pure; Prettier --check)
//   3. unit         node test/run-node.mjs unit       (test/unit: pure, the core on fake ports; Node's test runner)
//   4. process      node test/run-node.mjs process    (test/process, test/reliability: real git, processes, bundles)
//   5. integration  node test/host/runIntegration.mjs (mocha in code-server's extension host)
//   6. e2e          node test/host/runE2e.mjs         (packaged .vsix, Chromium + code-server)
//   7. reload       node --import tsx test/e2e/reload.mjs (window reloads mid-run, checks on disk)
//   8. agents       node test/agents/run.mjs          (the real agent CLIs against scripted model servers)
// Then a table (layer, result, passed, failed, skipped, duration) and a last line exactly
// `N passed, N failed`. Exit code 1 when anything failed.
//
// Usage: node test/run-all.mjs [--only a,b] [--skip a,b]   (layer names as above)
// Env:   ORCHARD_LAYER_TIMEOUT_MIN (default 25) kills a hung layer.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Each layer is killed (with its process group) after this many minutes.
const layerTimeoutMin = Number(process.env.ORCHARD_LAYER_TIMEOUT_MIN) || 25;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const lastInt = (text, re) => {
  const all = [...text.matchAll(re)];
  return all.length ? Number(all[all.length - 1][1]) : null;
};

const layers = [
  {
    name: 'typecheck',
    cmd: [npx, 'tsc', '--noEmit'],
    parse: (out, code) => {
      const errors = (out.match(/error TS\d+/g) ?? []).length;
      return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: Math.max(errors, 1), note: `${errors} type errors` };
    },
  },
  {
    // ESLint (src/core's purity, git only through its runner, a few correctness rules), then Prettier.
    name: 'lint',
    cmd: [npm, 'run', '--silent', 'lint'],
    parse: (out, code) => {
      const problems = Number(/✖ (\d+) problems?/.exec(out)?.[1] ?? 0) + Number(/Code style issues found in (\d+) files?/.exec(out)?.[1] ?? 0);
      return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: Math.max(problems, 1), note: `${problems} lint problems` };
    },
  },
  // Node's test runner: `# pass N` / `ℹ pass N`.
  ...['unit', 'process'].map((name) => ({
    name,
    cmd: [process.execPath, 'test/run-node.mjs', name],
    parse: (out) => ({
      passed: lastInt(out, /^[#ℹ]\s*pass (\d+)/gm),
      failed: lastInt(out, /^[#ℹ]\s*fail (\d+)/gm),
      skipped: (lastInt(out, /^[#ℹ]\s*skipped (\d+)/gm) ?? 0) + (lastInt(out, /^[#ℹ]\s*todo (\d+)/gm) ?? 0),
    }),
  })),
  {
    name: 'integration',
    cmd: [process.execPath, 'test/host/runIntegration.mjs'],
    parse: (out) => ({
      passed: lastInt(out, /^integration: (\d+) passing/gm),
      failed: lastInt(out, /^integration: \d+ passing, (\d+) failing/gm),
      skipped: lastInt(out, /^integration: \d+ passing, \d+ failing, (\d+) pending/gm) ?? 0,
    }),
  },
  {
    name: 'e2e',
    cmd: [process.execPath, 'test/host/runE2e.mjs'],
    parse: (out) => ({
      passed: lastInt(out, /^e2e: (\d+) passed/gm),
      failed: lastInt(out, /^e2e: \d+ passed, (\d+) failed/gm),
      skipped: lastInt(out, /^e2e: \d+ passed, \d+ failed, (\d+) skipped/gm) ?? 0,
    }),
  },
  {
    name: 'reload',
    cmd: [process.execPath, '--import', 'tsx', 'test/e2e/reload.mjs'],
    parse: (out) => ({
      passed: lastInt(out, /^reload: (\d+) passed/gm),
      failed: lastInt(out, /^reload: \d+ passed, (\d+) failed/gm),
    }),
  },
  {
    name: 'agents',
    cmd: [process.execPath, 'test/agents/run.mjs'],
    parse: (out) => ({
      passed: lastInt(out, /^[#ℹ]\s*pass (\d+)/gm),
      failed: lastInt(out, /^[#ℹ]\s*fail (\d+)/gm),
      skipped: lastInt(out, /^[#ℹ]\s*skipped (\d+)/gm) ?? 0,
    }),
  },
];

function runLayer(layer) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let out = '';
    const child = spawn(layer.cmd[0], layer.cmd.slice(1), {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so a hung layer can be killed with its children
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      out += `\n[run-all] ${layer.name} timed out after ${layerTimeoutMin} min; killing it\n`;
      process.stderr.write(`\n[run-all] ${layer.name} timed out after ${layerTimeoutMin} min; killing it\n`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, layerTimeoutMin * 60_000);
    const relay = (stream) => (d) => {
      out += d.toString();
      stream.write(d);
    };
    child.stdout.on('data', relay(process.stdout));
    child.stderr.on('data', relay(process.stderr));
    child.on('error', (e) => {
      out += `\n${e.message}\n`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), out, ms: Date.now() - t0 });
    });
  });
}

const args = process.argv.slice(2);
const listArg = (flag) => {
  const i = args.indexOf(flag);
  return i >= 0 ? new Set(args[i + 1].split(',')) : null;
};
const only = listArg('--only');
const skip = listArg('--skip') ?? new Set();
// The e2e layer packages dist/orchard.vsix; the reload layer then installs that one.
if (!skip.has('e2e') && (!only || only.has('e2e'))) layers.find((l) => l.name === 'reload').cmd.push('--no-package');

const rows = [];
const t0 = Date.now();
for (const layer of layers) {
  if ((only && !only.has(layer.name)) || skip.has(layer.name)) {
    rows.push({ name: layer.name, result: 'not run', passed: 0, failed: 0, skipped: 0, ms: 0 });
    continue;
  }
  console.log(`\n===== ${layer.name}: ${layer.cmd.join(' ')} =====`);
  const { code, out, ms } = await runLayer(layer);
  const p = layer.parse(out, code);
  let passed = p.passed ?? 0;
  let failed = p.failed ?? 0;
  const notes = p.note ? [p.note] : [];
  if (p.passed === null || p.failed === null) notes.push('counts not found in output');
  // A layer that exits non-zero must count as failed even if its counts say otherwise.
  if (code !== 0 && failed === 0) {
    failed = 1;
    notes.push(`exit code ${code}`);
  }
  rows.push({ name: layer.name, result: code === 0 && failed === 0 ? 'ok' : 'FAILED', passed, failed, skipped: p.skipped ?? 0, ms, notes });
}

const totalPassed = rows.reduce((s, r) => s + r.passed, 0);
const totalFailed = rows.reduce((s, r) => s + r.failed, 0);
const pad = (s, n) => String(s).padEnd(n);
const padL = (s, n) => String(s).padStart(n);
console.log('\n===== summary =====');
console.log(`${pad('layer', 12)} ${pad('result', 8)} ${padL('passed', 7)} ${padL('failed', 7)} ${padL('skipped', 8)} ${padL('time', 9)}  notes`);
for (const r of rows) {
  console.log(
    `${pad(r.name, 12)} ${pad(r.result, 8)} ${padL(r.passed, 7)} ${padL(r.failed, 7)} ${padL(r.skipped, 8)} ${padL(`${(r.ms / 1000).toFixed(1)} s`, 9)}  ${(r.notes ?? []).join('; ')}`,
  );
}
console.log(
  `${pad('total', 12)} ${pad(totalFailed ? 'FAILED' : 'ok', 8)} ${padL(totalPassed, 7)} ${padL(totalFailed, 7)} ${padL('', 8)} ${padL(`${((Date.now() - t0) / 1000).toFixed(1)} s`, 9)}`,
);
console.log(`${totalPassed} passed, ${totalFailed} failed`);
process.exit(totalFailed > 0 ? 1 : 0);
