// Faults injected into real runs (real git, the real runner, the fake agent through openSession):
// each test shows Orchard's defined outcome and that no committed work of the user or of the
// agents is lost. The unit tests cover the same pieces closer up (test/unit/agents.test.ts
// timeout and misbehaving agents, worktrees.test.ts inspectRun, workspace.test.ts and
// merge.test.ts for dirty checkouts, conflicts and failing post-merge tests); here each fault
// goes end to end through a session and is counted in the figures.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentProfile } from '../../src/infra/agents/profiles';
import type { OrchardConfig } from '../../src/infra/config';
import { buildDist, cleanupRepos, GIT_ENV, makeRepo, pidAlive, waitFor, within, type TempRepo } from '../helpers/repo';
import { openTestSession, spec } from '../helpers/session';
import { count, printFigures } from './helpers';

before(() => buildDist());
/** Sessions not closed yet: a failed assertion must not leave one running (the file would never exit). */
const opened = new Set<{ close(): Promise<void> }>();
after(async () => {
  for (const w of [...opened]) await w.close().catch(() => undefined);
  cleanupRepos();
  printFigures('faults');
});

async function open(repo: string, config: Partial<OrchardConfig> = {}, launcher = {}, profiles: Record<string, AgentProfile> = {}) {
  const w = await openTestSession(repo, { owner: 'faults test', config, launcher, profiles });
  const session = {
    ...w,
    close: async () => {
      opened.delete(session);
      await w.close();
    },
  };
  opened.add(session);
  return session;
}

type Ended = { outcome: string; message?: string; filesChanged?: string[] };
const ended = (events: { type: string }[], runId: string) =>
  events.find((e) => e.type === 'run-ended' && (e as unknown as { runId: string }).runId === runId) as Ended | undefined;

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

