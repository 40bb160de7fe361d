// "Orchard: Plan with Agent" and "Orchard: Add Workflow". Both show what would be added
// (the proposal as an editable JSON document; the workflow as a tree and a mermaid graph)
// and add nothing until the user accepts. Nothing starts without a second, explicit Start.
import * as vscode from 'vscode';
import { formatImportIssue, ImportError, errorText as errorOf } from '../core/errors';
import type { TicketSpec } from '../core/model';
import { predict, formatEta } from '../core/predict';
import { BUILTIN_ROLES } from '../core/roles';
import { findTemplate } from '../core/workflows/builtins';
import { expandTemplate, expansionMermaid, expansionTree, templateParameters } from '../core/workflows/expand';
import type { ParamValue } from '../core/workflows/template';
import { BUILTIN_PROFILES } from '../infra/agents/profiles';
import { acceptProposal, describeProposal, rejectProposal, runPlanner } from '../infra/planner';
import { loadTemplates } from '../infra/workflowFiles';
import type { OrchardController } from './controller';

const errorText = (e: unknown): string => (ImportError.is(e) ? e.issues.map(formatImportIssue).join('\n') : errorOf(e));

async function offerStart(controller: OrchardController, added: readonly TicketSpec[]): Promise<void> {
  const s = await controller.writer();
  const p = predict(s.orchestrator.snapshot, Date.now(), { agents: s.config.maxAgents, mode: s.config.mode });
  const pick = await vscode.window.showInformationMessage(
    `Orchard: added ${added.length} tickets (${added
      .map((t) => t.id)
      .slice(0, 4)
      .join(', ')}${added.length > 4 ? ', …' : ''}). ETA ${formatEta(p)}.`,
    'Start',
    'Later',
  );
  if (pick === 'Start') await controller.startBatch(s);
}

