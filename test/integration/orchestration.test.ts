// The first slice inside the real extension host: a ticket added through the command runs
// in a real VS Code terminal (Orchard's runner) with its cwd in the ticket's worktree, is
// merged into main, and an agent's question is answered through Answer Escalation.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { git, orchardApi as api, orchardState as state, waitFor, waitForTerminal, workspaceRoot } from './helpers';

describe('orchestration in the extension host', function () {
  this.timeout(240_000);

  it('Add Ticket with arguments adds it; bad input is refused naming the field', async () => {
    const a = await api();
    const id = await vscode.commands.executeCommand<string>('orchard.addTicket', {
      id: 'IT1',
      title: 'Integration ticket',
      prompt: 'Write the file. $(touch PWNED) `touch PWNED` ; touch PWNED',
      files: ['src/it1.txt'],
      agent: 'fake',
      estimate: 5,
    });
    assert.equal(id, 'IT1');
    assert.equal(state(a).tickets.IT1?.title, 'Integration ticket');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('orchard.addTicket', { id: 'IT-bad', title: 'x', priority: 'P9' })), /priority/);
    assert.equal(state(a).tickets['IT-bad'], undefined, 'nothing half-added');
  });

  it('Start runs the agent in a terminal named after the ticket, cwd in its worktree, and merges it', async () => {
    const a = await api();
    const root = workspaceRoot();
    await vscode.commands.executeCommand('orchard.start');
    const terminal = await waitForTerminal('IT1', 20_000);
    assert.match(terminal.name, /^Orchard \S+ IT1: Integration ticket/);
    const cwd = (terminal.creationOptions as vscode.TerminalOptions).cwd;
    const expected = path.join(path.dirname(root), `${path.basename(root)}.orchard`, 'worktrees', 'IT1');
    assert.equal(typeof cwd === 'string' ? cwd : cwd?.fsPath, expected);
    assert.ok(!expected.startsWith(root + path.sep), 'the worktree is outside the workspace folder');
    await waitFor(() => state(a).tickets.IT1?.status === 'done', 'IT1 to be merged', 40_000);
    assert.match(git(root, 'show', 'main:src/it1.txt'), /IT1: Integration ticket/);
    assert.equal(git(root, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
    for (const dir of [root, expected, process.cwd()]) assert.equal(fs.existsSync(path.join(dir, 'PWNED')), false, `no PWNED in ${dir}`);
  });

  it('an agent question waits for Answer Escalation, then the agent resumes with the answer', async () => {
    const a = await api();
    const root = workspaceRoot();
    await vscode.commands.executeCommand('orchard.addTicket', {
      id: 'IT2',
      title: 'Asks first',
      prompt: 'Do it.\n@ask Keep the old API?',
      files: ['src/it2.txt'],
      agent: 'fake',
      estimate: 5,
    });
    await waitFor(() => state(a).tickets.IT2?.status === 'escalated', 'IT2 to ask', 30_000);
    const esc = Object.values(state(a).escalations).find((e) => e.ticketId === 'IT2' && !e.answer)!;
    assert.equal(esc.question, 'Keep the old API?');
    const answered = await vscode.commands.executeCommand<boolean>('orchard.answerEscalation', esc.id, { option: 'no' });
    assert.equal(answered, true);
    await waitFor(() => state(a).tickets.IT2?.status === 'done', 'IT2 to be merged', 40_000);
    assert.match(git(root, 'show', 'main:src/it2.txt'), /answer: no/);
  });
});
