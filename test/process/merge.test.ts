// Merging with real git: the three strategies, conflict prediction, a conflict opened in the
// integration worktree and continued, the target moving during the tests, the user's dirty
// checkout (stash and update), batch bisection giving the one-at-a-time tree, discard; then
// the four ways out of a conflict through the orchestrator with the fake agent.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MergeStrategy, Run } from '../../src/core/model';
import { runBatches } from '../../src/core/mergeQueue';
import type { GitWorkspace } from '../../src/infra/git/workspace';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, GIT_ENV, makeRepo, quietLog, waitFor, within, type TempRepo } from '../helpers/repo';
import { openWriter, spec, writerPerTest } from '../helpers/session';
import { ticketOf, workOn } from '../helpers/ticketWork';

after(() => cleanupRepos());

function ws(r: TempRepo, testCommand: string[] = [], targetBranch = 'main'): GitWorkspace {
  return new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch, testCommand, log: quietLog() });
}

const parents = (r: TempRepo, rev: string) => r.git('rev-list', '--parents', '-n', '1', rev).split(' ').slice(1);

describe('merge strategies (real git)', { timeout: 600_000 }, () => {
  for (const strategy of ['merge', 'rebase', 'squash'] as MergeStrategy[]) {
    it(`${strategy}: the branch lands on main, the checkout is fast-forwarded, the ticket branch is untouched`, async () => {
      const r = makeRepo();
      const w = ws(r);
      const run = await workOn(w, 'S1', { 's.txt': 'one\n' }, 2);
      const branchTip = r.git('rev-parse', 'orchard/S1');
      r.write('other.txt', 'moved on\n');
      const before = r.commitAll('main moved on');
      const res = await w.merge(ticketOf('S1'), run, { strategy });
      assert.equal(res.kind, 'merged');
      const head = r.git('rev-parse', 'main');
      assert.equal(head, (res as { commit: string }).commit);
      assert.equal(fs.readFileSync(path.join(r.repo, 's.txt'), 'utf8'), 'one\n(1)\n');
      assert.equal(r.git('rev-parse', 'orchard/S1'), branchTip, 'never rewrites the ticket branch');
      if (strategy === 'merge') assert.deepEqual(parents(r, head), [before, branchTip]);
      if (strategy === 'squash') {
        assert.deepEqual(parents(r, head), [before]);
        assert.match(r.git('log', '-1', '--format=%s', head), /Merge ticket S1/);
      }
      if (strategy === 'rebase') {
        assert.equal(r.git('rev-list', '--count', `${before}..${head}`), '2', 'both commits replayed');
        assert.equal(r.git('rev-list', '--merges', '--count', `${before}..${head}`), '0', 'linear');
        assert.equal(parents(r, `${head}~1`)[0], before);
      }
      assert.equal((await w.merge(ticketOf('S1'), run, { strategy })).kind, 'nothing-to-merge');
    });
  }

  it('rebase: main moving during the post-merge tests → redone on the new tip, the concurrent commit kept', async () => {
    const r = makeRepo();
    r.git('checkout', '-q', '-b', 'other');
    const marker = path.join(r.root, 'moved-once');
    const script = `const fs=require('fs');if(!fs.existsSync(${JSON.stringify(marker)})){fs.writeFileSync(${JSON.stringify(marker)},'');const cp=require('child_process');const env={...process.env,...${JSON.stringify(GIT_ENV)}};const c=cp.execFileSync('git',['-C',${JSON.stringify(r.repo)},'commit-tree','-p','main','-m','concurrent','main^{tree}'],{env}).toString().trim();cp.execFileSync('git',['-C',${JSON.stringify(r.repo)},'update-ref','refs/heads/main',c]);}`;
    const w = ws(r, [process.execPath, '-e', script]);
    const run = await workOn(w, 'R1', { 'r.txt': 'r\n' });
    const res = await w.merge(ticketOf('R1'), run, { strategy: 'rebase' });
    assert.equal(res.kind, 'merged');
    assert.equal(r.git('rev-parse', 'main'), (res as { commit: string }).commit);
    assert.equal(r.git('log', '-1', '--format=%s', 'main~1'), 'concurrent');
    assert.equal(w.merger.testRuns, 2, 'tested again on the new tip');
  });

  it('a test failure after merge leaves main untouched (squash), with the output', async () => {
    const r = makeRepo();
    const w = ws(r, [process.execPath, '-e', 'console.error("3 failing"); process.exit(1)']);
    const run = await workOn(w, 'F1', { 'f.txt': 'f\n' });
    const before = r.git('rev-parse', 'main');
    const res = await w.merge(ticketOf('F1'), run, { strategy: 'squash' });
    assert.equal(res.kind, 'test-failed');
    assert.match((res as { output: string }).output, /3 failing/);
    assert.equal(r.git('rev-parse', 'main'), before);
  });
});

