// End-to-end through openSession: real git worktrees, the real runner and the scripted fake
// agent (dist/fake-agent.js). Slow-ish (processes), so estimates are tiny.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OrchardEvent } from '../../src/core/events';
import type { OrchardState } from '../../src/core/model';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, DIST, makeRepo, pidAlive, quietLog, waitFor, within } from '../helpers/repo';
import { spec, writerPerTest } from '../helpers/session';

before(() => buildDist());
const writer = writerPerTest();
after(() => cleanupRepos());

type StatusEvent = Extract<OrchardEvent, { type: 'ticket-status' }>;
const statusEvents = (events: OrchardEvent[], id?: string) =>
  events.filter((e): e is StatusEvent => e.type === 'ticket-status' && (id === undefined || e.id === id));
const mergedAt = (events: OrchardEvent[], id: string) => events.find((e) => e.type === 'ticket-merged' && e.id === id)?.at;

/** Intervals during which each run held a slot (run-started .. run-ended). */
function runIntervals(events: OrchardEvent[]): Array<{ runId: string; ticketId: string; start: number; end: number; startSeq: number; endSeq: number }> {
  const out: Array<{ runId: string; ticketId: string; start: number; end: number; startSeq: number; endSeq: number }> = [];
  for (const e of events) {
    if (e.type === 'run-started') out.push({ runId: e.run.id, ticketId: e.run.ticketId, start: e.at, end: Infinity, startSeq: e.seq, endSeq: Infinity });
    if (e.type === 'run-ended') {
      const r = out.find((x) => x.runId === e.runId)!;
      r.end = e.at;
      r.endSeq = e.seq;
    }
  }
  return out;
}

/** Largest number of runs alive at once, by event order (exact, unlike timestamps). */
function maxOverlap(events: OrchardEvent[]): number {
  let cur = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'run-started') max = Math.max(max, ++cur);
    if (e.type === 'run-ended') cur--;
  }
  return max;
}

/** Whether runs of ticket a and b were ever alive at the same time (by event order). */
function overlapped(events: OrchardEvent[], a: string, b: string): boolean {
  const alive = new Set<string>();
  for (const e of events) {
    if (e.type === 'run-started') {
      alive.add(e.run.ticketId);
      if (alive.has(a) && alive.has(b)) return true;
    }
    if (e.type === 'run-ended') alive.delete(e.runId.replace(/-r\d+$/, ''));
  }
  return false;
}

