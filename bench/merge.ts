// Merge queue benchmark: 16 finished branches, a post-merge test command that takes a fixed
// time, 2 branches that break the tests. One-at-a-time vs batch mode (bors-style bisection)
// in the same run, on two target branches of the same repository: test runs, wall time,
// and a check that both end with the same target tree. `--json` prints one JSON object last.
// Usage: node --import tsx bench/merge.ts [--json] [--branches N] [--bad i,j] [--test-ms MS] [--max-batch K]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Run } from '../src/core/model';
import { runBatches } from '../src/core/mergeQueue';
// infra uses execa (ESM-only): loaded through the same esbuild bundle the unit tests use.
import { loadSrc } from '../test/helpers/bundle';
import { ticketOf as ticket, workOn } from '../test/helpers/ticketWork';

const args = process.argv.slice(2);
const flag = (name: string, d: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : d;
};
const json = args.includes('--json');
const N = Number(flag('--branches', '16'));
const BAD = flag('--bad', '4,11').split(',').map(Number);
const TEST_MS = Number(flag('--test-ms', '300'));
const MAX_BATCH = Number(flag('--max-batch', '8'));
const quiet = { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };
const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};

function git(cwd: string, ...a: string[]): string {
  return execFileSync('git', a, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

async function main(): Promise<void> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'orchard-bench-merge-')));
  const repo = path.join(root, 'repo');
  fs.mkdirSync(repo);
  try {
    git(repo, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'README.md'), '# bench\n');
    // The test: takes TEST_MS, fails when any file named broken-* is in the tree.
    fs.writeFileSync(
      path.join(repo, 'test.js'),
      `setTimeout(() => process.exit(require('fs').readdirSync('.').some((f) => f.startsWith('broken')) ? 1 : 0), ${TEST_MS});\n`,
    );
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'initial');
    git(repo, 'branch', 'solo');
    git(repo, 'branch', 'batch');
    const test = [process.execPath, 'test.js'];
    const { GitWorkspace } = loadSrc();
    const solo = new GitWorkspace({ repo, targetBranch: 'solo', testCommand: test, log: quiet });
    const batch = new GitWorkspace({ repo, targetBranch: 'batch', testCommand: test, log: quiet });

    // 16 finished branches from the same base, each with its own file; BAD ones break the tests.
    const ids = Array.from({ length: N }, (_, i) => `T${String(i + 1).padStart(2, '0')}`);
    const runs = new Map<string, Run>();
    for (const [i, id] of ids.entries()) {
      runs.set(id, await workOn(solo, id, BAD.includes(i) ? `broken-${id}.txt` : `src-${id}.txt`));
    }

    // One at a time: merge, test, move the target — for every branch in queue order.
    let t0 = performance.now();
    const soloMerged: string[] = [];
    for (const id of ids) {
      const r = await solo.merge(ticket(id), runs.get(id)!);
      if (r.kind === 'merged') soloMerged.push(id);
    }
    const soloMs = performance.now() - t0;

    // Batch mode: chains of up to MAX_BATCH merges tested once, bisected on failure.
    t0 = performance.now();
    const b = await runBatches(ids, MAX_BATCH, async (xs) => {
      const r = await batch.mergeBatch(xs.map((id) => ({ ticket: ticket(id), run: runs.get(id)! })));
      return r.kind === 'merged';
    });
    const batchMs = performance.now() - t0;

    const soloTree = git(repo, 'rev-parse', 'solo^{tree}');
    const batchTree = git(repo, 'rev-parse', 'batch^{tree}');
    const sameTree = soloTree === batchTree;
    const sameOrder = git(repo, 'log', '--first-parent', '--format=%s', 'solo') === git(repo, 'log', '--first-parent', '--format=%s', 'batch');

    // Every placement of 2 breaking branches among N, with the same bisection (test oracle only).
    let worst = 0;
    let sum = 0;
    let cases = 0;
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const bad = new Set([ids[i], ids[j]]);
        const r = await runBatches(ids, MAX_BATCH, async (xs) => !xs.some((x) => bad.has(x)));
        worst = Math.max(worst, r.tests);
        sum += r.tests;
        cases++;
      }
    }

    const result = {
      bench: 'merge',
      branches: N,
      breaking: BAD.map((i) => ids[i]),
      testMs: TEST_MS,
      maxBatch: MAX_BATCH,
      oneAtATime: { testRuns: solo.merger.testRuns, wallMs: Math.round(soloMs), merged: soloMerged.length },
      batch: { testRuns: batch.merger.testRuns, wallMs: Math.round(batchMs), merged: b.merged.length, batches: b.batches, culprits: b.culprits },
      sameTree,
      sameMergeOrder: sameOrder,
      allPlacements: { cases, worstTestRuns: worst, meanTestRuns: Math.round((sum / cases) * 100) / 100 },
      target: { batchTestRunsAtMost: 10, met: batch.merger.testRuns <= 10 && worst <= 10 && sameTree },
    };
    if (!json) {
      console.log(`merge queue: ${N} branches (${result.breaking.join(', ')} break the tests), post-merge test ${TEST_MS} ms, batch ≤ ${MAX_BATCH}`);
      console.log(`  one at a time: ${result.oneAtATime.testRuns} test runs, ${(soloMs / 1000).toFixed(2)} s, ${soloMerged.length} merged`);
      console.log(
        `  batch mode:    ${result.batch.testRuns} test runs, ${(batchMs / 1000).toFixed(2)} s, ${b.merged.length} merged in ${b.batches} batches; culprits ${b.culprits.join(', ')}`,
      );
      console.log(
        `  same target tree: ${sameTree ? 'yes' : 'NO'} (${soloTree.slice(0, 12)} vs ${batchTree.slice(0, 12)}); same merge order: ${sameOrder ? 'yes' : 'no'}`,
      );
      console.log(`  all ${cases} placements of 2 breaking branches: worst ${worst}, mean ${result.allPlacements.meanTestRuns} test runs`);
      console.log(`  target (batch ≤ 10 test runs where one-at-a-time needs ${N}): ${result.target.met ? 'met' : 'NOT met'}`);
    }
    console.log(JSON.stringify(result));
    if (!sameTree) process.exitCode = 1;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
