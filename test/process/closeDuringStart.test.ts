// Closing a session (a window reload, Ctrl-C of `orchard run`) while an agent is being started:
// the run's worktree may not be in the state yet, and an agent started without it ran in the
// folder Orchard itself runs from — it committed there (found by test/unit/batchPause.test.ts,
// whose stray agent committed into this repository). Here that folder is a guard repository.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { buildDist, cleanupRepos, makeRepo, sleep } from '../helpers/repo';
import { openWriter, spec } from '../helpers/session';

before(() => buildDist());
after(() => cleanupRepos());

describe('close during an agent start', () => {
  it('never runs the agent outside its worktree', { timeout: 240_000 }, async () => {
    const guard = makeRepo('orchard-guard-');
    const r = makeRepo('orchard-close-start-');
    const cwd = process.cwd();
    process.chdir(guard.repo);
    try {
      for (let i = 0; i < 4; i++) {
        const w = await openWriter(r.repo);
        await w.s.orchestrator.addTickets([spec(`C${i}`, { prompt: 'c\n@sleep 100' })]);
        await w.s.orchestrator.start();
        await w.close(); // at once: the worktree is still being prepared
      }
      await sleep(2_000); // a stray agent would have committed by now
      assert.equal(guard.git('rev-list', '--count', 'HEAD'), '1', `commits in the folder Orchard runs from:\n${guard.git('log', '--oneline')}`);
      assert.equal(guard.git('status', '--porcelain'), '');
    } finally {
      process.chdir(cwd);
    }
    // The interrupted runs are picked up again by the next session and finish in their worktrees.
    const w = await openWriter(r.repo);
    await w.s.orchestrator.start();
    await w.s.orchestrator.whenIdle();
    assert.deepEqual(
      Object.values(w.s.orchestrator.snapshot.tickets).map((t) => `${t.id}:${t.status}`),
      ['C0:done', 'C1:done', 'C2:done', 'C3:done'],
    );
    await w.close();
  });
});
