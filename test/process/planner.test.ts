// The planner round trip, headless: goal → scripted planner agent proposes tickets through
// `orchard-agent add-ticket` → pending proposal (nothing added) → accept → run → merged.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateProposal, proposeTicket, type Proposal } from '../../src/core/workflows/agentTickets';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, DIST, makeRepo, waitFor, within } from '../helpers/repo';
import { openWriter, spec, writerPerTest } from '../helpers/session';

before(() => buildDist());
const writer = writerPerTest();
after(() => cleanupRepos());

const blank = (): Proposal => ({ id: 'plan1', goal: 'g', createdAt: 0, agent: 'fake', status: 'pending', tickets: [], refused: [] });

describe('planner proposals (core)', () => {
  it('validates each proposed ticket like an import; dependencies use the planner ids', () => {
    const p = blank();
    assert.deepEqual(proposeTicket(p, { id: 'api', title: 'API', role: 'developer', files: ['src/api/**'], estimate: 20 }, []), []);
    assert.deepEqual(proposeTicket(p, { id: 'ui', title: 'UI', dependsOn: ['api', 'T9'], role: 'developer' }, ['T9']), []);
    assert.deepEqual(
      p.tickets.map((t) => [t.id, t.dependsOn]),
      [
        ['plan1.api', []],
        ['plan1.ui', ['plan1.api', 'T9']],
      ],
    );
    assert.ok(p.tickets[0]!.labels.includes('proposal:plan1'));
    const bad = proposeTicket(p, { id: 'x', title: 'X', role: 'Boss', dependsOn: ['nope'], estimate: -3 }, []);
    assert.ok(bad.some((m) => /role/.test(m)) && bad.some((m) => /estimate/.test(m)) && bad.some((m) => /nope/.test(m)), bad.join('\n'));
    assert.equal(p.tickets.length, 2);
    assert.equal(p.refused.length, 1);
    assert.throws(
      () =>
        proposeTicket(p, { id: 'api', title: 'again' }, []).length &&
        (() => {
          throw new Error('duplicate refused');
        })(),
      /duplicate refused/,
    );
  });
  it('an edited proposal is validated again before it is accepted', () => {
    assert.throws(() => validateProposal([{ id: 'a', title: 'A', dependsOn: ['a'] }], []), /cycle|itself/);
  });
});

/** A repository set up with `orchard init` for the fake agent, and the CLI with captured output. */
async function initCli() {
  const r = makeRepo();
  const { runCli } = loadSrc();
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s), cwd: r.repo, distDir: DIST };
  assert.equal(await runCli(['init', '--agent', 'fake', '--agents', '2'], io), 0);
  process.env.ORCHARD_FAKE_MS_PER_MINUTE = '2';
  return { r, runCli: runCli as (argv: string[], io: unknown) => Promise<number>, out, io };
}

