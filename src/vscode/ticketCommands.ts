// Ticket commands: add (typed or with its six prompts), edit, import files, cancel, retry.
// Adding and importing go through the same intake as the CLI (infra/ticketIntake.ts).
import * as vscode from 'vscode';
import { ticketPatch } from '../core/newTicket';
import { FINAL_STATUSES, PRIORITIES, type Priority, type Ticket } from '../core/model';
import { BUILTIN_PROFILES } from '../infra/agents/profiles';
import { addTicket, importTicketFiles } from '../infra/ticketIntake';
import { confirm, intakeOf, is, pickTicket, type CommandContext } from './commandArgs';
import type { AddTicketArgs, CommandTypes } from './commandTypes';

const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export const KNOWN_PROFILES = Object.keys(BUILTIN_PROFILES);

async function askForTicket(existing: Ticket[], defaults?: Ticket): Promise<AddTicketArgs | undefined> {
  const verb = defaults ? `Edit ${defaults.id}` : 'Add Ticket';
  const title = await vscode.window.showInputBox({
    title: `${verb} (1/6): title`,
    prompt: 'What should the agent do, in a few words?',
    value: defaults?.title,
    validateInput: (v) => (v.trim() ? undefined : 'A ticket needs a title.'),
    ignoreFocusOut: true,
  });
  if (!title) return undefined;
  const prompt = await vscode.window.showInputBox({
    title: `${verb} (2/6): prompt`,
    prompt: 'Instructions for the agent (empty: use the title)',
    value: defaults && defaults.prompt !== defaults.title ? defaults.prompt : undefined,
    ignoreFocusOut: true,
  });
  if (prompt === undefined) return undefined;
  const current = defaults?.priority ?? 'P2';
  const pri = await vscode.window.showQuickPick(
    [...PRIORITIES]
      .sort((a, b) => (a === current ? -1 : b === current ? 1 : 0))
      .map((p) => ({ label: p, description: { P0: 'emergency', P1: 'high', P2: 'normal', P3: 'low' }[p] })),
    { title: `${verb} (3/6): priority`, ignoreFocusOut: true },
  );
  if (!pri) return undefined;
  let dependsOn: string[] = defaults?.dependsOn ?? [];
  const candidates = existing.filter((t) => t.id !== defaults?.id);
  if (candidates.length) {
    const deps = await vscode.window.showQuickPick(
      candidates.map((t) => ({ label: t.id, description: t.title, detail: t.status, picked: dependsOn.includes(t.id) })),
      { title: `${verb} (4/6): depends on`, placeHolder: 'Tickets that must be merged first (none: press Enter)', canPickMany: true, ignoreFocusOut: true },
    );
    if (!deps) return undefined;
    dependsOn = deps.map((d) => d.label);
  }
  const files = await vscode.window.showInputBox({
    title: `${verb} (5/6): files`,
    prompt: 'Paths or globs it will likely touch, comma-separated (used for locks)',
    placeHolder: 'src/auth/**, README.md',
    value: defaults?.files.join(', '),
    ignoreFocusOut: true,
  });
  if (files === undefined) return undefined;
  const def = vscode.workspace.getConfiguration('orchard').get<string>('defaultAgent', 'claude');
  const custom = Object.keys(vscode.workspace.getConfiguration('orchard').get<Record<string, unknown>>('agentProfiles', {}));
  const profiles = [...new Set([...KNOWN_PROFILES, 'fake', ...custom])];
  const agent = await vscode.window.showQuickPick(
    [
      { label: '$(settings) Default', description: def, profile: undefined as string | undefined },
      ...profiles.map((p) => ({ label: p, description: BUILTIN_PROFILES[p]?.description ?? '', profile: p as string | undefined })),
    ],
    { title: `${verb} (6/6): agent`, placeHolder: 'Agent profile for this ticket', ignoreFocusOut: true },
  );
  if (!agent) return undefined;
  return { title: title.trim(), prompt: prompt.trim() || undefined, priority: pri.label as Priority, dependsOn, files: splitList(files), agent: agent.profile };
}

export function ticketCommands(
  ctx: CommandContext,
): Pick<CommandTypes, 'orchard.addTicket' | 'orchard.editTicket' | 'orchard.importTickets' | 'orchard.cancelTicket' | 'orchard.retryTicket'> {
  return {
    'orchard.addTicket': async (args) => {
      const s = await ctx.writer();
      const input = args ?? (await askForTicket(Object.values(s.orchestrator.snapshot.tickets)));
      if (!input) return undefined;
      const ticket = await addTicket(intakeOf(s), input, 'Add Ticket');
      if (!args) void vscode.window.showInformationMessage(`Added ticket ${ticket.id}: ${ticket.title}`);
      return ticket.id;
    },
    'orchard.editTicket': async (arg, patch) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Edit Ticket', (x) => !FINAL_STATUSES.has(x.status) && x.status !== 'running');
      if (!t) return false;
      const p = patch ?? (await askForTicket(Object.values(s.orchestrator.snapshot.tickets), t));
      if (!p) return false;
      const clean = ticketPatch(p);
      if (!patch && clean.prompt === undefined) clean.prompt = clean.title;
      await s.orchestrator.editTicket(t.id, clean);
      return true;
    },
    'orchard.importTickets': async (uris) => {
      const s = await ctx.writer();
      let files = uris ? (Array.isArray(uris) ? uris : [uris]) : undefined;
      files ??= await vscode.window.showOpenDialog({
        canSelectMany: true,
        filters: { 'Tickets (JSON)': ['json'] },
        title: 'Import tickets or ws-*.json workstreams',
      });
      if (!files?.length) return 0;
      const read = await Promise.all(
        files.map(async (u) => ({ name: u.path.split('/').pop()!, text: new TextDecoder().decode(await vscode.workspace.fs.readFile(u)) })),
      );
      const tickets = await importTicketFiles(intakeOf(s), read);
      if (!uris) void vscode.window.showInformationMessage(`Imported ${tickets.length} tickets.`);
      return tickets.length;
    },
    'orchard.cancelTicket': async (arg, opts) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Cancel Ticket', (x) => !FINAL_STATUSES.has(x.status));
      if (!t) return false;
      const live = t.status === 'running' || t.status === 'escalated';
      if (!(await confirm(`Cancel ${t.id} "${t.title}"?${live ? ' Its agent is stopped; its work so far is kept on its branch.' : ''}`, 'Cancel Ticket', opts)))
        return false;
      await s.orchestrator.cancel(t.id);
      return true;
    },
    'orchard.retryTicket': async (arg) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Retry Ticket', is('failed', 'blocked', 'escalated', 'cancelled'));
      if (!t) return false;
      await s.orchestrator.retry(t.id);
      return true;
    },
  };
}
