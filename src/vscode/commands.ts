// The commands of the palette (category "Orchard"), typed with their arguments.
import * as vscode from 'vscode';
import { importTickets, ImportError } from '../core/importers';
import type { Escalation } from '../core/escalations';
import { PRIORITIES, type Priority } from '../core/model';
import { BUILTIN_PROFILES } from '../infra/agents/profiles';
import type { OrchardController } from './controller';
import type { DashboardPanel } from './dashboard';

/** A ticket as the Add Ticket command takes it when called with an argument (no prompts). */
export interface AddTicketArgs {
  id?: string;
  title: string;
  prompt?: string;
  priority?: Priority;
  dependsOn?: string[];
  files?: string[];
  labels?: string[];
  agent?: string;
  estimate?: number;
}

export interface CommandTypes {
  'orchard.addTicket': (args?: AddTicketArgs) => Promise<string | undefined>;
  'orchard.importTickets': (uris?: vscode.Uri | vscode.Uri[]) => Promise<number>;
  'orchard.start': () => Promise<void>;
  'orchard.showDashboard': () => Promise<void>;
  'orchard.refresh': () => Promise<void>;
  'orchard.answerEscalation': (escalationId?: string | TicketNodeArg, answer?: { option?: string; guidance?: string }) => Promise<boolean>;
}

/** What a tree item passes to a command from its context menu. */
export interface TicketNodeArg {
  kind: 'ticket';
  id: string;
}

/** Asks the human: the agent's options, plus free guidance. */
export async function askForAnswer(e: Escalation): Promise<{ option?: string; guidance?: string } | undefined> {
  const WRITE = '$(edit) Write guidance…';
  const pick = await vscode.window.showQuickPick([...e.options.map((o) => ({ label: o })), { label: WRITE }], {
    title: `${e.ticketId} asks: ${e.question}`,
    placeHolder: e.context || 'Pick an option, or write guidance for the agent',
    ignoreFocusOut: true,
  });
  if (!pick) return undefined;
  if (pick.label !== WRITE) return { option: pick.label };
  const guidance = await vscode.window.showInputBox({ title: `Guidance for ${e.ticketId}`, prompt: e.question, ignoreFocusOut: true });
  return guidance ? { guidance } : undefined;
}

function nextId(existing: string[]): string {
  let max = 0;
  for (const id of existing) {
    const m = /^T(\d+)$/.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `T${max + 1}`;
}

const splitList = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);

async function askForTicket(existing: { id: string; title: string }[]): Promise<AddTicketArgs | undefined> {
  const title = await vscode.window.showInputBox({
    title: 'Add Ticket (1/5): title',
    prompt: 'What should the agent do, in a few words?',
    validateInput: (v) => (v.trim() ? undefined : 'A ticket needs a title.'),
    ignoreFocusOut: true,
  });
  if (!title) return undefined;
  const prompt = await vscode.window.showInputBox({ title: 'Add Ticket (2/5): prompt', prompt: 'Instructions for the agent (empty: use the title)', ignoreFocusOut: true });
  if (prompt === undefined) return undefined;
  const pri = await vscode.window.showQuickPick(
    PRIORITIES.map((p, i) => ({ label: p, description: ['emergency', 'high', 'normal', 'low'][i], picked: p === 'P2' })),
    { title: 'Add Ticket (3/5): priority', ignoreFocusOut: true },
  );
  if (!pri) return undefined;
  let dependsOn: string[] = [];
  if (existing.length) {
    const deps = await vscode.window.showQuickPick(
      existing.map((t) => ({ label: t.id, description: t.title })),
      { title: 'Add Ticket (4/5): depends on', placeHolder: 'Tickets that must be merged first (none: press Enter)', canPickMany: true, ignoreFocusOut: true },
    );
    if (!deps) return undefined;
    dependsOn = deps.map((d) => d.label);
  }
  const files = await vscode.window.showInputBox({
    title: 'Add Ticket (5/5): files',
    prompt: 'Paths or globs it will likely touch, comma-separated (used for locks)',
    placeHolder: 'src/auth/**, README.md',
    ignoreFocusOut: true,
  });
  if (files === undefined) return undefined;
  return { title: title.trim(), prompt: prompt.trim() || undefined, priority: pri.label as Priority, dependsOn, files: splitList(files) };
}

