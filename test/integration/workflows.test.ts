// "Plan with Agent" and "Add Workflow" in a real extension host, with the scripted planner
// (the fake agent's @plan) and arguments instead of prompts.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activatedExtension, waitFor } from './helpers';

interface Api {
  controller: {
    applySettings(o: Record<string, unknown>): void;
    defaultAgent(): string | undefined;
    writer(): Promise<{ orchestrator: { start(): Promise<void> } }>;
    state(): { tickets: Record<string, { status: string; role?: string; priority: string }> } | undefined;
  };
}

describe('workflows and the planner', () => {
  it('registers Plan with Agent and Add Workflow', async () => {
    await activatedExtension();
    const all = new Set(await vscode.commands.getCommands(true));
    assert.ok(all.has('orchard.planWithAgent') && all.has('orchard.addWorkflow'));
  });

  it('Plan with Agent: scripted planner → proposal accepted → started → merged', async function () {
    this.timeout(240_000);
    const api = (await activatedExtension()).exports as Api;
    const added = await vscode.commands.executeCommand<Array<{ id: string; role?: string }>>(
      'orchard.planWithAgent',
      'Add a changelog page\n@plan',
      'fake',
      true,
    );
    assert.ok(added, 'the command returned the added tickets');
    assert.deepEqual(
      added.map((t) => t.role),
      ['architect', 'developer', 'tester'],
    );
    // Accepted, not started: nothing runs until Start.
    for (const t of added) assert.notEqual(api.controller.state()?.tickets[t.id]?.status, 'running');
    // The planned tickets name no agent: their roles are unmapped, so they run on the default agent.
    const before = api.controller.defaultAgent();
    api.controller.applySettings({ defaultAgent: 'fake' });
    try {
      const s = await api.controller.writer();
      await s.orchestrator.start();
      await waitFor(() => added.every((t) => api.controller.state()?.tickets[t.id]?.status === 'done'), 'the planned tickets merged', 100_000, 250);
    } finally {
      if (before) api.controller.applySettings({ defaultAgent: before });
    }
  });

  it('Add Workflow with arguments expands the emergency fast-track (P0) and adds it', async () => {
    const api = (await activatedExtension()).exports as Api;
    const added = await vscode.commands.executeCommand<Array<{ id: string; priority: string }>>('orchard.addWorkflow', {
      template: 'hotfix',
      request: 'checkout returns 500',
      confirm: true,
    });
    assert.ok(added && added.length === 2);
    for (const t of added) assert.equal(api.controller.state()?.tickets[t.id]?.priority, 'P0');
  });
});
