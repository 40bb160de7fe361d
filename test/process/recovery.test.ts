// Recovery after the orchestrator process dies: a real `orchard run` CLI child is killed with
// SIGKILL while two agents run. The next session adopts the runner that still beats and marks
// the dead one interrupted (work kept on a WIP ref, lock released) and retries it.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, DIST, makeRepo, pidAlive, quietLog, recordEvents, waitFor } from '../helpers/repo';
import { seedTickets, spec, type WriterSession } from '../helpers/session';

before(() => buildDist());
after(() => cleanupRepos());

const readJson = (p: string) => JSON.parse(fs.readFileSync(p, 'utf8'));

describe('recovery', { timeout: 600_000 }, () => {
  it('orchestrator killed (SIGKILL): the live runner is adopted, the dead one is interrupted, saved and retried', async () => {
    const r = makeRepo();
    const runs = path.join(r.repo, '.git', 'orchard', 'runs');
    // Tickets in, then the CLI runs them.
    await seedTickets(r.repo, [spec('A', { prompt: '@sleep 5000' }), spec('B', { prompt: '@sleep 5000' })]);
    const cli = spawn(process.execPath, [path.join(DIST, 'cli.js'), 'run', '--agent', 'fake', '--agents', '2', '--quiet'], {
      cwd: r.repo,
      env: { ...process.env, ORCHARD_FAKE_MS_PER_MINUTE: '5' },
      stdio: 'ignore',
    });
    const cliExit = new Promise((res) => cli.on('exit', res));
    await waitFor(() => ['A-r1', 'B-r1'].every((id) => fs.existsSync(path.join(runs, id, 'status.json'))), 20_000, 'both agents running');
    const a = readJson(path.join(runs, 'A-r1', 'status.json'));
    const b = readJson(path.join(runs, 'B-r1', 'status.json'));
    cli.kill('SIGKILL');
    await cliExit;
    assert.ok(pidAlive(a.runnerPid) && pidAlive(b.runnerPid), 'runners outlive the orchestrator');
    // B's runner dies too (the machine lost it); its agent had written something.
    const wtB = path.join(r.root, 'repo.orchard', 'worktrees', 'B');
    fs.writeFileSync(path.join(wtB, 'partial.txt'), 'half of B');
    process.kill(b.runnerPid, 'SIGKILL');
    process.kill(b.agentPid, 'SIGKILL');
    await waitFor(() => !pidAlive(b.runnerPid), 5000, 'B runner gone');

    const log = quietLog();
    const s = (await loadSrc().openSession({
      cwd: r.repo,
      owner: 'second',
      distDir: DIST,
      log,
      agentEnv: { ORCHARD_FAKE_MS_PER_MINUTE: '5' },
      config: { defaultAgent: 'fake', maxAgents: 2 },
      launcher: { pollMs: 50 },
    })) as WriterSession;
    const o = s.orchestrator;
    o.retryScale = 0.0001;
    const events = recordEvents(o);
    try {
      assert.equal(o.snapshot.runs['A-r1']!.endedAt, undefined, 'A is adopted, not ended');
      assert.equal(o.ticket('A').status, 'running');
      const bEnd = o.snapshot.runs['B-r1']!;
      assert.equal(bEnd.outcome, 'crashed');
      assert.match(bEnd.message ?? '', /interrupted.*refs\/orchard\/wip\/B\/1/);
      assert.equal(r.git('show', 'refs/orchard/wip/B/1:partial.txt'), 'half of B');
      assert.ok(!o.snapshot.locks.some((l) => l.runId === 'B-r1'), 'the dead run’s lock is released');
      assert.ok(
        o.snapshot.locks.some((l) => l.runId === 'A-r1'),
        'the adopted run keeps its lock',
      );
      assert.equal(o.ticket('B').status, 'ready');
      assert.ok(log.lines.some((l) => /adopted the running agent again/.test(l)));
      await o.start();
      const endOf = (id: string) =>
        events.find((e) => e.type === 'run-ended' && (e as unknown as { runId: string }).runId === id) as unknown as { outcome: string } | undefined;
      await waitFor(() => !!endOf('A-r1') && !!endOf('B-r2'), 30_000, 'A (adopted) and B (retried) to finish');
      assert.equal(endOf('A-r1')!.outcome, 'succeeded', JSON.stringify(endOf('A-r1')) + fs.readFileSync(path.join(runs, 'A-r1', 'agent.log'), 'utf8'));
      assert.equal(endOf('B-r2')!.outcome, 'succeeded');
      assert.ok(r.git('show', '--name-only', '--format=', 'orchard/B').length > 0);
      // The retry started again from where attempt 1 began: its half-done file is not built on,
      // and it is still kept on the WIP ref.
      assert.throws(
        () => r.git('show', 'orchard/B:partial.txt'),
        `the retry did not build on the interrupted attempt\n${log.lines.join('\n')}\n${JSON.stringify(o.snapshot.runs['B-r1'])}`,
      );
      assert.equal(r.git('show', 'refs/orchard/wip/B/1:partial.txt'), 'half of B');
      assert.match(o.snapshot.runs['B-r2']!.message ?? '', /./);
      assert.ok(
        events.some(
          (e) =>
            e.type === 'run-progress' &&
            /starts again from where attempt 1 began; its work is kept on refs\/orchard\/wip\/B\/1/.test(String((e as { message?: string }).message)),
        ),
      );
    } finally {
      await o.stopAll('test over').catch(() => undefined);
      await s.close();
    }
  });

  it('orchestrator killed while gates ran: the next session runs the gates again, the agent does not redo its work', async () => {
    const r = makeRepo();
    const stateDir = path.join(r.repo, '.git', 'orchard');
    const marker = path.join(r.root, 'gate-runs.txt');
    // A gate that notes each run, then takes its time (the kill lands while it runs).
    const gate = {
      name: 'slow-check',
      kind: 'command' as const,
      argv: [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(marker)}, 'x'); setTimeout(() => {}, 1500)`],
    };
    await seedTickets(r.repo, [spec('G', { prompt: 'do G' })], { gates: [gate] });
    fs.writeFileSync(path.join(stateDir, 'config.json'), JSON.stringify({ defaultAgent: 'fake', gates: [gate], maxAgents: 1 }));
    const cli = spawn(process.execPath, [path.join(DIST, 'cli.js'), 'run', '--quiet'], {
      cwd: r.repo,
      env: { ...process.env, ORCHARD_FAKE_MS_PER_MINUTE: '5' },
      stdio: 'ignore',
    });
    const cliExit = new Promise((res) => cli.on('exit', res));
    const events = path.join(stateDir, 'events.jsonl');
    // The gate's own mark, not only its event: on a loaded machine the kill could land between
    // the event and the gate process's start, and the gate would then have run once, not twice.
    await waitFor(
      () => fs.existsSync(events) && fs.readFileSync(events, 'utf8').includes('"gate-started"') && fs.existsSync(marker),
      30_000,
      'the gate to start',
    );
    cli.kill('SIGKILL');
    await cliExit;
    const s = (await loadSrc().openSession({
      cwd: r.repo,
      owner: 'second',
      distDir: DIST,
      log: quietLog(),
      agentEnv: { ORCHARD_FAKE_MS_PER_MINUTE: '5' },
      config: { defaultAgent: 'fake', gates: [gate], maxAgents: 1 },
      launcher: { pollMs: 50 },
    })) as WriterSession;
    const o = s.orchestrator;
    try {
      await o.start();
      await waitFor(() => o.ticket('G').status === 'done', 30_000, 'G merged');
      assert.deepEqual(
        Object.keys(o.snapshot.runs).filter((id) => id.startsWith('G-')),
        ['G-r1'],
        'one agent run: the gates were run again, not the agent',
      );
      assert.equal(fs.readFileSync(marker, 'utf8'), 'xx', 'the gate ran twice (cut short, then again)');
    } finally {
      await o.stopAll('test over').catch(() => undefined);
      await s.close();
    }
  });
});