describe('orchestrator end to end (openSession, fake agent)', { timeout: 600_000 }, () => {
  it('runs a DAG (chain + fan-in) to done, each ticket merged once, in dependency order, within maxAgents', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 2 });
    const o = w.s.orchestrator;
    // A → B → D, C → D, D → E (fan-in at D), all on disjoint files.
    await o.addTickets([
      spec('A', { estimate: 20 }),
      spec('B', { dependsOn: ['A'] }),
      spec('C', { estimate: 30 }),
      spec('D', { dependsOn: ['B', 'C'] }),
      spec('E', { dependsOn: ['D'] }),
      spec('F', { estimate: 5 }),
    ]);
    await o.start();
    await within(o.whenIdle(), 40_000, 'the batch');
    const st = o.snapshot;
    for (const id of ['A', 'B', 'C', 'D', 'E', 'F']) {
      assert.equal(st.tickets[id]!.status, 'done', `${id}: ${st.tickets[id]!.reason}`);
      assert.equal(w.events.filter((e) => e.type === 'ticket-merged' && e.id === id).length, 1, `${id} merged exactly once`);
      assert.ok(st.tickets[id]!.mergedAs, `${id} has mergedAs`);
      // main contains every ticket's file
      assert.match(r.git('show', `main:src/${id}.txt`), new RegExp(`- ${id}: ticket ${id}`));
      // the branch orchard/<id> exists
      assert.ok(r.git('rev-parse', '--verify', `refs/heads/orchard/${id}`));
      // main contains the branch
      r.git('merge-base', '--is-ancestor', `orchard/${id}`, 'main');
    }
    // no dependent started before every dependency was merged
    const runs = runIntervals(w.events);
    for (const t of Object.values(st.tickets)) {
      const myRuns = runs.filter((x) => x.ticketId === t.id);
      assert.equal(myRuns.length, 1, `${t.id} ran once`);
      for (const d of t.dependsOn) {
        const m = w.events.find((e) => e.type === 'ticket-merged' && e.id === d)!;
        assert.ok(myRuns[0]!.startSeq > m.seq, `${t.id} started (seq ${myRuns[0]!.startSeq}) after ${d} merged (seq ${m.seq})`);
        assert.ok(myRuns[0]!.start >= mergedAt(w.events, d)!);
        assert.ok(st.runs[myRuns[0]!.runId]!.startedAt >= st.runs[`${d}-r1`]!.endedAt!);
      }
    }
    // at most maxAgents runs alive at once, and the pool was actually used in parallel
    assert.equal(maxOverlap(w.events), 2);
    // slots are 1..maxAgents
    for (const run of Object.values(st.runs)) assert.ok(run.slot >= 1 && run.slot <= 2);
    // worktrees live outside the repository folder
    const home = `${r.repo}.orchard`;
    for (const run of Object.values(st.runs)) {
      assert.equal(run.worktree, path.join(home, 'worktrees', run.ticketId));
      assert.ok(
        !path
          .relative(r.repo, run.worktree)
          .split(path.sep)
          .every((s) => s !== '..'),
        'worktree not inside the repo',
      );
      assert.equal(run.branch, `orchard/${run.ticketId}`);
      assert.equal(run.outcome, 'succeeded');
    }
    // the user's checkout followed main (it was clean) and has no stray files
    assert.equal(r.git('rev-parse', 'HEAD'), r.git('rev-parse', 'main'));
    assert.equal(r.git('status', '--porcelain'), '');
    // the event log on disk matches what the orchestrator reported
    await w.s.store.flush();
    const onDisk = fs
      .readFileSync(path.join(r.repo, '.git', 'orchard', 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OrchardEvent);
    assert.deepEqual(
      onDisk
        .filter((e) => e.type === 'ticket-merged')
        .map((e) => (e as { id: string }).id)
        .sort(),
      ['A', 'B', 'C', 'D', 'E', 'F'],
    );
    assert.equal(st.batch?.endedAt !== undefined, true, 'batch ended');
  });

  it('locking mode never runs tickets with overlapping files at the same time', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 3, mode: 'locking' });
    const o = w.s.orchestrator;
    await o.addTickets([
      spec('G', { files: ['src/a/**'], prompt: 'glob\n@write src/a/g.js', estimate: 20 }),
      spec('X', { files: ['src/a/x.js'], estimate: 20 }),
      spec('Z', { files: ['src/z.js'], estimate: 20 }),
    ]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    for (const id of ['G', 'X', 'Z']) assert.equal(o.snapshot.tickets[id]!.status, 'done', `${id}: ${o.snapshot.tickets[id]!.reason}`);
    assert.equal(overlapped(w.events, 'G', 'X'), false, 'G and X overlap (src/a/** vs src/a/x.js) and must not run together');
    assert.equal(overlapped(w.events, 'G', 'Z') || overlapped(w.events, 'X', 'Z'), true, 'Z (disjoint) ran alongside one of them');
    assert.deepEqual(o.snapshot.locks, [], 'all locks released after merge');
  });

  it('isolation mode runs overlapping tickets together; the second merge conflicts → escalated, main untouched, branch kept', async () => {
    const r = makeRepo();
    r.write('src/a/x.js', 'original\n');
    r.commitAll('add x.js');
    const w = await writer(r.repo, { maxAgents: 2, mode: 'isolation' });
    const o = w.s.orchestrator;
    await o.addTickets([spec('P', { files: ['src/a/x.js'], estimate: 20 }), spec('Q', { files: ['src/a/**'], prompt: 'q\n@write src/a/x.js', estimate: 20 })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    assert.equal(overlapped(w.events, 'P', 'Q'), true, 'isolation runs them in parallel');
    const st = o.snapshot;
    const statuses = ['P', 'Q'].map((id) => st.tickets[id]!.status).sort();
    assert.deepEqual(statuses, ['done', 'escalated']);
    const loser = st.tickets.P!.status === 'escalated' ? 'P' : 'Q';
    const winner = loser === 'P' ? 'Q' : 'P';
    assert.match(st.tickets[loser]!.reason ?? '', /merge conflict/);
    assert.match(st.tickets[loser]!.reason ?? '', /src\/a\/x\.js/);
    const x = r.git('show', 'main:src/a/x.js');
    assert.match(x, new RegExp(`- ${winner}:`));
    assert.doesNotMatch(x, new RegExp(`- ${loser}:`), 'main has nothing of the conflicting ticket');
    // branch kept, with its commit, not in main
    assert.ok(r.git('rev-parse', '--verify', `refs/heads/orchard/${loser}`));
    assert.throws(() => r.git('merge-base', '--is-ancestor', `orchard/${loser}`, 'main'));
    assert.equal(w.events.filter((e) => e.type === 'ticket-merged').length, 1);
    // the integration worktree is left clean (merge aborted)
    const integration = path.join(`${r.repo}.orchard`, 'integration');
    assert.equal(fs.existsSync(path.join(integration, '.git')), true);
    assert.equal(r.git('-C', integration, 'status', '--porcelain'), '');
  });
});