describe('conflicts, dirty checkout, batches, discard (real git)', { timeout: 600_000 }, () => {
  it('git merge-tree predicts the conflict (files) without touching any worktree', async () => {
    const r = makeRepo();
    const w = ws(r);
    const a = await workOn(w, 'A1', { 'README.md': 'from A\n' });
    const b = await workOn(w, 'B1', { 'b.txt': 'b\n' });
    r.write('README.md', 'main edit\n');
    r.commitAll('main edit');
    assert.deepEqual(await w.predictConflict(a.branch), ['README.md']);
    assert.equal(await w.predictConflict(b.branch), undefined);
    assert.equal(r.git('status', '--porcelain'), '');
  });

  for (const strategy of ['merge', 'rebase', 'squash'] as MergeStrategy[]) {
    it(`${strategy}: open the conflict in the integration worktree, continue after the human resolves it`, async () => {
      const r = makeRepo();
      const w = ws(r);
      const a = await workOn(w, 'A1', { 'x.txt': 'from A\n' });
      r.write('x.txt', 'from main\n');
      r.commitAll('main x');
      const res = await w.merge(ticketOf('A1'), a, { strategy });
      assert.deepEqual(res, { kind: 'conflict', files: ['x.txt'] });
      const opened = await w.openConflict(ticketOf('A1'), a, { strategy });
      assert.equal(opened.dir, w.integrationDir);
      assert.deepEqual(opened.files, ['x.txt']);
      assert.match(fs.readFileSync(path.join(opened.dir, 'x.txt'), 'utf8'), /^<<<<<<< /m);
      await assert.rejects(w.merge(ticketOf('Z'), a), /holds the open conflict of A1/);
      assert.deepEqual(await w.continueMerge(ticketOf('A1'), a, { strategy }), { kind: 'conflict', files: ['x.txt'] }, 'markers left: not yet');
      fs.writeFileSync(path.join(opened.dir, 'x.txt'), 'from main and A\n');
      const done = await w.continueMerge(ticketOf('A1'), a, { strategy });
      assert.equal(done.kind, 'merged');
      assert.equal(r.git('show', 'main:x.txt'), 'from main and A');
      assert.equal(fs.readFileSync(path.join(r.repo, 'x.txt'), 'utf8'), 'from main and A\n');
      assert.equal(w.merger.heldBy(), undefined);
    });
  }

  it('a dirty checkout of main: target-dirty; with stashDirty the changes are stashed, main fast-forwarded, changes put back', async () => {
    const r = makeRepo();
    const w = ws(r);
    const run = await workOn(w, 'D1', { 'd.txt': 'd\n' });
    r.write('README.md', 'my local edit\n');
    r.write('scratch.txt', 'untracked\n');
    const before = r.git('rev-parse', 'main');
    assert.deepEqual(await w.merge(ticketOf('D1'), run), { kind: 'target-dirty', checkout: r.repo });
    assert.equal(r.git('rev-parse', 'main'), before);
    const res = await w.merge(ticketOf('D1'), run, { stashDirty: true });
    assert.equal(res.kind, 'merged');
    assert.match((res as { note?: string }).note ?? '', /stashed and put back/);
    assert.equal(fs.readFileSync(path.join(r.repo, 'README.md'), 'utf8'), 'my local edit\n');
    assert.equal(fs.readFileSync(path.join(r.repo, 'scratch.txt'), 'utf8'), 'untracked\n');
    assert.equal(fs.readFileSync(path.join(r.repo, 'd.txt'), 'utf8'), 'd\n');
    assert.equal(r.git('stash', 'list'), '');
  });

  it('batch bisection ends with the same main tree as one-at-a-time, in fewer test runs', async () => {
    const r = makeRepo();
    r.git('branch', 'solo');
    const test = [process.execPath, '-e', 'process.exit(require("fs").readdirSync(".").some((f) => f.startsWith("broken")) ? 1 : 0)'];
    const batch = ws(r, test);
    const solo = ws(r, test, 'solo');
    const ids = Array.from({ length: 8 }, (_, i) => `Q${i}`);
    const runs = new Map<string, Run>();
    for (const id of ids) runs.set(id, await workOn(batch, id, { [id === 'Q5' ? 'broken-Q5' : `${id}.txt`]: `${id}\n` }));
    const item = (id: string) => ({ ticket: ticketOf(id), run: runs.get(id)! });
    const b = await runBatches(ids, 8, async (xs) => (await batch.mergeBatch(xs.map(item))).kind === 'merged');
    assert.deepEqual(b.culprits, ['Q5']);
    const soloMerged: string[] = [];
    for (const id of ids) if ((await solo.merge(ticketOf(id), runs.get(id)!)).kind === 'merged') soloMerged.push(id);
    assert.deepEqual(b.merged, soloMerged);
    assert.equal(r.git('rev-parse', 'main^{tree}'), r.git('rev-parse', 'solo^{tree}'));
    assert.equal(solo.merger.testRuns, 8);
    assert.equal(batch.merger.testRuns, b.tests);
    assert.ok(b.tests < 8, `${b.tests} test runs`);
    // the same chain of merges: main's first-parent history names the tickets in the same order
    assert.deepEqual(r.git('log', '--first-parent', '--format=%s', 'main').split('\n'), r.git('log', '--first-parent', '--format=%s', 'solo').split('\n'));
  });

  it('a conflict inside a batch stops the chain at that ticket without a test run', async () => {
    const r = makeRepo();
    const w = ws(r, [process.execPath, '-e', '0']);
    const a = await workOn(w, 'A1', { 'x.txt': 'A\n' });
    const b = await workOn(w, 'B1', { 'x.txt': 'B\n' });
    const res = await w.mergeBatch([
      { ticket: ticketOf('A1'), run: a },
      { ticket: ticketOf('B1'), run: b },
    ]);
    assert.deepEqual(res, { kind: 'conflict', ticketId: 'B1', files: ['x.txt'] });
    assert.equal(w.merger.testRuns, 0);
  });

  it('discard keeps the work under refs/orchard/discarded/ and removes the clean worktree and the branch', async () => {
    const r = makeRepo();
    const w = ws(r);
    const run = await workOn(w, 'X1', { 'x.txt': 'x\n' });
    const tip = r.git('rev-parse', 'orchard/X1');
    const ref = await w.discard(run);
    assert.match(ref ?? '', /^refs\/orchard\/discarded\/X1\/\d+$/);
    assert.equal(r.git('rev-parse', ref!), tip);
    assert.equal(fs.existsSync(run.worktree), false);
    assert.throws(() => r.git('rev-parse', '--verify', '--quiet', 'refs/heads/orchard/X1'));
  });

  it('bringUpToDate: rebases a clean branch; a conflicting one gets the target merged in with markers for the agent', async () => {
    const r = makeRepo();
    const w = ws(r);
    const a = await workOn(w, 'A1', { 'a.txt': 'a\n' });
    const c = await workOn(w, 'C1', { 'x.txt': 'C\n' });
    r.write('x.txt', 'main\n');
    r.commitAll('main x');
    assert.deepEqual(await w.bringUpToDate(a), { kind: 'rebased' });
    r.git('merge-base', '--is-ancestor', 'main', 'orchard/A1');
    assert.deepEqual(await w.bringUpToDate(c), { kind: 'conflict', files: ['x.txt'] });
    assert.match(fs.readFileSync(path.join(c.worktree, 'x.txt'), 'utf8'), /^<<<<<<< /m);
    assert.ok(r.git('for-each-ref', '--format=%(refname)', 'refs/orchard/backup/').includes('refs/orchard/backup/C1/'), 'the old tip is kept');
  });
});

