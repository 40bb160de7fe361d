// The completion model and the failure classes, with the fake agent playing an interactive CLI
// in a real pseudo-terminal (tmux, as `orchard run --terminal tmux`): a turn that ends with work
// finishes the run within seconds though the agent never exits; a turn that ends asking in
// words is one question whose answer is typed into the terminal; Stop All never merges an
// agent that exits 0 on SIGTERM; a rate-limited attempt uses no retry.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { OrchardEvent } from '../../src/core/events';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, makeRepo, waitFor, within } from '../helpers/repo';
import { openTestSession, spec } from '../helpers/session';

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const socket = `orchard-unit-${process.pid}`;
before(() => buildDist());
afterEach(() => {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* no server */
  }
});
after(() => cleanupRepos());

type Ev<T extends OrchardEvent['type']> = Extract<OrchardEvent, { type: T }>;
const of = <T extends OrchardEvent['type']>(events: OrchardEvent[], type: T) => events.filter((e): e is Ev<T> => e.type === type);

describe('completion model in a terminal (tmux)', { skip: !hasTmux && 'tmux is not installed (apt-get install tmux)' }, () => {
  const open = (repo: string) => openTestSession(repo, { owner: 'completion test', host: new (loadSrc().TmuxRunnerHost)({ socket }) });

  it('a turn that ends with work finishes the run within seconds, though the agent never exits; the terminal stays', async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([spec('C1', { prompt: '@tui' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('C1').status, 'done', w.o.ticket('C1').reason);
    assert.match(r.git('show', 'main:src/C1.txt'), /C1: ticket C1/);
    const turnEnd = of(w.events, 'run-progress').find((e) => e.progress === 100)!;
    const gating = of(w.events, 'ticket-status').find((e) => e.id === 'C1' && e.to === 'gating')!;
    // From the turn's end, not the run's timeout (how fast is a figure of the conformance suite).
    assert.ok(gating.at - turnEnd.at < 60_000, `the turn's end → gating took ${gating.at - turnEnd.at} ms`);
    assert.equal(of(w.events, 'run-started').length, 1, 'one attempt: no timeout, no retry');
    assert.equal(of(w.events, 'escalation-raised').length, 0);
    // Orchard ended the session (SIGTERM: not exit 0), and the tmux session is still there to read.
    assert.match(execFileSync('tmux', ['-L', socket, 'ls'], { encoding: 'utf8' }), /orchard-C1-1/);
    await w.close();
  });

  it('a turn that ends asking in words is one question; the answer is typed into the terminal and the agent goes on', async () => {
    const r = makeRepo();
    const w = await open(r.repo);
    await w.o.addTickets([spec('C2', { prompt: '@tui-ask Which greeting, hello or hi?\n@tui' })]);
    await w.o.start();
    await waitFor(() => w.o.ticket('C2').status === 'escalated', 20_000, 'the question');
    const [q, ...more] = w.o.openEscalations();
    assert.equal(more.length, 0);
    assert.equal(q!.question, 'Which greeting, hello or hi?');
    await w.o.answer(q!.id, { guidance: 'hello', by: 'human' });
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('C2').status, 'done', w.o.ticket('C2').reason);
    assert.match(r.git('show', 'main:src/C2.txt'), /\(answer: hello\)/);
    assert.equal(of(w.events, 'escalation-raised').length, 1, 'one question, not one per turn');
    await w.close();
  });
});

describe('failure classes', () => {
  it('Stop All: an agent that exits 0 on SIGTERM is not merged, its ticket is ready again, no retry is used', async () => {
    const r = makeRepo();
    const before = r.git('rev-parse', 'main');
    const w = await openTestSession(r.repo, { owner: 'failure classes', launcher: { killGraceMs: 500 } });
    // Works (uncommitted), then waits at its prompt; SIGTERM ends it with exit 0.
    await w.o.addTickets([spec('S', { prompt: '@no-commit\n@exit0-on-term\n@tui' })]);
    await w.o.start();
    await waitFor(() => fs.existsSync(path.join(w.runDir('S-r1'), 'status.json')), 10_000, 'the agent');
    await waitFor(() => fs.existsSync(path.join(`${r.repo}.orchard`, 'worktrees', 'S', 'src', 'S.txt')), 10_000, 'partial work');
    await within(w.o.stopAll('stopped by the user'), 15_000, 'Stop All');
    const ended = of(w.events, 'run-ended').find((e) => e.runId === 'S-r1')!;
    assert.equal(ended.exitCode, 0, 'the agent exited 0');
    assert.match(ended.message ?? '', /^interrupted: stopped by Orchard/);
    assert.equal(w.o.ticket('S').status, 'ready');
    assert.equal(r.git('rev-parse', 'main'), before, 'nothing merged');
    assert.match(r.git('for-each-ref', '--format=%(refname)', 'refs/orchard/wip/S'), /refs\/orchard\/wip\/S\/1/, 'its work is kept');
    await w.close();
  });

  it('Stop All: an agent that says done after it was stopped is not merged; its ticket is ready again', async () => {
    const r = makeRepo();
    const before = r.git('rev-parse', 'main');
    const w = await openTestSession(r.repo, { owner: 'failure classes', launcher: { killGraceMs: 500 } });
    // Commits, then waits at its prompt; SIGTERM makes it say done (as a real CLI whose cut
    // `orchard-agent escalate` lets its script go on to `orchard-agent done`).
    await w.o.addTickets([spec('D', { prompt: '@done-on-term\n@tui' })]);
    await w.o.start();
    await waitFor(() => fs.existsSync(path.join(w.runDir('D-r1'), 'status.json')), 10_000, 'the agent');
    await waitFor(
      () =>
        /report|turn/.test(
          fs.existsSync(path.join(w.runDir('D-r1'), 'progress.jsonl')) ? fs.readFileSync(path.join(w.runDir('D-r1'), 'progress.jsonl'), 'utf8') : '',
        ),
      20_000,
      'its turn end',
    );
    await within(w.o.stopAll('stopped by the user'), 15_000, 'Stop All');
    const progress = fs.readFileSync(path.join(w.runDir('D-r1'), 'progress.jsonl'), 'utf8');
    assert.match(progress, /finished after all/, 'the agent did say done after the stop');
    const ended = of(w.events, 'run-ended').find((e) => e.runId === 'D-r1')!;
    assert.match(ended.message ?? '', /^interrupted: stopped by Orchard/);
    assert.equal(w.o.ticket('D').status, 'ready', w.o.ticket('D').reason);
    assert.equal(r.git('rev-parse', 'main'), before, 'nothing merged');
    await w.close();
  });

  it('a rate-limited attempt uses no retry: with maxRetries 0 the ticket is still merged after the pause', async () => {
    const r = makeRepo();
    const w = await openTestSession(r.repo, { owner: 'failure classes', config: { maxRetries: 0 } });
    await w.o.addTickets([spec('R', { prompt: '@rate-limit-once' })]);
    await w.o.start();
    await within(w.o.whenIdle(), 30_000, 'the batch');
    assert.equal(w.o.ticket('R').status, 'done', w.o.ticket('R').reason);
    assert.match(of(w.events, 'run-ended')[0]!.message ?? '', /^rate limited/);
    await w.close();
  });
});