describe('failure, retry and timeout', { timeout: 600_000 }, () => {
  it('@fail-once succeeds on attempt 2; @fail fails after maxRetries+1 attempts and blocks its dependents', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 2, maxRetries: 2 });
    const o = w.s.orchestrator;
    await o.addTickets([
      spec('ONCE', { prompt: 'flaky\n@fail-once', estimate: 2 }),
      spec('BAD', { prompt: 'broken\n@fail', estimate: 2 }),
      spec('DEP', { dependsOn: ['BAD'] }),
      spec('DEP2', { dependsOn: ['DEP'] }),
    ]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const st = o.snapshot;
    assert.equal(st.tickets.ONCE!.status, 'done', st.tickets.ONCE!.reason);
    assert.equal(st.tickets.ONCE!.attempts, 2);
    assert.equal(st.runs['ONCE-r1']!.outcome, 'failed');
    assert.equal(st.runs['ONCE-r1']!.exitCode, 1);
    assert.equal(st.runs['ONCE-r2']!.outcome, 'succeeded');
    assert.equal(st.tickets.BAD!.status, 'failed');
    assert.equal(st.tickets.BAD!.attempts, 3, 'maxRetries 2 → 3 attempts');
    assert.deepEqual(
      Object.values(st.runs)
        .filter((x) => x.ticketId === 'BAD')
        .map((x) => x.outcome),
      ['failed', 'failed', 'failed'],
    );
    assert.match(st.tickets.BAD!.reason ?? '', /gave up after 3 attempts/);
    assert.equal(st.tickets.DEP!.status, 'blocked');
    assert.match(st.tickets.DEP!.reason ?? '', /BAD/);
    assert.equal(st.tickets.DEP2!.status, 'blocked');
    assert.match(st.tickets.DEP2!.reason ?? '', /DEP/);
    assert.equal(
      Object.values(st.runs).some((x) => x.ticketId === 'DEP' || x.ticketId === 'DEP2'),
      false,
      'blocked tickets never started',
    );
    assert.deepEqual(st.locks, []);
  });

  it('a retry prompt carries the previous failure as context', async () => {
    const r = makeRepo();
    const argvProfile = {
      name: 'fake-argv',
      description: 'fake agent with the prompt in argv',
      argv: [process.execPath, path.join(DIST, 'fake-agent.js'), '{prompt}'],
    };
    const w = await writer(r.repo, { maxAgents: 1, defaultAgent: 'fake-argv' }, '5', { 'fake-argv': argvProfile });
    await w.s.orchestrator.addTickets([spec('ONCE', { prompt: 'flaky\n@fail-once', estimate: 2 })]);
    await w.s.orchestrator.start();
    await within(w.s.orchestrator.whenIdle(), 20_000, 'the batch');
    assert.equal(w.s.orchestrator.snapshot.tickets.ONCE!.status, 'done');
    const spec2 = JSON.parse(fs.readFileSync(path.join(w.s.paths.stateDir, 'runs', 'ONCE-r2', 'spec.json'), 'utf8')) as { argv: string[] };
    assert.equal(spec2.argv.length, 3, 'the prompt is one argv element');
    assert.match(spec2.argv[2]!, /attempt 2/);
    assert.match(spec2.argv[2]!, /exited with code 1/);
  });

  it('@hang with a tiny runTimeoutMinutes: the run is stopped (timeout), the agent process is gone', async () => {
    const r = makeRepo();
    // 6 s: the runner must have started the agent before the timeout, even on a loaded machine.
    const w = await writer(r.repo, { maxAgents: 1, maxRetries: 0, runTimeoutMinutes: 0.1 });
    const o = w.s.orchestrator;
    await o.addTickets([spec('HANG', { prompt: 'hang\n@hang' })]);
    await o.start();
    await within(o.whenIdle(), 20_000, 'the batch');
    const st = o.snapshot;
    assert.equal(st.runs['HANG-r1']!.outcome, 'timeout');
    assert.equal(st.tickets.HANG!.status, 'failed');
    assert.match(st.tickets.HANG!.reason ?? '', /timed out/);
    const status = JSON.parse(fs.readFileSync(path.join(w.s.paths.stateDir, 'runs', 'HANG-r1', 'status.json'), 'utf8')) as {
      runnerPid: number;
      agentPid: number;
    };
    assert.ok(status.agentPid > 0);
    await waitFor(() => !pidAlive(status.agentPid) && !pidAlive(status.runnerPid), 6000, 'agent and runner to be gone');
    const exit = JSON.parse(fs.readFileSync(path.join(w.s.paths.stateDir, 'runs', 'HANG-r1', 'exit.json'), 'utf8')) as { signal?: string };
    assert.equal(exit.signal, 'SIGTERM');
    // the worktree is kept for inspection
    assert.ok(fs.existsSync(st.runs['HANG-r1']!.worktree));
  });
});