/** Plan with Agent: goal → planner agent (read-only) → proposal shown for edit → accept or reject. */
export async function planWithAgent(
  controller: OrchardController,
  log: vscode.LogOutputChannel,
  goalArg?: string,
  agentArg?: string,
  acceptArg?: boolean,
): Promise<TicketSpec[] | undefined> {
  const s = await controller.writer();
  const goal =
    goalArg ??
    (await vscode.window.showInputBox({
      title: 'Orchard: Plan with Agent',
      prompt: 'What should be done? A planner agent reads the repository (changing nothing) and proposes tickets for you to review.',
      placeHolder: 'e.g. Add CSV export to the reports page, with tests',
      ignoreFocusOut: true,
    }));
  if (!goal?.trim()) return undefined;
  const planner = s.config.roles?.planner?.profile ?? s.config.defaultAgent;
  const agent =
    agentArg ??
    (
      await vscode.window.showQuickPick(
        [...new Set([planner, ...Object.keys(BUILTIN_PROFILES), 'fake'])].map((p) => ({
          label: p,
          description: p === planner ? 'planner role / default' : undefined,
        })),
        { title: 'Planner agent profile', ignoreFocusOut: true },
      )
    )?.label;
  if (!agent) return undefined;
  const proposal = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Orchard: ${agent} is planning…` }, (progress) =>
    runPlanner({ orchestrator: s.orchestrator, launcher: s.launcher, paths: s.paths, targetBranch: s.config.targetBranch, log }, goal, {
      agent,
      onProposal: (e) => progress.report({ message: e.ticket ? `proposed ${e.ticket.id}: ${e.ticket.title}` : `refused: ${e.problems?.[0] ?? ''}` }),
    }),
  );
  log.info(describeProposal(proposal));
  if (proposal.tickets.length === 0) {
    void vscode.window.showWarningMessage(
      `Orchard: the planner proposed no valid tickets.${proposal.refused.length ? ` ${proposal.refused.length} were refused; see the Orchard log.` : ''}`,
    );
    return undefined;
  }
  // Scripted use (tests, other extensions): accept as proposed, start nothing.
  if (acceptArg === true) return acceptProposal({ orchestrator: s.orchestrator, paths: s.paths }, proposal.id);
  // The proposal as an editable document: what is in it when the user accepts is what is added.
  const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify({ tickets: proposal.tickets }, null, 2) + '\n' });
  await vscode.window.showTextDocument(doc, { preview: false });
  for (;;) {
    const pick = await vscode.window.showInformationMessage(
      `Orchard: proposal ${proposal.id} — ${proposal.tickets.length} tickets${proposal.refused.length ? ` (${proposal.refused.length} refused)` : ''}. Edit the document if you like, then accept or reject.`,
      { modal: false },
      'Accept',
      'Reject',
    );
    if (pick === 'Reject') {
      rejectProposal(s.paths.stateDir, proposal.id);
      return undefined;
    }
    if (pick !== 'Accept') return undefined; // dismissed: stays pending (orchard proposal accept <id>)
    try {
      const parsed = JSON.parse(doc.getText()) as unknown;
      const edited = Array.isArray(parsed) ? parsed : (parsed as { tickets?: unknown }).tickets;
      const added = await acceptProposal({ orchestrator: s.orchestrator, paths: s.paths }, proposal.id, edited);
      await offerStart(controller, added);
      return added;
    } catch (e) {
      const again = await vscode.window.showErrorMessage(`Orchard: the proposal was not added:\n${errorText(e)}`, { modal: true }, 'Fix and Retry');
      if (again !== 'Fix and Retry') return undefined;
    }
  }
}

/** Add Workflow: template → request and parameters → expansion shown (tree and graph) → add. */
export async function addWorkflow(
  controller: OrchardController,
  args?: { template?: string; request?: string; params?: Record<string, ParamValue>; confirm?: boolean },
): Promise<TicketSpec[] | undefined> {
  const s = await controller.writer();
  const set = loadTemplates(s.paths.repo);
  if (set.issues.length)
    void vscode.window.showWarningMessage(`Orchard: some workflow templates were left out:\n${set.issues.map(formatImportIssue).join('\n')}`);
  const id =
    args?.template ??
    (
      await vscode.window.showQuickPick(
        set.templates.map((t) => ({ label: t.id, description: t.name, detail: t.description + (t.source && t.source !== 'built-in' ? ` (${t.source})` : '') })),
        { title: 'Orchard: Add Workflow', placeHolder: 'Choose a workflow template', ignoreFocusOut: true },
      )
    )?.label;
  if (!id) return undefined;
  const template = findTemplate(set, id);
  const request =
    args?.request ??
    (await vscode.window.showInputBox({ title: `${template.name}`, prompt: 'What is the request? ({request} in the template)', ignoreFocusOut: true }));
  if (!request?.trim()) return undefined;
  const params: Record<string, ParamValue> = { ...args?.params };
  if (!args) {
    for (const p of templateParameters(template)) {
      if (p.name === 'request') continue;
      const v = await vscode.window.showInputBox({
        title: `${template.name}: ${p.name}`,
        prompt: `${p.description ?? p.name}${p.type === 'list' ? ' (comma-separated)' : ''}`,
        value: p.default === undefined ? '' : Array.isArray(p.default) ? p.default.join(', ') : String(p.default),
        ignoreFocusOut: true,
      });
      if (v === undefined) return undefined;
      if (v !== '') params[p.name] = v;
    }
  }
  let expansion;
  try {
    expansion = expandTemplate(template, { request, params, existingIds: Object.keys(s.orchestrator.snapshot.tickets) });
  } catch (e) {
    void vscode.window.showErrorMessage(`Orchard: the workflow does not expand:\n${errorText(e)}`, { modal: true });
    return undefined;
  }
  const roles = [...new Set(expansion.tickets.map((t) => t.role).filter(Boolean))];
  const unmapped = roles.filter((r) => !s.config.roles?.[r!] && (BUILTIN_ROLES as readonly string[]).includes(r!));
  const md = [
    `# ${template.name}: ${request.split('\n')[0]}`,
    '',
    `Workflow \`${expansion.workflowId}\`, ${expansion.tickets.length} tickets. Roles: ${roles.join(', ')}${unmapped.length ? ` (${unmapped.join(', ')} run on the default agent ${s.config.defaultAgent}; map them in orchard.roles)` : ''}.`,
    '',
    '```text',
    expansionTree(expansion.tickets),
    '```',
    '',
    '```mermaid',
    expansionMermaid(expansion.tickets),
    '```',
    '',
  ].join('\n');
  if (args?.confirm !== true) {
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: md });
    await vscode.window.showTextDocument(doc, { preview: true });
    const pick = await vscode.window.showInformationMessage(`Orchard: add ${expansion.tickets.length} tickets of ${template.name}?`, { modal: true }, 'Add');
    if (pick !== 'Add') return undefined;
  }
  await s.orchestrator.addTickets(expansion.tickets);
  if (args?.confirm !== true) await offerStart(controller, expansion.tickets);
  return expansion.tickets;
}

export function registerWorkflowCommands(controller: OrchardController, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const guard =
    <A extends unknown[]>(fn: (...a: A) => Promise<unknown>) =>
    async (...a: A) => {
      try {
        return await fn(...a);
      } catch (e) {
        void vscode.window.showErrorMessage(`Orchard: ${errorText(e)}`);
        return undefined;
      }
    };
  return [
    // Arguments (for tests and other extensions): goal and agent skip the prompts; accept: true adds the proposal as is.
    vscode.commands.registerCommand(
      'orchard.planWithAgent',
      guard((goal?: string, agent?: string, accept?: boolean) => planWithAgent(controller, log, goal, agent, accept)),
    ),
    vscode.commands.registerCommand(
      'orchard.addWorkflow',
      guard((a?: Parameters<typeof addWorkflow>[1]) => addWorkflow(controller, a)),
    ),
  ];
}
