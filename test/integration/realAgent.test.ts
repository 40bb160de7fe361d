// A real agent CLI in VS Code's own terminal (the launcher passes ORCHARD_TEST_AGENT when a
// pinned CLI is installed, with a scripted model server for it): Start, and the ticket goes
// running → escalated → running → gating → merged with no keystroke but the answer. The
// agent's first turn asks in words; the answer is typed into its terminal; its next turn
// commits; its CLI's end-of-turn signal ends the session.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { git, orchardApi as api, orchardState as state, waitFor, waitForTerminal, workspaceRoot } from './helpers';

const cli = process.env.ORCHARD_TEST_AGENT;

describe(`a real agent CLI in VS Code's terminal (${cli ?? 'none installed'})`, function () {
  this.timeout(240_000);

  it('Start: the question in words comes to you once, the answer is typed in, the end is found, the work is merged', async function () {
    if (!cli) return this.skip();
    const a = await api();
    const root = workspaceRoot();
    await vscode.commands.executeCommand('orchard.addTicket', {
      id: 'RA1',
      title: 'Greeting from a real agent',
      prompt: 'Write greeting.txt. [script VS-1]',
      agent: cli,
      estimate: 5,
    });
    await vscode.commands.executeCommand('orchard.start');
    const terminal = await waitForTerminal('RA1', 30_000);
    await waitFor(() => state(a).tickets.RA1?.status === 'escalated', 'RA1 to ask in words', 120_000);
    const asked = Object.values(state(a).escalations).filter((e) => e.ticketId === 'RA1');
    assert.equal(asked.length, 1, 'one question');
    assert.match(asked[0]!.question, /Which greeting/);
    await vscode.commands.executeCommand('orchard.answerEscalation', asked[0]!.id, { guidance: 'hello' });
    await waitFor(() => state(a).tickets.RA1?.status === 'done', 'RA1 to be merged', 120_000);
    assert.equal(git(root, 'show', 'main:greeting.txt'), 'hello');
    assert.match(git(root, 'log', '--format=%s', 'main'), /VS-1: greeting/);
    const runs = Object.values(state(a).runs).filter((r) => r.ticketId === 'RA1');
    assert.equal(runs.length, 1, 'one attempt: nothing timed out or failed');
    assert.notEqual(runs[0]!.outcome, 'timeout');
    assert.ok(vscode.window.terminals.includes(terminal), 'the terminal stays, readable');
    // Left in view for the launcher's closing screenshot (test-results/integration.png).
    terminal.show();
    assert.equal(Object.values(state(a).escalations).filter((e) => e.ticketId === 'RA1').length, 1, 'still one question');
  });
});
