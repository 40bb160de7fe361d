// Crashes: the headless orchestrator (`node dist/cli.js run`) on a ticket graph with fake
// agents, killed with SIGKILL at seeded random moments and restarted until the batch is done.
// Afterwards every ticket is done, none merged twice, main's tree equals an undisturbed run's,
// no orphaned worktree or lock, no agent left running, and the snapshot equals the replay of
// the event log. Fast settings in `npm test`; `npm run test:soak` sets ORCHARD_SOAK_KILLS=50
// and ORCHARD_SOAK_TICKETS=30.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDist, cleanupRepos, makeRepo, pidAlive, sleep, type TempRepo } from '../helpers/repo';
import {
  cli,
  cliSync,
  count,
  invariantProblems,
  killGroup,
  lineCount,
  livePids,
  printFigures,
  readEvents,
  readSnapshot,
  rng,
  SETTINGS,
  stateDir,
  ticketGraph,
  ticketLines,
  writeTickets,
} from './helpers';

before(() => buildDist());
after(() => cleanupRepos());

const SCENARIO = 'crash (SIGKILL of orchard run)';

function setUp(n: number, graphSeed: number): { r: TempRepo; file: string } {
  const r = makeRepo('orchard-crash-');
  const file = path.join(r.root, 'tickets.json');
  writeTickets(file, ticketGraph(n, graphSeed));
  const init = cliSync(r.repo, ['init', '--agent', 'fake', '--agents', '3']);
  assert.equal(init.code, 0, init.err);
  const imp = cliSync(r.repo, ['import', file]);
  assert.equal(imp.code, 0, imp.err + imp.out);
  return { r, file };
}

function doneCount(repo: string): number {
  try {
    return Object.values(readSnapshot(repo).tickets).filter((t) => t.status === 'done').length;
  } catch {
    return -1;
  }
}

/**
 * Tickets missing on main at the end, or doubled: an interrupted attempt starts again from
 * where it began (orchard.afterInterruption: restart), so even the append-only fake agent
 * writes its line exactly once.
 */
function lostTickets(r: TempRepo, n: number): string[] {
  const { lost, redone } = ticketLines(r.git, n);
  return [...lost, ...redone.map((id) => `${id} (its line more than once on main)`)];
}

describe('crash: SIGKILL the orchestrator at random moments, restart, nothing lost', { timeout: 60 * 60_000 }, () => {
  const n = SETTINGS.tickets;
  const graphSeed = 7;
  let referenceTree = '';

  it(`an undisturbed run of the ${n}-ticket graph (the reference)`, { timeout: 600_000 }, async () => {
    // The graph and the fake agent are the same for every kill seed: test:soak:seeds runs the
    // reference once and hands its tree to the later seeds.
    const known = process.env.ORCHARD_SOAK_REFERENCE_TREE;
    if (known && /^[0-9a-f]{40}$/.test(known)) {
      referenceTree = known;
      return;
    }
    const { r } = setUp(n, graphSeed);
    const run = cliSync(r.repo, ['run', '--quiet']);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.equal(doneCount(r.repo), n);
    referenceTree = r.git('rev-parse', 'main^{tree}');
    assert.deepEqual(invariantProblems(r.repo, r.git), []);
    assert.deepEqual(lostTickets(r, n), []);
    console.log(`[reliability] reference tree ${referenceTree} (${n} tickets, graph seed ${graphSeed})`);
  });

  it(`${SETTINGS.kills} seeded SIGKILLs (seed ${SETTINGS.seed}): every ticket done once, same tree as the reference`, { timeout: 60 * 60_000 }, async () => {
    assert.ok(referenceTree, 'the reference run must pass first');
    const rand = rng(SETTINGS.seed);
    let kills = 0;
    let rounds = 0;
    const t0 = Date.now();
    while (kills < SETTINGS.kills) {
      rounds++;
      const { r } = setUp(n, graphSeed);
      const events = path.join(stateDir(r.repo), 'events.jsonl');
      const roundKills: string[] = [];
      let finished = false;
      let starts = 0;
      // Kill until the batch is over or the budget of kills is spent; then let it finish.
      while (!finished) {
        starts++;
        assert.ok(starts < SETTINGS.kills * 3 + 20, `round ${rounds}: too many restarts without finishing`);
        const base = lineCount(events);
        const { child, done } = cli(r.repo, ['run', '--quiet']);
        let exited = false;
        void done.then(() => (exited = true));
        if (kills >= SETTINGS.kills) {
          const res = await done;
          assert.equal(res.code, 0, `final run after ${roundKills.join(', ')}:\n${res.out}\n${res.err}`);
          finished = true;
          break;
        }
        // a seeded moment: after k more events (k from 0: during start-up), plus a little time
        const k = rand.int(0, 14);
        const extraMs = rand.int(0, 250);
        const group = rand.next() < 0.25; // sometimes the whole process group (runner + agents) dies too
        while (!exited && lineCount(events) < base + k) await sleep(10);
        if (!exited) await sleep(extraMs);
        if (exited) {
          const res = await done;
          if (res.code === 0) {
            finished = true;
            break;
          }
          assert.fail(`orchard run exited ${res.code} without being killed:\n${res.out}\n${res.err}`);
        }
        if (group) killGroup(child);
        else child.kill('SIGKILL');
        const res = await done;
        assert.equal(res.signal, 'SIGKILL');
        kills++;
        roundKills.push(`${group ? 'group' : 'pid'}@+${k}ev+${extraMs}ms`);
      }
      // Let orphaned runners from pid-only kills end (they were adopted and waited for by the final run).
      const state = readSnapshot(r.repo);
      const problems = invariantProblems(r.repo, r.git);
      const notDone = Object.values(state.tickets)
        .filter((t) => t.status !== 'done')
        .map((t) => `${t.id}:${t.status}`);
      const lost = lostTickets(r, n);
      // main's tree is exactly the undisturbed run's
      const tree = r.git('rev-parse', 'main^{tree}');
      const alive = livePids(state);
      for (let i = 0; i < roundKills.length; i++) count(SCENARIO, problems.length === 0 && notDone.length === 0 && tree === referenceTree);
      figuresLost += lost.length;
      const msg = `round ${rounds} (kills ${roundKills.join(', ')}):\n  problems ${problems.join('; ')}\n  not done ${notDone.join(', ')}\n  lost ${lost.join(', ')}\n  live pids ${alive.join(', ')}`;
      assert.deepEqual(problems, [], msg);
      assert.deepEqual(notDone, [], msg);
      assert.deepEqual(lost, [], msg);
      assert.equal(tree, referenceTree, `main's tree differs from the undisturbed run's\n${msg}`);
      // the writer lease is released by the last, clean exit
      assert.equal(fs.existsSync(path.join(stateDir(r.repo), 'writer.lock')), false, 'writer.lock left behind');
      // no agent process left over
      await waitAlive(alive);
      assert.deepEqual(livePids(state), [], `agents still running: ${msg}`);
      // each ticket merged exactly once
      const merged = readEvents(r.repo).filter((e) => e.type === 'ticket-merged');
      assert.equal(merged.length, n);
    }
    const f = { lost: figuresLost };
    printFigures(
      SCENARIO,
      `${rounds} round(s) of ${n} tickets, seed ${SETTINGS.seed}, ${((Date.now() - t0) / 1000).toFixed(1)} s, lost or doubled tickets ${f.lost}`,
    );
  });
});

let figuresLost = 0;

async function waitAlive(pids: number[]): Promise<void> {
  const end = Date.now() + 10_000;
  while (pids.some(pidAlive) && Date.now() < end) await sleep(100);
}
