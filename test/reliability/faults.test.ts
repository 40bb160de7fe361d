// Faults injected into real runs (real git, the real runner, the fake agent through openSession):
// each test shows Orchard's defined outcome and that no committed work of the user or of the
// agents is lost. Covered elsewhere, not repeated here:
//   - agent deletes its worktree / moves the target with update-ref / loops printing output
//     (small log cap): test/unit/agents.test.ts "an agent that loops printing output, deletes its
//     worktree or moves the target branch is caught; nothing is lost", and inspectRun in
//     test/unit/worktrees.test.ts
//   - dirty user checkout: test/unit/workspace.test.ts "a dirty checkout of main", and
//     test/unit/merge.test.ts "a dirty user checkout: escalated; Stash and Update …"
//   - the target moving during the post-merge tests: test/unit/workspace.test.ts, merge.test.ts
//   - tests failing after merge: test/unit/workspace.test.ts "a failing test command",
//     test/unit/merge.test.ts "a test failure after merge leaves main untouched"
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OrchardConfig } from '../../src/infra/config';
import { buildDist, cleanupRepos, makeRepo, waitFor, within, type TempRepo } from '../unit/helpers/repo';
import { openTestSession, spec } from '../unit/helpers/session';
import { count, printFigures } from './helpers';

before(() => buildDist());
after(() => {
  cleanupRepos();
  printFigures('faults');
});

function open(repo: string, config: Partial<OrchardConfig> = {}, launcher = {}) {
  return openTestSession(repo, { owner: 'faults test', config, launcher });
}

type Ended = { outcome: string; message?: string; filesChanged?: string[] };
const ended = (events: { type: string }[], runId: string) => events.find((e) => e.type === 'run-ended' && (e as unknown as { runId: string }).runId === runId) as Ended | undefined;

/** Commits the user made: every one must still be reachable from main at the end. */
function userCommit(r: TempRepo, file: string, text: string): string {
  r.write(file, text);
  r.git('add', file);
  r.git('commit', '-q', '-m', `user: ${file}`);
  return r.git('rev-parse', 'HEAD');
}
const reachable = (r: TempRepo, commit: string, from = 'main') => {
  try {
    r.git('merge-base', '--is-ancestor', commit, from);
    return true;
  } catch {
    return false;
  }
};
/** How many of these commits are not reachable from `from` (lost work). */
const lostOf = (r: TempRepo, commits: string[], from = 'main') => commits.filter((c) => !reachable(r, c, from)).length;