describe('persistence and the writer lease', { timeout: 600_000 }, () => {
  it('a new session on the same repo loads the same tickets and runs', async () => {
    const r = makeRepo();
    const w = await writer(r.repo);
    await w.s.orchestrator.addTickets([spec('A', { estimate: 2 }), spec('B', { dependsOn: ['A'], estimate: 2 }), spec('F', { prompt: '@fail', estimate: 1 })]);
    await w.s.orchestrator.start();
    await within(w.s.orchestrator.whenIdle(), 30_000, 'the batch');
    const before: OrchardState = structuredClone(w.s.orchestrator.snapshot);
    await w.close();
    const w2 = await writer(r.repo);
    const st = w2.s.orchestrator.snapshot;
    assert.deepEqual(
      Object.fromEntries(Object.values(st.tickets).map((t) => [t.id, [t.status, t.attempts, t.mergedAs]])),
      Object.fromEntries(Object.values(before.tickets).map((t) => [t.id, [t.status, t.attempts, t.mergedAs]])),
    );
    assert.deepEqual(st.runs, before.runs);
    assert.equal(st.seq, before.seq);
  });

  it('a second openSession while the first is open is a follower naming the holder', async () => {
    const r = makeRepo();
    const w = await writer(r.repo);
    await w.s.orchestrator.addTickets([spec('A')]);
    const second = await loadSrc().openSession({ cwd: r.repo, owner: 'second window', distDir: DIST, log: quietLog() });
    try {
      assert.equal(second.role, 'follower');
      if (second.role !== 'follower') return;
      assert.equal(second.holder.owner, 'unit test');
      assert.equal(second.holder.pid, process.pid);
      assert.match(second.message, /unit test/);
      assert.match(second.message, new RegExp(`pid ${process.pid}`));
      await waitFor(() => second.state().tickets.A !== undefined, 5000, 'the follower to see ticket A');
    } finally {
      second.dispose();
    }
    // the follower's dispose must not release the writer's lease
    const third = await loadSrc().openSession({ cwd: r.repo, owner: 'third', distDir: DIST, log: quietLog() });
    third.dispose();
    assert.equal(third.role, 'follower');
  });
});

describe('merge safety', { timeout: 600_000 }, () => {
  it('a dirty main checkout: ticket escalated (target-dirty), main not moved, the uncommitted file untouched', async () => {
    const r = makeRepo();
    r.write('README.md', '# local edit, not committed\n');
    const mainBefore = r.git('rev-parse', 'main');
    const w = await writer(r.repo, { maxAgents: 1 });
    const o = w.s.orchestrator;
    await o.addTickets([spec('M', { estimate: 2 })]);
    await o.start();
    await within(o.whenIdle(), 20_000, 'the batch');
    const t = o.snapshot.tickets.M!;
    assert.equal(t.status, 'escalated');
    assert.match(t.reason ?? '', /uncommitted changes/);
    assert.ok((t.reason ?? '').includes(r.repo), 'reason names the checkout');
    assert.equal(r.git('rev-parse', 'main'), mainBefore, 'main not moved');
    assert.equal(fs.readFileSync(path.join(r.repo, 'README.md'), 'utf8'), '# local edit, not committed\n');
    assert.equal(fs.existsSync(path.join(r.repo, 'src', 'M.txt')), false);
    assert.ok(r.git('rev-parse', '--verify', 'refs/heads/orchard/M'), 'branch kept');
  });

  it('a failing test command after merge: target not moved, the ticket is retried and finally failed', async () => {
    const r = makeRepo();
    const mainBefore = r.git('rev-parse', 'main');
    const w = await writer(r.repo, { maxAgents: 1, maxRetries: 1, testCommand: [process.execPath, '-e', 'console.log("tests broke"); process.exit(1)'] });
    const o = w.s.orchestrator;
    await o.addTickets([spec('T', { estimate: 2 })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const t = o.snapshot.tickets.T!;
    assert.equal(t.status, 'failed', t.reason);
    assert.equal(t.attempts, 2);
    assert.match(t.reason ?? '', /tests failed after merge/);
    const retries = statusEvents(w.events, 'T').filter((e) => e.from === 'merging');
    assert.deepEqual(
      retries.map((e) => e.to),
      ['ready', 'failed'],
    );
    assert.equal(r.git('rev-parse', 'main'), mainBefore, 'main not moved');
    assert.equal(
      w.events.some((e) => e.type === 'ticket-merged'),
      false,
    );
    assert.deepEqual(o.snapshot.locks, []);
  });
});