describe('planner round trip (fake planner agent)', () => {
  it('goal → proposal (pending, no tickets) → accept → run → merged', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 2 }, '2');
    const { runPlanner, acceptProposal, listProposals } = loadSrc();
    const ctx = { orchestrator: w.s.orchestrator, launcher: w.s.launcher, paths: w.s.paths, targetBranch: 'main', log: w.log };
    const seen: string[] = [];
    const p = await within(
      runPlanner(ctx, 'Add a settings page\n@plan', { agent: 'fake', onProposal: (e: { ticket?: { id: string } }) => e.ticket && seen.push(e.ticket.id) }),
      20_000,
      'the planner',
    );
    assert.equal(p.status, 'pending');
    assert.deepEqual(
      p.tickets.map((t) => [t.id, t.role, t.dependsOn]),
      [
        ['plan1.design', 'architect', []],
        ['plan1.build', 'developer', ['plan1.design']],
        ['plan1.test', 'tester', ['plan1.build']],
      ],
    );
    assert.deepEqual(seen, ['plan1.design', 'plan1.build', 'plan1.test']);
    // Nothing was added or started; the planner's worktree is gone and main did not move.
    assert.deepEqual(Object.keys(w.s.orchestrator.snapshot.tickets), []);
    assert.equal(r.git('rev-list', '--count', 'main'), '1');
    assert.ok(!r.git('worktree', 'list').includes('planner'));
    assert.equal(listProposals(w.s.paths.stateDir)[0].status, 'pending');
    const added = await acceptProposal(ctx, p.id);
    assert.equal(added.length, 3);
    assert.equal(listProposals(w.s.paths.stateDir)[0].status, 'accepted');
    await assert.rejects(acceptProposal(ctx, p.id), /already accepted/);
    await w.s.orchestrator.start();
    await within(w.s.orchestrator.whenIdle(), 60_000, 'the planned batch');
    assert.deepEqual(
      Object.values(w.s.orchestrator.snapshot.tickets).map((t) => t.status),
      ['done', 'done', 'done'],
    );
  });
  it('refused proposals are answered with the problems (the planner can fix them)', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, {}, '2');
    const { runPlanner } = loadSrc();
    const ctx = { orchestrator: w.s.orchestrator, launcher: w.s.launcher, paths: w.s.paths, targetBranch: 'main', log: w.log };
    const p = await within(
      runPlanner(
        ctx,
        'Split it\n@propose a | First | developer | | src/a/**\n@propose b | Second | Chief Boss | a |\n@propose c | Third | tester | missing |',
        { agent: 'fake' },
      ),
      20_000,
      'the planner',
    );
    assert.deepEqual(
      p.tickets.map((t) => t.id),
      ['plan1.a'],
    );
    assert.equal(p.refused.length, 2);
    assert.match(p.refused[0]!.problems.join(' '), /role/);
    assert.match(p.refused[1]!.problems.join(' '), /missing/);
    const log = fs.readFileSync(path.join(w.s.paths.stateDir, 'runs', 'plan1-r1', 'agent.log'), 'utf8').toString();
    assert.match(log, /proposed b: refused/);
  });
  it('orchard plan holds no writer lease while the planner works; --accept takes it only to record', async () => {
    const { r, runCli, out, io } = await initCli();
    const stateDir = path.join(r.repo, '.git', 'orchard');
    const go = path.join(r.root, 'planner-may-go');
    // The planner waits for `go`: everything below happens while it works.
    const planning = runCli(['plan', `Build an export button\n@plan\n@wait-for ${go}`, '--agent', 'fake', '--accept'], io);
    await waitFor(() => fs.existsSync(path.join(stateDir, 'runs', 'plan1-r1', 'status.json')), 20_000, 'the planner to start');
    // Another window (or `orchard run`) becomes the writer and works while the planner plans.
    const w = await openWriter(r.repo);
    await w.s.orchestrator.addTickets([spec('W1')]);
    fs.writeFileSync(go, '');
    // The writer still holds the lease when the plan is done: the proposal is kept, not accepted.
    assert.equal(await within(planning, 30_000, 'the plan'), 1);
    assert.match(out.join('\n'), /Proposal plan1 is saved as pending but not accepted: .*\n.*orchard proposal accept plan1/);
    assert.deepEqual(Object.keys(w.s.orchestrator.snapshot.tickets), ['W1']);
    await w.close();
    // With the lease free, --accept records at once; the second plan saw W1 and took the next id.
    await within(runCli(['plan', 'Add an import button\n@plan', '--agent', 'fake', '--accept'], io), 30_000, 'the second plan');
    assert.match(out.join('\n'), /accepted: added 3 tickets \(plan2\.design, plan2\.build, plan2\.test\)/);
    assert.equal(await runCli(['proposal', 'accept', 'plan1'], io), 0);
    out.length = 0;
    await runCli(['status', '--json'], io);
    const ids = (JSON.parse(out.join('\n')) as { tickets: Array<{ id: string }> }).tickets.map((t) => t.id).sort();
    assert.deepEqual(ids, ['W1', 'plan1.build', 'plan1.design', 'plan1.test', 'plan2.build', 'plan2.design', 'plan2.test']);
  });
  it('orchard plan --accept, then orchard run (CLI, headless)', async () => {
    const { runCli, out, io } = await initCli();
    assert.equal(await within(runCli(['plan', 'Build an export button\n@plan', '--agent', 'fake'], io), 20_000, 'plan'), 0);
    assert.match(out.join('\n'), /Proposal plan1 \(pending\) by fake/);
    assert.equal(await runCli(['proposal', 'list'], io), 0);
    assert.match(out.join('\n'), /plan1\s+pending\s+3 tickets/);
    assert.equal(await runCli(['proposal', 'accept', 'plan1'], io), 0);
    assert.equal(await within(runCli(['run', '--quiet'], io), 60_000, 'run'), 0);
    out.length = 0;
    await runCli(['status'], io);
    assert.match(out.join('\n'), /done \(3\)/);
  });
});