export function registerCommands(controller: OrchardController, dashboard: () => DashboardPanel): vscode.Disposable[] {
  const handlers: CommandTypes = {
    'orchard.addTicket': async (args) => {
      const s = await controller.writer();
      const existing = Object.values(s.orchestrator.snapshot.tickets);
      const input = args ?? (await askForTicket(existing));
      if (!input) return undefined;
      const raw = { ...input, id: input.id ?? nextId(existing.map((t) => t.id)), prompt: input.prompt ?? input.title };
      const tickets = importTickets([{ name: 'Add Ticket', text: JSON.stringify({ tickets: [raw] }) }], { existingIds: existing.map((t) => t.id) });
      await s.orchestrator.addTickets(tickets);
      if (!args) void vscode.window.showInformationMessage(`Added ticket ${tickets[0]!.id}: ${tickets[0]!.title}`);
      return tickets[0]!.id;
    },
    'orchard.importTickets': async (uris) => {
      const s = await controller.writer();
      let files = uris ? (Array.isArray(uris) ? uris : [uris]) : undefined;
      files ??= await vscode.window.showOpenDialog({ canSelectMany: true, filters: { 'Tickets (JSON)': ['json'] }, title: 'Import tickets or ws-*.json workstreams' });
      if (!files?.length) return 0;
      const read = await Promise.all(files.map(async (u) => ({ name: u.path.split('/').pop()!, text: new TextDecoder().decode(await vscode.workspace.fs.readFile(u)) })));
      const tickets = importTickets(read, { existingIds: Object.keys(s.orchestrator.snapshot.tickets) });
      await s.orchestrator.addTickets(tickets);
      if (!uris) void vscode.window.showInformationMessage(`Imported ${tickets.length} tickets.`);
      return tickets.length;
    },
    'orchard.start': async () => {
      const s = await controller.writer();
      await s.orchestrator.start();
    },
    'orchard.showDashboard': async () => {
      await controller.open();
      dashboard().show();
    },
    'orchard.refresh': async () => {
      await controller.open();
    },
    'orchard.answerEscalation': async (escalationId, answer) => {
      const s = await controller.writer();
      const open = s.orchestrator.openEscalations();
      let e =
        typeof escalationId === 'string'
          ? s.orchestrator.snapshot.escalations[escalationId]
          : escalationId?.kind === 'ticket'
            ? open.find((x) => x.ticketId === escalationId.id)
            : undefined;
      if (!e) {
        if (open.length === 0) {
          void vscode.window.showInformationMessage('No agent is waiting for an answer.');
          return false;
        }
        const pick =
          open.length === 1
            ? open[0]
            : (await vscode.window.showQuickPick(open.map((x) => ({ label: `${x.ticketId}: ${x.question}`, description: x.trigger, x })), { title: 'Answer Escalation' }))?.x;
        if (!pick) return false;
        e = pick;
      }
      const a = answer ?? (await askForAnswer(e));
      if (!a) return false;
      await s.orchestrator.answer(e.id, { ...a, by: 'human' });
      return true;
    },
  };
  return (Object.keys(handlers) as (keyof CommandTypes)[]).map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handlers[id] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (e) {
        const message = ImportError.is(e) ? e.message : e instanceof Error ? e.message : String(e);
        void vscode.window.showErrorMessage(`Orchard: ${message}`);
        // Callers from code (tests, other extensions) get the error too.
        if (args.length) throw e;
        return undefined;
      }
    }),
  );
}

export const KNOWN_PROFILES = Object.keys(BUILTIN_PROFILES);