/** git in an agent's worktree, as the agent would run it. */
const gitIn = (dir: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...GIT_ENV }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The pids the runner of a run wrote (its own and its agent's), once it has started. */
async function runPids(w: { runDir(runId: string): string }, runId: string): Promise<{ runnerPid: number; agentPid: number }> {
  const file = path.join(w.runDir(runId), 'status.json');
  await waitFor(() => fs.existsSync(file), 20_000, `${runId} to start`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { runnerPid: number; agentPid: number };
}

/** An agent CLI of the user's own (argv, no shell): a Node script run in the worktree. */
const scriptAgent = (name: string, script: string): AgentProfile => ({ name, description: name, argv: [process.execPath, '-e', script] });
/** Script lines: git with an identity, as an agent CLI commits. */
const SCRIPT_GIT = `const fs = require('fs'); const cp = require('child_process');
const git = (...a) => cp.execFileSync('git', ['-c', 'user.name=agent', '-c', 'user.email=agent@localhost', ...a], { stdio: 'ignore' });
const attempt = process.env.ORCHARD_ATTEMPT;`;

describe('faults', { timeout: 600_000 }, () => {
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

  it("an agent crash (its process killed; another exiting 1): retried per maxRetries, each attempt's partial work on refs/orchard/wip/<ticket>/<n>, then failed saying why; its dependent blocked, its commits kept", async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    const w = await open(r.repo, { maxRetries: 2, maxAgents: 3 });
    await w.o.addTickets([
      spec('A', { prompt: '@sleep 600000' }),
      spec('B', { dependsOn: ['A'], prompt: '@sleep 50' }),
      spec('F', { prompt: '@fail' }),
      spec('OK', { prompt: '@sleep 50' }),
    ]);
    await w.o.start();
    const wt = w.s.workspace.worktreePath('A');
    let agentCommit = '';
    const pids: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const { runnerPid, agentPid } = await runPids(w, `A-r${n}`);
      pids.push(runnerPid, agentPid);
      // The agent's work so far: a commit in attempt 1, and in every attempt an edit not yet committed.
      if (n === 1) {
        fs.writeFileSync(path.join(wt, 'step1.txt'), 'committed by A before its crash\n');
        gitIn(wt, 'add', 'step1.txt');
        gitIn(wt, 'commit', '-q', '-m', 'A: step 1');
        agentCommit = gitIn(wt, 'rev-parse', 'HEAD');
      }
      fs.writeFileSync(path.join(wt, `partial-${n}.txt`), `half of attempt ${n}\n`);
      process.kill(agentPid, 'SIGKILL');
      await waitFor(() => !!ended(w.events, `A-r${n}`), 20_000, `A-r${n} to end`);
    }
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const a = w.o.ticket('A');
    assert.equal(a.status, 'failed');
    assert.match(a.reason ?? '', /^gave up after 3 attempts: the agent was killed by SIGKILL/);
    assert.equal(w.o.snapshot.runs['A-r4'], undefined, 'no attempt beyond maxRetries');
    for (let n = 1; n <= 3; n++) {
      assert.equal(ended(w.events, `A-r${n}`)!.outcome, 'failed');
      assert.equal(r.git('show', `refs/orchard/wip/A/${n}:partial-${n}.txt`), `half of attempt ${n}`, `attempt ${n}'s partial work on its WIP ref`);
      assert.equal(r.git('show', `orchard/A:partial-${n}.txt`), `half of attempt ${n}`, `and on the branch`);
    }
    assert.equal(r.git('show', 'orchard/A:step1.txt'), 'committed by A before its crash');
    assert.match(w.o.snapshot.runs['A-r2']!.context ?? '', /retry 1\/2: the agent was killed by SIGKILL/, 'the next attempt is told why');
    const f = w.o.ticket('F');
    assert.equal(f.status, 'failed');
    assert.match(f.reason ?? '', /^gave up after 3 attempts: the agent exited with code 1$/);
    assert.equal(w.o.ticket('B').status, 'blocked');
    assert.match(w.o.ticket('B').reason ?? '', /\bA\b/);
    assert.equal(w.o.snapshot.runs['B-r1'], undefined, 'the dependent never ran');
    assert.equal(w.o.ticket('OK').status, 'done', w.o.ticket('OK').reason);
    await waitFor(() => pids.every((p) => !pidAlive(p)), 10_000, 'the runners and agents to be gone');
    const lost = lostOf(r, [mine, w.o.ticket('OK').mergedAs!]) + lostOf(r, [agentCommit], 'orchard/A');
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });

  it('an agent hanging: stopped at its timeout with its whole process tree, partial work on refs/orchard/wip/H/<n>, retried, then failed; worktree and branch kept', async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    // Writes part of its work, starts a child of its own, then never finishes.
    const hanger = scriptAgent(
      'hanger',
      `${SCRIPT_GIT}
      fs.writeFileSync('partial-' + attempt + '.txt', 'half of attempt ' + attempt + '\\n');
      if (attempt === '1') { git('add', '-A'); git('commit', '-qm', 'H: step 1'); }
      const c = cp.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      fs.writeFileSync(require('path').join(process.env.ORCHARD_RUN_DIR, 'grandchild.pid'), String(c.pid));
      setInterval(() => {}, 1000);`,
    );
    const w = await open(r.repo, { maxRetries: 1 }, { killGraceMs: 500 }, { hanger });
    // 7 s: long enough for the agent to start, commit and spawn its child on a loaded machine (1.2 s was not).
    await w.o.addTickets([spec('H', { agent: 'hanger', timeoutMinutes: 0.12 }), spec('OK', { prompt: '@sleep 50' })]);
    await w.o.start();
    const tree: number[] = [];
    for (let n = 1; n <= 2; n++) {
      const { runnerPid, agentPid } = await runPids(w, `H-r${n}`);
      const pidFile = path.join(w.runDir(`H-r${n}`), 'grandchild.pid');
      await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', 20_000, `H-r${n}'s child`);
      tree.push(runnerPid, agentPid, Number(fs.readFileSync(pidFile, 'utf8')));
      await waitFor(() => !!ended(w.events, `H-r${n}`), 20_000, `H-r${n} to time out`);
      assert.equal(ended(w.events, `H-r${n}`)!.outcome, 'timeout');
    }
    await within(w.o.whenIdle(), 30_000, 'the batch');
    await waitFor(() => tree.every((p) => !pidAlive(p)), 10_000, 'the runner, the agent and its child to be gone');
    const h = w.o.ticket('H');
    assert.equal(h.status, 'failed');
    assert.match(h.reason ?? '', /^gave up after 2 attempts: timed out after .*; partial work on refs\/orchard\/wip\/H\/2/);
    assert.match(w.o.snapshot.runs['H-r2']!.context ?? '', /retry 1\/1: timed out.*partial work on refs\/orchard\/wip\/H\/1/);
    for (let n = 1; n <= 2; n++) assert.equal(r.git('show', `refs/orchard/wip/H/${n}:partial-${n}.txt`), `half of attempt ${n}`);
    assert.ok(fs.existsSync(w.s.workspace.worktreePath('H')), 'the worktree is kept');
    const agentCommit = r.git('log', '--format=%H', '--grep', 'H: step 1', 'orchard/H');
    assert.ok(agentCommit, "the agent's commit is on its branch");
    assert.equal(w.o.ticket('OK').status, 'done', w.o.ticket('OK').reason);
    assert.deepEqual(
      w.o.snapshot.locks.filter((l) => l.runId.startsWith('H-')),
      [],
      'its locks are released',
    );
    const lost = lostOf(r, [mine, w.o.ticket('OK').mergedAs!]) + lostOf(r, [agentCommit], 'orchard/H');
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });

  it('an agent deleting its worktree: the run fails naming it, its commit kept on orchard/D, the next attempt gets a new worktree from the branch and merges', async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    // Commits its work, then (in attempt 1 only) removes the worktree it was given.
    const deleter = scriptAgent(
      'deleter',
      `${SCRIPT_GIT}
      fs.mkdirSync('src', { recursive: true });
      fs.appendFileSync('src/D.txt', '- D: attempt ' + attempt + '\\n');
      git('add', '-A'); git('commit', '-qm', 'D: attempt ' + attempt);
      if (attempt === '1') fs.rmSync(process.cwd(), { recursive: true, force: true });`,
    );
    const w = await open(r.repo, { maxRetries: 1 }, {}, { deleter });
    await w.o.addTickets([spec('D', { agent: 'deleter' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const e1 = ended(w.events, 'D-r1')!;
    assert.equal(e1.outcome, 'failed');
    assert.match(e1.message ?? '', /deleted its worktree/);
    const d = w.o.ticket('D');
    assert.equal(d.status, 'done', d.reason);
    assert.equal(ended(w.events, 'D-r2')!.outcome, 'succeeded');
    assert.match(w.o.snapshot.runs['D-r2']!.context ?? '', /deleted its worktree/, 'the next attempt is told');
    assert.equal(r.git('show', 'main:src/D.txt'), '- D: attempt 1\n- D: attempt 2', 'attempt 2 went on from the commit of attempt 1');
    const first = r.git('log', '--format=%H', '--grep', 'D: attempt 1', 'orchard/D');
    assert.ok(first, "attempt 1's commit is on the branch");
    assert.ok(fs.existsSync(path.join(w.s.workspace.worktreePath('D'), 'src', 'D.txt')), 'the worktree is back');
    assert.doesNotMatch(r.git('worktree', 'list', '--porcelain'), /^prunable/m);
    const lost = lostOf(r, [mine, first, d.mergedAs!]);
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });

  it('a dirty user checkout of the target when the merge is due: escalated naming the checkout, the edits untouched byte for byte; Stash and update merges and puts them back', async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    // Unstaged (CRLF, no final newline), staged, and untracked edits.
    const edits: Record<string, Buffer> = {
      'README.md': Buffer.from('# test repo\r\nmy unsaved\r\nedit\u00e9'),
      'user.txt': Buffer.from('mine\nstaged line\n'),
      'notes/todo.txt': Buffer.from([0, 1, 2, 255, 10]),
    };
    for (const [rel, bytes] of Object.entries(edits)) {
      fs.mkdirSync(path.dirname(path.join(r.repo, rel)), { recursive: true });
      fs.writeFileSync(path.join(r.repo, rel), bytes);
    }
    r.git('add', 'user.txt');
    const statusBefore = r.git('status', '--porcelain');
    const sameEdits = () => Object.entries(edits).every(([rel, bytes]) => fs.readFileSync(path.join(r.repo, rel)).equals(bytes));
    const w = await open(r.repo);
    await w.o.addTickets([spec('S', { prompt: '@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const s = w.o.ticket('S');
    assert.equal(s.status, 'escalated', s.reason);
    const esc = w.o.openEscalations().find((e) => e.ticketId === 'S')!;
    assert.ok(esc.question.includes(`main is checked out with uncommitted changes in ${r.repo}`), esc.question);
    assert.deepEqual(esc.options, ['Stash and update', 'Later']);
    assert.equal(r.git('rev-parse', 'main'), mine, 'main did not move');
    assert.ok(sameEdits(), "the user's edits are untouched");
    assert.equal(r.git('status', '--porcelain'), statusBefore);
    assert.equal(r.git('stash', 'list'), '');
    const tip = r.git('rev-parse', 'orchard/S');
    await w.o.stashAndUpdate('S');
    assert.equal(w.o.ticket('S').status, 'done', w.o.ticket('S').reason);
    assert.match(w.o.ticket('S').reason ?? '', /your uncommitted changes were stashed and put back/);
    assert.equal(r.git('show', 'main:src/S.txt'), '- S: ticket S');
    assert.equal(r.git('rev-parse', 'HEAD'), r.git('rev-parse', 'main'), 'the checkout is at the new main');
    assert.ok(sameEdits(), 'the edits are back byte for byte');
    assert.equal(r.git('status', '--porcelain'), statusBefore, 'staged stays staged, untracked stays untracked');
    assert.equal(r.git('stash', 'list'), '', 'no stash left behind');
    const lost = lostOf(r, [mine, tip, w.o.ticket('S').mergedAs!]);
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });

  it('a merge conflict between tickets: escalated with the files, both branches kept, main not moved by it; Open + Continue Merge and Send back both merge it', async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    // Three tickets write the same new file from the same base: whichever merges first, the other two conflict with it.
    const ids = ['X', 'Y', 'Z'];
    const w = await open(r.repo, { mode: 'isolation', maxAgents: 3 });
    await w.o.addTickets(ids.map((id) => spec(id, { files: ['shared.txt'], prompt: '@sleep 50' })));
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const first = ids.filter((id) => w.o.ticket(id).status === 'done');
    assert.equal(first.length, 1, ids.map((id) => `${id}: ${w.o.ticket(id).status} ${w.o.ticket(id).reason}`).join('; '));
    const [m] = first as [string];
    const mainAfterFirst = r.git('rev-parse', 'main');
    assert.equal(mainAfterFirst, w.o.ticket(m).mergedAs);
    const [y, z] = ids.filter((id) => id !== m) as [string, string];
    const tips: string[] = [];
    for (const id of [y, z]) {
      const t = w.o.ticket(id);
      assert.equal(t.status, 'escalated', `${id}: ${t.reason}`);
      assert.deepEqual(t.conflict?.files, ['shared.txt']);
      const esc = w.o.openEscalations().find((e) => e.ticketId === id && e.trigger === 'conflict')!;
      assert.match(esc.question, /merge conflict in shared\.txt/);
      assert.ok(esc.options.includes('Open the conflicted files') && esc.options.includes('Send back to the agent'));
      tips.push(r.git('rev-parse', `orchard/${id}`));
      assert.equal(r.git('show', `orchard/${id}:shared.txt`), `- ${id}: ticket ${id}`, `${id}'s branch is kept`);
    }
    assert.equal(r.git('show', 'main:shared.txt'), `- ${m}: ticket ${m}`, 'main is not moved by the conflicting tickets');
    assert.equal(r.git('status', '--porcelain'), '', "the user's checkout is clean");
    // One: the human resolves it in the integration worktree.
    const { files } = await w.o.openConflict(y);
    assert.match(fs.readFileSync(files[0]!, 'utf8'), /^<<<<<<< /m);
    fs.writeFileSync(files[0]!, `- ${m}: ticket ${m}\n- ${y}: ticket ${y}\n`);
    assert.equal((await w.o.continueMerge(y)).kind, 'merged');
    assert.equal(w.o.ticket(y).status, 'done', w.o.ticket(y).reason);
    // The other: sent back to its agent with the conflict as context.
    await w.o.sendBack(z);
    await within(w.o.whenIdle(), 30_000, `the rerun of ${z}`);
    assert.equal(w.o.ticket(z).status, 'done', w.o.ticket(z).reason);
    assert.match(w.o.snapshot.runs[`${z}-r2`]!.context ?? '', /conflicted with changes already merged[\s\S]*shared\.txt/);
    const shared = r.git('show', 'main:shared.txt');
    for (const id of ids) assert.match(shared, new RegExp(`- ${id}: ticket ${id}`));
    assert.doesNotMatch(shared, /<<<<<<<|=======|>>>>>>>/);
    const lost = lostOf(r, [mine, mainAfterFirst, ...tips, w.o.ticket(y).mergedAs!, w.o.ticket(z).mergedAs!]);
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });

  it('tests failing after merge: the target does not move, the ticket goes back with the failure and is retried, then fails; its branch kept, the other ticket merges', async () => {
    const r = makeRepo();
    const mine = userCommit(r, 'user.txt', 'mine\n');
    const testCommand = [
      process.execPath,
      '-e',
      'if (require("fs").existsSync("src/B.txt")) { console.error("1 failing: B breaks the build"); process.exit(1); }',
    ];
    const w = await open(r.repo, { maxRetries: 1, testCommand });
    await w.o.addTickets([spec('B', { prompt: '@sleep 50' }), spec('G', { prompt: '@sleep 50' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    const b = w.o.ticket('B');
    assert.equal(b.status, 'failed');
    assert.match(b.reason ?? '', /^gave up after 2 attempts: tests failed after merge: .*1 failing: B breaks the build/s);
    const failed = w.events.filter((e) => e.type === 'merge-attempted' && (e as { id?: string }).id === 'B') as unknown as Array<{
      attempt: { result: string; output?: string };
    }>;
    assert.deepEqual(
      failed.map((e) => e.attempt.result),
      ['test-failed', 'test-failed'],
    );
    assert.match(failed[0]!.attempt.output ?? '', /1 failing: B breaks the build/);
    assert.match(w.o.snapshot.runs['B-r2']!.context ?? '', /broke the tests once merged[\s\S]*1 failing: B breaks the build/, 'sent back with the failure');
    assert.equal(w.o.ticket('G').status, 'done', w.o.ticket('G').reason);
    assert.throws(() => r.git('show', 'main:src/B.txt'), 'B never reached main');
    assert.equal(r.git('show', 'main:src/G.txt'), '- G: ticket G');
    assert.equal(r.git('rev-parse', 'main'), w.o.ticket('G').mergedAs, 'main moved only for G');
    assert.match(r.git('show', 'orchard/B:src/B.txt'), /^- B: ticket B/, "B's work is on its branch");
    assert.equal(r.git('status', '--porcelain'), '');
    const lost = lostOf(r, [mine, w.o.ticket('G').mergedAs!]) + (r.git('show', 'orchard/B:src/B.txt').includes('- B: ticket B') ? 0 : 1);
    assert.equal(lost, 0);
    await w.close();
    count('faults', true, lost);
  });
});