describe('faults', { timeout: 120_000 }, () => {
  it('an agent printing 100 MB: stopped as looping at the 50 MB default cap, orchestrator memory bounded, the other ticket merges', async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    const w = await open(r.repo);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    await w.o.addTickets([spec('F', { prompt: '@flood 100' }), spec('OK', { prompt: '@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 60_000, 'the batch');
    clearInterval(sampler);
    const delta = peak - rss0;
    const e = ended(w.events, 'F-r1')!;
    assert.equal(e.outcome, 'failed');
    assert.match(e.message ?? '', /looped printing output/);
    assert.match(w.o.ticket('F').reason ?? '', /looped printing output/);
    const logSize = fs.statSync(path.join(w.runDir('F-r1'), 'agent.log')).size;
    assert.ok(logSize > 50 * 1024 * 1024, `the agent did flood (${logSize} bytes)`);
    assert.ok(delta < 200 * 1024 * 1024, `rss grew by ${Math.round(delta / 1048576)} MB`);
    assert.equal(w.o.ticket('OK').status, 'done', w.o.ticket('OK').reason);
    const lost = lostOf(r, [mine, w.o.ticket('OK').mergedAs!]);
    assert.equal(lost, 0);
    console.log(`[reliability] flood: log ${Math.round(logSize / 1048576)} MB, orchestrator rss +${Math.round(delta / 1048576)} MB`);
    await w.close();
    fs.rmSync(w.runDir('F-r1'), { recursive: true, force: true });
    count('faults', true, lost);
  });

  it("an agent committing in the user's checkout (onto main): kept like a user commit, the ticket merges on top, nothing lost", async () => {
    // Orchard cannot tell this commit from one the user made during the run: it is kept, never
    // reverted (moving main back might drop the user's work); the ticket merges on top of it.
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    const w = await open(r.repo);
    await w.o.addTickets([spec('C', { prompt: '@commit-in-checkout\n@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const t = w.o.ticket('C');
    assert.equal(t.status, 'done', t.reason);
    const stray = r.git('log', '--format=%H', '--grep', "stray commit in the user's checkout", 'main');
    assert.ok(stray, 'the stray commit is on main');
    assert.equal(r.git('show', 'main:agent-in-checkout.txt'), 'C was here');
    assert.equal(r.git('show', 'main:src/C.txt'), '- C: ticket C');
    const lost = lostOf(r, [mine, stray, t.mergedAs!]);
    assert.equal(lost, 0);
    assert.equal(r.git('status', '--porcelain'), '', "the user's checkout is clean and at main");
    await w.close();
    count('faults', true, lost);
  });

  it('an agent rewriting history below its base: the run fails naming it, main and the old tip kept, its new commit on its branch', async () => {
    const r = makeRepo();
    const first = r.git('rev-parse', 'HEAD');
    const mine = userCommit(r, 'user.txt', 'mine\n');
    const w = await open(r.repo);
    await w.o.addTickets([spec('R', { prompt: '@rewrite\n@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const e = ended(w.events, 'R-r1')!;
    assert.equal(e.outcome, 'failed');
    assert.match(e.message ?? '', /rewrote orchard\/R below its base/);
    assert.equal(w.o.ticket('R').status, 'failed');
    assert.equal(r.git('rev-parse', 'main'), mine, 'main is untouched');
    assert.equal(r.git('rev-parse', 'refs/orchard/rewritten/R/1'), mine, 'the tip before the rewrite is kept');
    const agentTip = r.git('rev-parse', 'orchard/R');
    assert.equal(r.git('rev-parse', 'orchard/R~1'), first);
    assert.equal(r.git('show', 'orchard/R:src/R.txt'), '- R: ticket R', "the agent's commit stays on its branch");
    const lost = lostOf(r, [first, mine]) + lostOf(r, [agentTip], 'orchard/R');
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });

  it("writing outside its ticket's files: merged with a warning naming the files; a lock granted on the way covers its files", async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([
      spec('W', { prompt: '@write docs/outside.md\n@sleep 50', files: ['src/W.txt'] }),
      spec('L', { prompt: '@lock lib/**\n@write lib/extra.md\n@sleep 50', files: ['src/L.txt'] }),
    ]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('W').status, 'done', w.o.ticket('W').reason);
    assert.equal(w.o.ticket('L').status, 'done', w.o.ticket('L').reason);
    assert.match(ended(w.events, 'W-r1')!.message ?? '', /warning: changed files outside its ticket's files \(src\/W\.txt\): docs\/outside\.md/);
    assert.equal(w.o.snapshot.runs['W-r1']!.message, ended(w.events, 'W-r1')!.message, 'kept on the run');
    assert.ok(w.log.lines.some((l) => /^warn: W: warning: changed files outside/.test(l)));
    assert.equal(ended(w.events, 'L-r1')!.message, undefined, 'files under a granted lock are in scope');
    assert.equal(r.git('show', 'main:docs/outside.md'), '- W: ticket W');
    const lost = lostOf(r, [w.o.ticket('W').mergedAs!, w.o.ticket('L').mergedAs!]);
    await w.close();
    count('faults', true, lost);
  });

  it('the target branch moved during a run (a user commit): the ticket merges on the new tip, the user commit kept', async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([spec('M', { prompt: '@sleep 1500' })]);
    await w.o.start();
    await waitFor(() => fs.existsSync(path.join(w.runDir('M-r1'), 'status.json')), 20_000, 'M to run');
    const mine = userCommit(r, 'during.txt', 'during the run\n');
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('M').status, 'done', w.o.ticket('M').reason);
    const lost = lostOf(r, [mine, w.o.ticket('M').mergedAs!]);
    assert.equal(lost, 0);
    assert.equal(r.git('show', 'main:during.txt'), 'during the run');
    await w.close();
    count('faults', true, lost);
  });

  it("the target branch deleted during a run: the merge fails naming the branch and the fix; the agent's commit stays on its branch", async () => {
    const r = makeRepo();
    r.git('checkout', '-q', '-b', 'work');
    const mine = userCommit(r, 'user.txt', 'on work\n');
    const w = await open(r.repo, { targetBranch: 'main' });
    await w.o.addTickets([spec('X', { prompt: '@sleep 1500' })]);
    await w.o.start();
    await waitFor(() => fs.existsSync(path.join(w.runDir('X-r1'), 'status.json')), 20_000, 'X to run');
    r.git('branch', '-D', 'main');
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const t = w.o.ticket('X');
    assert.notEqual(t.status, 'done');
    const said = `${t.reason ?? ''} ${JSON.stringify(w.o.openEscalations().map((e) => e.question + (e.context ?? '')))}`;
    assert.match(said, /target branch "main" does not exist.*orchard\.targetBranch/);
    assert.equal(r.git('show', 'orchard/X:src/X.txt'), '- X: ticket X', "the agent's work is on its branch");
    const lost = lostOf(r, [mine], 'work');
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });

  it('a repository with no commits: the ticket fails at start saying so and naming the fix', async () => {
    const r = makeRepo();
    fs.rmSync(path.join(r.repo, '.git'), { recursive: true, force: true });
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: r.repo });
    const w = await open(r.repo);
    await w.o.addTickets([spec('E')]);
    await w.o.start();
    await within(w.o.whenIdle(), 20_000, 'the batch');
    const t = w.o.ticket('E');
    assert.equal(t.status, 'failed');
    assert.match(t.reason ?? '', /has no commits yet; make a first commit/);
    assert.equal(fs.readFileSync(path.join(r.repo, 'README.md'), 'utf8'), '# test repo\n', "the user's files are untouched");
    await w.close();
    count('faults', true, 0);
  });

  it("a detached HEAD in the user's checkout: main (the fallback target) gets the merge, the checkout stays where it was", async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    r.git('checkout', '-q', '--detach');
    const w = await open(r.repo);
    assert.equal(w.s.config.targetBranch, 'main');
    await w.o.addTickets([spec('D', { prompt: '@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('D').status, 'done', w.o.ticket('D').reason);
    assert.equal(r.git('rev-parse', 'HEAD'), mine, 'the detached checkout did not move');
    assert.equal(r.git('status', '--porcelain'), '');
    const lost = lostOf(r, [mine, w.o.ticket('D').mergedAs!]);
    assert.equal(lost, 0);
    await w.close();

    // Detached with no main and no target configured: a clear error naming the setting.
    const r2 = makeRepo();
    r2.git('branch', '-m', 'main', 'trunk');
    r2.git('checkout', '-q', '--detach');
    const w2 = await open(r2.repo);
    await w2.o.addTickets([spec('D2')]);
    await w2.o.start();
    await within(w2.o.whenIdle(), 20_000, 'the batch');
    assert.equal(w2.o.ticket('D2').status, 'failed');
    assert.match(w2.o.ticket('D2').reason ?? '', /target branch "main" does not exist.*set orchard\.targetBranch to an existing branch/);
    await w2.close();
    count('faults', true, lost);
  });

  it('the worktrees folder cannot be created (a file where <repo>.orchard should be): a clear error naming it and the fix', async () => {
    // Tests run as root, where chmod 555 does not block mkdir: a file in the way does.
    const r = makeRepo();
    const inTheWay = path.join(r.root, 'repo.orchard');
    fs.writeFileSync(inTheWay, 'not a folder\n');
    const w = await open(r.repo);
    await w.o.addTickets([spec('B')]);
    await w.o.start();
    await within(w.o.whenIdle(), 20_000, 'the batch');
    const t = w.o.ticket('B');
    assert.equal(t.status, 'failed');
    assert.ok((t.reason ?? '').includes(`Cannot create the worktrees folder ${inTheWay}/worktrees (ENOTDIR)`), t.reason);
    assert.match(t.reason ?? '', /orchard\.worktreeLocation/);
    assert.equal(fs.readFileSync(inTheWay, 'utf8'), 'not a folder\n', 'the file in the way is untouched');
    await w.close();
    count('faults', true, 0);
  });
});