describe('the four ways out of a conflict (orchestrator, fake agent)', { timeout: 600_000 }, () => {
  before(() => buildDist());
  const writer = writerPerTest();

  /** X and Y both create shared.txt in parallel: X merges, Y conflicts. */
  async function conflicted(extra: Parameters<typeof openWriter>[1] = {}) {
    const r = makeRepo();
    const w = await writer(r.repo, { mode: 'isolation', maxAgents: 2, ...extra });
    const o = w.s.orchestrator;
    // Y starts from the same base as X but works only once X is merged: X merges, Y conflicts
    // (a head start measured in time lost on a loaded machine).
    const go = `${r.repo}.go-Y`;
    await o.addTickets([spec('X', { files: ['shared.txt'], estimate: 2 }), spec('Y', { files: ['shared.txt'], prompt: `do Y\n@wait-for ${go}` })]);
    await o.start();
    await waitFor(() => o.snapshot.tickets.X!.status === 'done', 30_000, 'X merged');
    fs.writeFileSync(go, '');
    await within(o.whenIdle(), 20_000, 'the batch');
    assert.equal(o.snapshot.tickets.X!.status, 'done', o.snapshot.tickets.X!.reason);
    const y = o.snapshot.tickets.Y!;
    assert.equal(y.status, 'escalated', y.reason);
    assert.deepEqual(y.conflict?.files, ['shared.txt']);
    const esc = Object.values(o.snapshot.escalations).find((e) => e.ticketId === 'Y' && e.trigger === 'conflict')!;
    assert.deepEqual(esc.options, ['Open the conflicted files', 'Send back to the agent', 'Keep the branch for later', 'Discard']);
    return { r, w, o };
  }

  it('open the conflicted files, resolve in the integration worktree, Continue Merge', async () => {
    const { r, o } = await conflicted();
    const { dir, files } = await o.openConflict('Y');
    assert.deepEqual(files, [path.join(dir, 'shared.txt')]);
    assert.equal(o.snapshot.tickets.Y!.conflict?.resolving, true);
    fs.writeFileSync(files[0]!, '- X: ticket X\n- Y: ticket Y\n');
    const res = await o.continueMerge('Y');
    assert.equal(res.kind, 'merged');
    assert.equal(o.snapshot.tickets.Y!.status, 'done');
    assert.equal(o.snapshot.tickets.Y!.conflict, undefined);
    assert.equal(r.git('show', 'main:shared.txt'), '- X: ticket X\n- Y: ticket Y');
  });

  it('send back to the agent: rebased onto main with the conflict as context, then merged', async () => {
    const { r, w, o } = await conflicted();
    await o.sendBack('Y');
    await within(o.whenIdle(), 20_000, 'the rerun');
    const y = o.snapshot.tickets.Y!;
    assert.equal(y.status, 'done', y.reason);
    const second = o.snapshot.runs['Y-r2']!;
    assert.match(second.context ?? '', /conflicted with changes already merged[\s\S]*shared\.txt/);
    const main = r.git('show', 'main:shared.txt');
    assert.match(main, /- X: ticket X/);
    assert.match(main, /- Y: ticket Y/);
    assert.doesNotMatch(main, /<<<<<<<|>>>>>>>/);
    assert.ok(w.events.some((e) => e.type === 'merge-conflict-handled' && e.how === 'sent-back'));
  });

  it('keep the branch for later: nothing waits, the branch stays; Merge Now later tries again', async () => {
    const { r, o } = await conflicted();
    const tip = r.git('rev-parse', 'orchard/Y');
    await o.keepForLater('Y');
    await within(o.whenIdle(), 5000, 'idle after keep');
    assert.equal(o.snapshot.tickets.Y!.status, 'escalated');
    assert.equal(o.snapshot.tickets.Y!.conflict?.kept, true);
    assert.equal(o.openEscalations().filter((e) => e.ticketId === 'Y').length, 0, 'the question is answered');
    assert.equal(r.git('rev-parse', 'orchard/Y'), tip);
    await o.mergeNow('Y');
    assert.equal(o.snapshot.tickets.Y!.status, 'escalated', 'still conflicts');
    assert.deepEqual(o.snapshot.tickets.Y!.conflict?.files, ['shared.txt']);
  });

  it('discard: refused without confirmation; confirmed → cancelled, the work kept under refs/orchard/discarded/', async () => {
    const { r, o } = await conflicted();
    const tip = r.git('rev-parse', 'orchard/Y');
    await assert.rejects(o.discard('Y'), /needs confirmation/);
    assert.equal(r.git('rev-parse', 'orchard/Y'), tip);
    const { ref } = await o.discard('Y', true);
    assert.equal(o.snapshot.tickets.Y!.status, 'cancelled');
    assert.equal(r.git('rev-parse', ref!), tip);
    assert.equal(o.snapshot.tickets.Y!.discardedRef, ref);
  });

  it('a dirty user checkout: escalated; Stash and Update merges and puts the changes back', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 1 });
    const o = w.s.orchestrator;
    r.write('README.md', 'my edit\n');
    await o.addTickets([spec('D', { estimate: 2 })]);
    await o.start();
    await within(o.whenIdle(), 20_000, 'the batch');
    assert.equal(o.snapshot.tickets.D!.status, 'escalated');
    const esc = o.openEscalations().find((e) => e.ticketId === 'D')!;
    assert.deepEqual(esc.options, ['Stash and update', 'Later']);
    await o.stashAndUpdate('D');
    assert.equal(o.snapshot.tickets.D!.status, 'done', o.snapshot.tickets.D!.reason);
    assert.equal(fs.readFileSync(path.join(r.repo, 'README.md'), 'utf8'), 'my edit\n');
    assert.match(r.git('show', 'main:src/D.txt'), /- D: ticket D/);
  });

  it('batch mode through the orchestrator: a breaking ticket is found by bisection, the others merge', async () => {
    const r = makeRepo();
    const test = [process.execPath, '-e', 'process.exit(require("fs").existsSync("src/B2.txt") ? 1 : 0)'];
    const w = await writer(r.repo, { maxAgents: 4, batchMerge: true, maxRetries: 0, testCommand: test });
    const o = w.s.orchestrator;
    // Finishing together, they queue together.
    await o.addTickets(['B1', 'B2', 'B3', 'B4'].map((id) => spec(id, { estimate: 4 })));
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const st = o.snapshot;
    assert.equal(st.tickets.B2!.status, 'failed', st.tickets.B2!.reason);
    for (const id of ['B1', 'B3', 'B4']) assert.equal(st.tickets[id]!.status, 'done', `${id}: ${st.tickets[id]!.reason}`);
    assert.ok(
      Object.values(st.runs).some((run) => (run.merges ?? []).some((m) => (m.batch?.length ?? 0) > 1)),
      'some merge was a batch',
    );
    assert.equal(r.git('ls-tree', '--name-only', 'main', 'src/').split('\n').sort().join(','), 'src/B1.txt,src/B3.txt,src/B4.txt');
  });
});
