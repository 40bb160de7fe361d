// The VS Code experience in the real extension host: activation time, every command
// registered (package.json and code agree) and runnable through its argument form, the
// views following core events, the pre-flight choice, an escalation answered through the
// QuickPick prompt reaching the waiting fake agent, and the agent terminal's cwd and env.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS, activatedExtension, closeAllEditors, git, orchardApi as api, orchardState as state, waitFor, workspaceRoot } from './helpers';

const label = (item: vscode.TreeItem): string => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));

/** Runs a command with arguments; resolves to its result or to the error it threw. */
async function attempt(id: string, ...args: unknown[]): Promise<{ ok: boolean; value?: unknown; error?: string }> {
  try {
    return { ok: true, value: await vscode.commands.executeCommand(id, ...args) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Earlier tests' agents may still be finishing: wait until no run holds a slot. */
async function agentsIdle(a: { controller: { state(): { runs: Record<string, { endedAt?: number }> } | undefined } }): Promise<void> {
  await waitFor(() => Object.values(a.controller.state()?.runs ?? {}).every((r) => r.endedAt !== undefined), 'every earlier run to end', 60_000);
}

describe('the VS Code experience', function () {
  this.timeout(240_000);
  let wasActive = false;
  before(async () => {
    wasActive = (await api()).controller.isActive();
  });
  // Leave the session as the suite found it for the suites after this one: the board's
  // tickets cancelled, the batch running again if it was.
  after(async () => {
    const a = await api();
    const s = await a.controller.writer();
    for (const t of Object.values(s.orchestrator.snapshot.tickets)) {
      if (/^(B\d+|UIMP1|UI2|PF2|PF3|PF4)$/.test(t.id) && !['done', 'cancelled', 'failed'].includes(t.status))
        await s.orchestrator.cancel(t.id, 'end of the UI suite');
    }
    if (wasActive) await vscode.commands.executeCommand('orchard.resume');
  });

  it('activate() reports how long it took (the 50 ms target is a measured figure, not a timed assertion)', async () => {
    const a = await api();
    // Into the suite's live log, which the launcher prints. Timings are figures, never pass/fail
    // (a loaded 2-core machine would make them flaky).
    fs.appendFileSync(
      path.join(process.env.ORCHARD_TEST_RESULTS_DIR || path.join(__dirname, 'results'), 'integration.log'),
      `# activate() took ${a.activationMs.toFixed(2)} ms\n`,
    );
    assert.ok(Number.isFinite(a.activationMs) && a.activationMs > 0, `activate() time not measured: ${a.activationMs}`);
  });

  it('package.json contributes every command the extension registers, each in category Orchard', async () => {
    const ext = await activatedExtension();
    const contributed = (ext.packageJSON.contributes.commands as { command: string; category: string }[]).filter((c) => c.command.startsWith('orchard.'));
    const ids = new Set(contributed.map((c) => c.command));
    assert.deepEqual(
      COMMANDS.filter((c) => !ids.has(c)),
      [],
      'registered but not contributed',
    );
    for (const c of contributed) assert.equal(c.category, 'Orchard', c.command);
    const all = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      [...ids].filter((c) => !all.has(c)),
      [],
      'contributed but not registered',
    );
    for (const v of ['orchard.tickets', 'orchard.agents', 'orchard.locks', 'orchard.escalations', 'orchard.mergeQueue']) {
      await vscode.commands.executeCommand(`${v}.focus`);
    }
  });

  it('the Get Started walkthrough opens', async () => {
    await activatedExtension();
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', 'orchard-dev.orchard#gettingStarted', false);
    const tab = await waitFor(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /welcome|walkthrough|get started/i.test(t.label)),
      'the walkthrough tab',
    );
    assert.ok(tab);
    await closeAllEditors();
  });

  it('the views follow core events: a ticket appears, moves group, its edit shows, and repaints are coalesced', async () => {
    const a = await api();
    await vscode.commands.executeCommand('orchard.pause');
    const before = a.views.tickets.repaints;
    await vscode.commands.executeCommand('orchard.addTicket', {
      id: 'UI1',
      title: 'Tree ticket',
      priority: 'P0',
      files: ['ui/one.txt'],
      agent: 'fake',
      estimate: 5,
    });
    const find = () => {
      for (const g of a.views.tickets.getChildren()) {
        for (const n of a.views.tickets.getChildren(g)) if (n.kind === 'ticket' && n.id === 'UI1') return { group: g, item: a.views.tickets.getTreeItem(n) };
      }
      return undefined;
    };
    const first = await waitFor(find, 'UI1 in the Tickets tree');
    assert.equal(label(first.item), 'UI1  Tree ticket');
    assert.match(String(first.item.description), /^P0/);
    assert.equal((first.item.iconPath as vscode.ThemeIcon).id, 'flame', 'P0 shows the flame icon');
    await waitFor(() => a.views.tickets.repaints > before, 'a repaint after the event');
    // A burst of edits is one or two repaints, not one per event.
    const burst = a.views.tickets.repaints;
    for (let i = 0; i < 20; i++) await vscode.commands.executeCommand('orchard.editTicket', 'UI1', { title: `Tree ticket v${i}` });
    await waitFor(() => label(find()!.item) === 'UI1  Tree ticket v19', 'the last edit in the tree');
    await new Promise((r) => setTimeout(r, 600)); // any repaint still coming would be counted below
    assert.ok(a.views.tickets.repaints - burst <= 3, `20 edits made ${a.views.tickets.repaints - burst} repaints`);
    // A dependency and its blocking reason.
    await vscode.commands.executeCommand('orchard.addTicket', {
      id: 'UI2',
      title: 'After UI1',
      dependsOn: ['UI1'],
      files: ['ui/two.txt'],
      agent: 'fake',
      estimate: 5,
    });
    const ui2 = await waitFor(() => {
      for (const g of a.views.tickets.getChildren()) for (const n of a.views.tickets.getChildren(g)) if (n.kind === 'ticket' && n.id === 'UI2') return n;
      return undefined;
    }, 'UI2');
    assert.match(String(a.views.tickets.getTreeItem(ui2).description), /after UI1/);
    const kids = a.views.tickets.getChildren(ui2);
    assert.deepEqual(
      kids.map((k) => k.kind),
      ['dependency'],
    );
    // Start UI1 alone (outside the batch): it moves to Running, an agent slot works on it.
    const started = await vscode.commands.executeCommand<string[]>('orchard.startTicket', 'UI1');
    assert.deepEqual(started, ['UI1']);
    await waitFor(() => find()?.group.kind === 'group' && (find()!.group as { status: string }).status === 'running', 'UI1 in the Running group');
    const agents = a.views.agents.getChildren().map((n) => a.views.agents.getTreeItem(n));
    assert.ok(
      agents.some((i) => /UI1/.test(String(i.description)) && /working/.test(String(i.description))),
      JSON.stringify(agents.map((i) => i.description)),
    );
    const locks = a.views.locks.getChildren().map((n) => a.views.locks.getTreeItem(n));
    assert.ok(
      locks.some((i) => label(i) === 'ui/one.txt' && /UI1 · agent \d+ · .* left/.test(String(i.description))),
      JSON.stringify(locks.map((i) => [i.label, i.description])),
    );
    await waitFor(() => state(a).tickets.UI1?.status === 'done', 'UI1 merged', 40_000);
    assert.equal(a.views.locks.getChildren().filter((n) => n.runId.startsWith('UI1')).length, 0, 'the lock went with the merge');
  });

  it('pre-flight: starting overlapping tickets with "run in sequence" orders them', async () => {
    const a = await api();
    await vscode.commands.executeCommand('orchard.pause');
    await vscode.commands.executeCommand('orchard.addTicket', { id: 'PF1', title: 'Overlap one', files: ['shared/**'], agent: 'fake', estimate: 2 });
    await vscode.commands.executeCommand('orchard.addTicket', { id: 'PF2', title: 'Overlap two', files: ['shared/x.txt'], agent: 'fake', estimate: 2 });
    const started = await vscode.commands.executeCommand<string[]>('orchard.startTicket', 'PF1', ['PF1', 'PF2'], { overlap: 'sequence' });
    assert.deepEqual(started, ['PF1']);
    assert.deepEqual(state(a).tickets.PF2?.dependsOn, ['PF1']);
    await waitFor(() => state(a).tickets.PF1?.status === 'done', 'PF1 merged', 40_000);
    // Cancel at pre-flight starts nothing.
    await vscode.commands.executeCommand('orchard.addTicket', { id: 'PF3', title: 'Overlap three', files: ['shared/y.txt'], agent: 'fake', estimate: 2 });
    await vscode.commands.executeCommand('orchard.addTicket', { id: 'PF4', title: 'Overlap four', files: ['shared/**'], agent: 'fake', estimate: 2 });
    assert.deepEqual(await vscode.commands.executeCommand('orchard.startTicket', 'PF3', ['PF3', 'PF4'], { overlap: 'cancel' }), []);
    assert.equal(state(a).tickets.PF3?.status === 'running', false);
  });

  it('an escalation answered through the QuickPick prompt reaches the waiting agent, which resumes', async () => {
    const a = await api();
    const root = workspaceRoot();
    await vscode.commands.executeCommand('orchard.addTicket', {
      id: 'UQ1',
      title: 'Asks through the prompt',
      prompt: 'Do it.\n@ask Use tabs?',
      files: ['ui/uq1.txt'],
      agent: 'fake',
      estimate: 2,
    });
    await vscode.commands.executeCommand('orchard.startTicket', 'UQ1');
    await waitFor(() => state(a).tickets.UQ1?.status === 'escalated', 'UQ1 to ask', 30_000);
    // The views count it: the waits badge (Tickets view), the status-bar item, agent waiting for input.
    await waitFor(() => a.views.ticketsView.badge?.value === a.controller.openEscalations().length && a.controller.openEscalations().length > 0, 'the badge');
    const esc = a.controller.openEscalations().find((e) => e.ticketId === 'UQ1')!;
    assert.ok(a.views.escalations.getChildren().some((n) => n.id === esc.id));
    await waitFor(() => /\$\(bell-dot\) Orchard: \d+ waiting for you/.test(a.waits.item.text), `the status bar to count it (${a.waits.item.text})`);
    const agent = a.views.agents
      .getChildren()
      .map((n) => a.views.agents.getTreeItem(n))
      .find((i) => /UQ1/.test(String(i.description)));
    assert.match(String(agent?.description), /waiting for input/);
    // The prompt: the agent's options ("yes", "no") plus "Write guidance…"; the first is accepted.
    const answered = vscode.commands.executeCommand<boolean>('orchard.answerEscalation', esc.id);
    let settled = false;
    void Promise.resolve(answered).finally(() => (settled = true));
    const deadline = Date.now() + 60_000; // generous: a loaded host opens the prompt late
    while (!settled && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    assert.equal(await answered, true);
    assert.equal(state(a).escalations[esc.id]?.answer?.option, 'yes');
    await waitFor(() => state(a).tickets.UQ1?.status === 'done', 'UQ1 merged after the answer', 40_000);
    assert.match(git(root, 'show', 'main:ui/uq1.txt'), /answer: yes/);
    await waitFor(() => (a.views.ticketsView.badge?.value ?? 0) === a.controller.openEscalations().length, 'the badge to follow the answer');
  });

  it('every command runs through its argument form', async function () {
    const a = await api();
    const root = workspaceRoot();
    await vscode.commands.executeCommand('orchard.pause');
    await vscode.commands.executeCommand('orchard.addTicket', { id: 'UC1', title: 'Long worker', prompt: '@hang', files: ['ui/uc1.txt'], agent: 'fake' });
    await vscode.commands.executeCommand('orchard.startTicket', 'UC1');
    await waitFor(() => state(a).runs['UC1-r1']?.worktree && a.terminals.terminalFor('UC1'), 'UC1 running in its terminal', 20_000);
    const results: Record<string, { ok: boolean; value?: unknown; error?: string }> = {};
    const run = async (id: string, ...args: unknown[]) => (results[id] = await attempt(id, ...args));

    // The agent terminal: named after the ticket, cwd in its worktree, the runner as its process.
    const term = a.terminals.terminalFor('UC1')!;
    const topts = term.creationOptions as vscode.TerminalOptions;
    assert.match(term.name, /^Orchard \S+ UC1: Long worker/);
    const cwd = typeof topts.cwd === 'string' ? topts.cwd : topts.cwd?.fsPath;
    assert.equal(cwd, state(a).runs['UC1-r1']!.worktree);
    assert.equal(topts.env?.ELECTRON_RUN_AS_NODE, '1');
    assert.ok(topts.shellPath && !/(ba|z)?sh$/.test(topts.shellPath), `the terminal's process is Orchard's runner, not a shell: ${topts.shellPath}`);
    assert.ok(
      [topts.shellArgs ?? []].flat().some((x) => /runner\.js$/.test(x)),
      JSON.stringify(topts.shellArgs),
    );
    assert.equal((await run('orchard.openTerminal', 'UC1')).value, true);
    // Earlier agents' terminals stay open (readable) after their runs: the switch is an event away.
    await waitFor(() => vscode.window.activeTerminal === term, "UC1's terminal to become the active one", 5_000);
    assert.equal((await run('orchard.openWorktree', 'UC1', { open: false })).value, state(a).runs['UC1-r1']!.worktree);
    assert.equal((await run('orchard.releaseLock', 'ui/uc1.txt', { confirmed: true })).value, 1);
    assert.equal(
      state(a).locks.some((l) => l.pattern === 'ui/uc1.txt'),
      false,
    );
    assert.equal((await run('orchard.cancelTicket', 'UC1', { confirmed: true })).value, true);
    await waitFor(() => state(a).runs['UC1-r1']?.endedAt, 'UC1 stopped');
    assert.equal((await run('orchard.retryTicket', 'UC1')).value, true);
    assert.match(state(a).tickets.UC1!.status, /^(backlog|ready)$/);
    assert.equal((await run('orchard.editTicket', 'UC1', { priority: 'P3', prompt: 'short' })).value, true);
    assert.equal(state(a).tickets.UC1?.priority, 'P3');
    assert.equal((await run('orchard.cancelTicket', 'UC1', { confirmed: true })).value, true);

    const diff = await run('orchard.showDiff', 'UI1');
    assert.ok(diff.ok && (diff.value as number) >= 1, JSON.stringify(diff));
    await waitFor(() => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => /UI1/.test(t.label)), 'the diff tab');
    await closeAllEditors();

    const report = await run('orchard.generateReport', { open: false });
    assert.match(String(report.value), /UI1/);
    assert.ok((await run('orchard.showLog')).ok);
    assert.ok((await run('orchard.showDashboard')).ok);
    await closeAllEditors();
    assert.ok((await run('orchard.refresh')).ok);
    assert.ok((await run('orchard.resume')).ok);
    assert.equal(a.controller.isActive(), true);
    assert.ok((await run('orchard.pause')).ok);
    assert.equal(a.controller.isActive(), false);
    assert.equal((await run('orchard.start', { overlap: 'continue' })).value, true);
    assert.equal((await run('orchard.stopAll', { confirmed: true })).value, true);
    assert.equal((await run('orchard.answerEscalation', 'no-such-escalation', { option: 'x' })).ok, false);
    const imported = path.join(root, '..', 'ui-import.json');
    fs.writeFileSync(imported, JSON.stringify({ tickets: [{ id: 'UIMP1', title: 'Imported from the test', files: ['ui/imp.txt'], agent: 'fake' }] }));
    assert.equal((await run('orchard.importTickets', vscode.Uri.file(imported))).value, 1);
    // Merge-queue commands: with nothing to merge they refuse with a reason (never hang).
    for (const id of [
      'orchard.mergeNow',
      'orchard.continueMerge',
      'orchard.openConflicts',
      'orchard.sendBack',
      'orchard.keepForLater',
      'orchard.stashAndUpdate',
    ]) {
      const r = await run(id, 'UIMP1');
      assert.ok(r.ok || /UIMP1|not available|no conflict|cannot|only/i.test(r.error ?? ''), `${id}: ${JSON.stringify(r)}`);
    }
    const d = await run('orchard.discard', 'UIMP1', { confirmed: false });
    assert.equal(d.value, false, 'discard without confirmation does nothing');
    // A worktree whose branch has work nobody merged: the worktree goes, the branch stays.
    const orphan = path.join(root, '..', 'orphan-wt');
    git(root, 'worktree', 'add', '-q', '-b', 'orchard/ZZ9', orphan, 'main');
    fs.writeFileSync(path.join(orphan, 'zz.txt'), 'unmerged\n');
    git(orphan, 'add', 'zz.txt');
    git(orphan, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'unmerged work');
    const cleaned = await run('orchard.cleanUpWorktrees', { all: true });
    assert.ok(cleaned.ok && (cleaned.value as number) >= 1, JSON.stringify(cleaned));
    assert.equal(fs.existsSync(state(a).runs['UI1-r1']!.worktree), false, "the merged ticket's worktree is gone");
    assert.equal(fs.existsSync(orphan), false);
    assert.notEqual(git(root, 'branch', '--list', 'orchard/ZZ9'), '', 'the unmerged branch is kept');
    const missing = COMMANDS.filter((c) => !(c in results) && !['orchard.addTicket', 'orchard.startTicket'].includes(c));
    assert.deepEqual(missing, [], 'every command was run');
  });

  it('a merge conflict comes as a question whose options are the ways out; the Merge Queue shows it; keep, open the files, discard', async () => {
    const a = await api();
    await agentsIdle(a);
    const root = workspaceRoot();
    await vscode.commands.executeCommand('orchard.addTicket', {
      id: 'MC1',
      title: 'Conflicting change',
      prompt: '@sleep 2500',
      files: ['ui/conflict.txt'],
      agent: 'fake',
    });
    await vscode.commands.executeCommand('orchard.startTicket', 'MC1');
    // Meanwhile the same file changes on main in the user's checkout.
    fs.mkdirSync(path.join(root, 'ui'), { recursive: true });
    fs.writeFileSync(path.join(root, 'ui', 'conflict.txt'), 'changed on main\n');
    git(root, 'add', 'ui/conflict.txt');
    git(root, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'main changes the same file');
    const q = await waitFor(() => a.controller.openEscalations().find((e) => e.ticketId === 'MC1' && !e.askedBy), 'the conflict question', 40_000);
    assert.deepEqual(q.options.slice(0, 4), ['Open the conflicted files', 'Send back to the agent', 'Keep the branch for later', 'Discard']);
    const inQueue = () => a.views.mergeQueue.getChildren().find((n) => n.id === 'MC1');
    assert.equal((await waitFor(inQueue, 'MC1 in the Merge Queue view')).state, 'conflict');
    assert.match(String(a.views.mergeQueue.getTreeItem(inQueue()!).contextValue), /merge-conflict/);
    // "Keep the branch for later" through Answer Escalation takes that way out.
    assert.equal(await vscode.commands.executeCommand('orchard.answerEscalation', q.id, { option: 'Keep the branch for later' }), true);
    await waitFor(() => inQueue()?.state === 'kept', 'MC1 kept for later');
    assert.equal(
      a.controller.openEscalations().some((e) => e.id === q.id),
      false,
      'the question is closed',
    );
    // Open the conflicted files: they open in editors (in the integration worktree).
    const opened = await attempt('orchard.openConflicts', 'MC1');
    assert.ok(opened.ok ? (opened.value as number) >= 1 : /conflict/i.test(opened.error ?? ''), JSON.stringify(opened));
    await closeAllEditors();
    assert.equal(await vscode.commands.executeCommand('orchard.discard', 'MC1', { confirmed: true }), true);
    await waitFor(() => !inQueue(), 'MC1 out of the queue');
    assert.notEqual(git(root, 'show', 'main:ui/conflict.txt'), '', 'main keeps its own change');
    assert.equal(git(root, 'show', 'main:ui/conflict.txt'), 'changed on main');
  });

  it('a 500-ticket board: one full render of the Tickets tree stays well under a frame budget per repaint', async () => {
    const a = await api();
    await agentsIdle(a);
    await vscode.commands.executeCommand('orchard.pause');
    const s = await a.controller.writer();
    const specs = Array.from({ length: 500 }, (_, i) => ({
      id: `B${i + 1}`,
      title: `Board ticket ${i + 1}`,
      prompt: 'x',
      priority: (['P0', 'P1', 'P2', 'P3'] as const)[i % 4],
      dependsOn: i >= 10 ? [`B${i - 9}`] : [],
      files: [`board/${i % 50}/**`],
      labels: [],
      estimate: 5,
    }));
    const before = a.views.tickets.repaints;
    const t0 = performance.now();
    await s.orchestrator.addTickets(specs);
    const addMs = performance.now() - t0;
    const render = () => {
      const r0 = performance.now();
      let items = 0;
      for (const g of a.views.tickets.getChildren()) {
        a.views.tickets.getTreeItem(g);
        for (const n of a.views.tickets.getChildren(g)) {
          a.views.tickets.getTreeItem(n);
          items++;
        }
      }
      return { ms: performance.now() - r0, items };
    };
    render();
    const runs = [render(), render(), render()];
    const ms = Math.min(...runs.map((r) => r.ms));
    await new Promise((r) => setTimeout(r, 500));
    fs.appendFileSync(
      path.join(process.env.ORCHARD_TEST_RESULTS_DIR || path.join(__dirname, 'results'), 'integration.log'),
      `# 500-ticket board: addTickets ${addMs.toFixed(1)} ms, full tree render ${ms.toFixed(1)} ms for ${runs[0]!.items} items, ${a.views.tickets.repaints - before} repaint(s)\n`,
    );
    assert.ok(runs[0]!.items >= 500);
    // One event batch is one repaint, not 500. A loaded host may still paint the pause before it, and
    // the new prediction (the ETA column) after it: a few, never one per ticket.
    assert.ok(a.views.tickets.repaints - before <= 4, `500 tickets in one batch made ${a.views.tickets.repaints - before} repaints`);
  });
});
