// The commands of the palette (category "Orchard"), typed with their arguments. Every
// command has an argument form that asks nothing (tests, other extensions, tree items);
// called from the palette without arguments it asks through quick picks and input boxes.
import { errorText } from '../core/errors';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeReportFiles } from '../infra/reportFiles';
import { ImportError } from '../core/importers';
import { ticketPatch, type NewTicketInput } from '../core/newTicket';
import { startPreflight } from '../core/preflight';
import { addTicket, applySequence, importTicketFiles, type TicketIntake } from '../infra/ticketIntake';
import type { Escalation } from '../core/escalations';
import { FINAL_STATUSES, PRIORITIES, type Priority, type Ticket, type TicketSpec, type TicketStatus } from '../core/model';
import { markdownReport } from '../core/report';
import { BUILTIN_PROFILES } from '../infra/agents/profiles';
import type { OrchardController, WriterSession } from './controller';
import type { DashboardPanel } from './dashboard';
import { removeWorktree, showRunDiff, staleWorktrees } from './git';
import { openConflictedFiles } from './mergeEditor';
import { askOverlap, mergeWayOut, type OverlapChoice } from './prompts';
import type { TerminalRunnerHost } from './terminalHost';
import { lastRunOf } from './treeNodes/nodes';

/** A ticket as the Add Ticket command takes it when called with an argument (no prompts). */
export type AddTicketArgs = Omit<NewTicketInput, 'priority'> & { priority?: Priority };

/** What tree items pass to commands: a ticket id is found in any of them. */
export type TicketArg =
  | string
  | { kind: 'ticket' | 'dependency' | 'merge'; id: string }
  | { kind: 'run' | 'gate'; runId: string }
  | { kind: 'agent'; slot: number; ticketId?: string }
  | { kind: 'escalation'; id: string };

/** Kept for callers of the first version. */
export type TicketNodeArg = { kind: 'ticket'; id: string };

export type LockArg = string | { kind: 'lock'; pattern: string; runId: string };
export type Answer = { option?: string; guidance?: string };
export type Confirm = { confirmed?: boolean };

export interface CommandTypes {
  'orchard.addTicket': (args?: AddTicketArgs) => Promise<string | undefined>;
  'orchard.editTicket': (ticket?: TicketArg, patch?: Partial<Omit<TicketSpec, 'id'>>) => Promise<boolean>;
  'orchard.importTickets': (uris?: vscode.Uri | vscode.Uri[]) => Promise<number>;
  'orchard.start': (opts?: { overlap?: OverlapChoice }) => Promise<boolean>;
  'orchard.pause': () => Promise<void>;
  'orchard.resume': () => Promise<void>;
  'orchard.stopAll': (opts?: Confirm) => Promise<boolean>;
  /** From a tree: the clicked node and the selection; from code: opts answers the pre-flight. */
  'orchard.startTicket': (ticket?: TicketArg, selection?: TicketArg[], opts?: { overlap?: OverlapChoice }) => Promise<string[]>;
  'orchard.cancelTicket': (ticket?: TicketArg, opts?: Confirm) => Promise<boolean>;
  'orchard.retryTicket': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.openTerminal': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.openWorktree': (ticket?: TicketArg, opts?: { open?: boolean }) => Promise<string | undefined>;
  'orchard.showDiff': (ticket?: TicketArg) => Promise<number>;
  'orchard.answerEscalation': (escalation?: string | TicketArg, answer?: Answer) => Promise<boolean>;
  'orchard.releaseLock': (lock?: LockArg, opts?: Confirm) => Promise<number>;
  'orchard.mergeNow': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.continueMerge': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.openConflicts': (ticket?: TicketArg) => Promise<number>;
  'orchard.sendBack': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.keepForLater': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.discard': (ticket?: TicketArg, opts?: Confirm) => Promise<boolean>;
  'orchard.stashAndUpdate': (ticket?: TicketArg) => Promise<boolean>;
  'orchard.showDashboard': () => Promise<void>;
  'orchard.generateReport': (opts?: { open?: boolean }) => Promise<string>;
  'orchard.cleanUpWorktrees': (opts?: { all?: boolean }) => Promise<number>;
  'orchard.showLog': () => Promise<void>;
  'orchard.refresh': () => Promise<void>;
}

export type CommandId = keyof CommandTypes;

/** Runs an Orchard command with its typed arguments. */
export function runCommand<K extends CommandId>(id: K, ...args: Parameters<CommandTypes[K]>): Thenable<Awaited<ReturnType<CommandTypes[K]>>> {
  return vscode.commands.executeCommand(id, ...args);
}

/** Merge-queue operations the orchestrator offers (added by the merge queue work). */
interface MergeOps {
  mergeNow(id: string): Promise<unknown>;
  continueMerge(id: string): Promise<unknown>;
  sendBack(id: string): Promise<unknown>;
  keepForLater(id: string): Promise<unknown>;
  discard(id: string, confirmed: boolean): Promise<unknown>;
  stashAndUpdate(id: string): Promise<unknown>;
  /** Opens the conflict in the integration worktree: its folder and the conflicted files. */
  openConflict(id: string): Promise<{ dir: string; files: string[] }>;
}

function mergeOp<K extends keyof MergeOps>(s: WriterSession, name: K): MergeOps[K] {
  const fn = (s.orchestrator as unknown as Partial<MergeOps>)[name];
  if (typeof fn !== 'function') throw new Error(`${name} is not available in this version of Orchard.`);
  return fn.bind(s.orchestrator) as MergeOps[K];
}

/** Asks the human: the agent's options, plus free guidance. */
export async function askForAnswer(e: Escalation): Promise<Answer | undefined> {
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


const splitList = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);

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
    [{ label: '$(settings) Default', description: def, profile: undefined as string | undefined }, ...profiles.map((p) => ({ label: p, description: BUILTIN_PROFILES[p]?.description ?? '', profile: p as string | undefined }))],
    { title: `${verb} (6/6): agent`, placeHolder: 'Agent profile for this ticket', ignoreFocusOut: true },
  );
  if (!agent) return undefined;
  return { title: title.trim(), prompt: prompt.trim() || undefined, priority: pri.label as Priority, dependsOn, files: splitList(files), agent: agent.profile };
}

function ticketIdOf(arg: TicketArg | undefined, s: WriterSession | undefined): string | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string') return arg;
  switch (arg.kind) {
    case 'ticket':
    case 'dependency':
    case 'merge':
      return arg.id;
    case 'run':
    case 'gate':
      return s?.orchestrator.snapshot.runs[arg.runId]?.ticketId;
    case 'agent':
      return arg.ticketId;
    case 'escalation':
      return s?.orchestrator.snapshot.escalations[arg.id]?.ticketId;
  }
}

/** The ticket an argument names, or one picked from those `which` accepts. */
async function pickTicket(s: WriterSession, arg: TicketArg | undefined, title: string, which: (t: Ticket) => boolean): Promise<Ticket | undefined> {
  const id = ticketIdOf(arg, s);
  if (id) return s.orchestrator.ticket(id);
  const list = Object.values(s.orchestrator.snapshot.tickets).filter(which);
  if (list.length === 0) {
    void vscode.window.showInformationMessage(`Orchard: no ticket to ${title.toLowerCase()}.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    list.map((t) => ({ label: `${t.id}  ${t.title}`, description: `${t.priority} · ${t.status}`, t })),
    { title, matchOnDescription: true },
  );
  return pick?.t;
}

const is =
  (...statuses: TicketStatus[]) =>
  (t: Ticket): boolean =>
    statuses.includes(t.status);

async function confirm(message: string, action: string, opts: Confirm | undefined): Promise<boolean> {
  if (opts?.confirmed !== undefined) return opts.confirmed;
  return (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action;
}

/** Pre-flight for the tickets about to start (with those already running). */
async function preflightOk(s: WriterSession, starting: Ticket[], choice: OverlapChoice | undefined): Promise<boolean> {
  const r = startPreflight(s.orchestrator.snapshot.tickets, starting);
  if (r.pairs.length === 0) return true;
  const c = choice ?? (await askOverlap(r));
  if (c === 'cancel' || c === undefined) return false;
  if (c === 'sequence') await applySequence(intakeOf(s), r.sequence);
  return true;
}

const intakeOf = (s: WriterSession): TicketIntake => ({ orchestrator: s.orchestrator, repo: s.paths.repo });

export interface CommandDeps {
  controller: OrchardController;
  terminals: TerminalRunnerHost;
  dashboard: () => DashboardPanel;
  log: vscode.LogOutputChannel;
  selectedTickets: () => string[];
}

export function registerCommands({ controller, terminals, dashboard, log, selectedTickets }: CommandDeps): vscode.Disposable[] {
  const w = () => controller.writer();
  const runOf = (s: WriterSession, t: Ticket) => lastRunOf(s.orchestrator.snapshot, t.id);

  const handlers: CommandTypes = {
    'orchard.addTicket': async (args) => {
      const s = await w();
      const input = args ?? (await askForTicket(Object.values(s.orchestrator.snapshot.tickets)));
      if (!input) return undefined;
      const ticket = await addTicket(intakeOf(s), input, 'Add Ticket');
      if (!args) void vscode.window.showInformationMessage(`Added ticket ${ticket.id}: ${ticket.title}`);
      return ticket.id;
    },
    'orchard.editTicket': async (arg, patch) => {
      const s = await w();
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
      const s = await w();
      let files = uris ? (Array.isArray(uris) ? uris : [uris]) : undefined;
      files ??= await vscode.window.showOpenDialog({ canSelectMany: true, filters: { 'Tickets (JSON)': ['json'] }, title: 'Import tickets or ws-*.json workstreams' });
      if (!files?.length) return 0;
      const read = await Promise.all(files.map(async (u) => ({ name: u.path.split('/').pop()!, text: new TextDecoder().decode(await vscode.workspace.fs.readFile(u)) })));
      const tickets = await importTicketFiles(intakeOf(s), read);
      if (!uris) void vscode.window.showInformationMessage(`Imported ${tickets.length} tickets.`);
      return tickets.length;
    },
    'orchard.start': async (opts) => {
      const s = await w();
      const batch = Object.values(s.orchestrator.snapshot.tickets).filter(is('backlog', 'ready'));
      if (!s.orchestrator.isActive && batch.length > 1 && !(await preflightOk(s, batch, opts?.overlap))) return false;
      await controller.startBatch(s);
      return true;
    },
    'orchard.pause': async () => {
      await (await w()).orchestrator.pause();
    },
    'orchard.resume': async () => {
      await controller.startBatch(await w());
    },
    'orchard.stopAll': async (opts) => {
      const s = await w();
      const running = Object.values(s.orchestrator.snapshot.runs).filter((r) => r.endedAt === undefined).length;
      if (running && !(await confirm(`Stop all ${running} agents? Their work so far is committed to their branches.`, 'Stop All', opts))) return false;
      await s.orchestrator.stopAll();
      return true;
    },
    'orchard.startTicket': async (arg, selection, opts) => {
      const s = await w();
      const overlap = opts?.overlap;
      let ids = Array.isArray(selection) ? selection.map((x) => ticketIdOf(x, s)).filter((x): x is string => !!x) : [];
      const one = ticketIdOf(arg, s);
      if (one && !ids.includes(one)) ids = [one, ...ids];
      if (!one && ids.length === 0) {
        const startable = Object.values(s.orchestrator.snapshot.tickets).filter(is('backlog', 'ready', 'failed', 'cancelled', 'blocked'));
        const picked = await vscode.window.showQuickPick(
          startable.map((t) => ({ label: `${t.id}  ${t.title}`, description: `${t.priority} · ${t.status}`, id: t.id, picked: selectedTickets().includes(t.id) })),
          { title: 'Start Ticket', canPickMany: true },
        );
        ids = picked?.map((p) => p.id) ?? [];
      }
      if (ids.length === 0) return [];
      const tickets = ids.map((id) => s.orchestrator.ticket(id));
      if (tickets.length > 1 || s.orchestrator.isActive) {
        if (!(await preflightOk(s, tickets, overlap))) return [];
      }
      const started: string[] = [];
      for (const t of tickets) {
        try {
          await s.orchestrator.startTicket(t.id);
          started.push(t.id);
        } catch (e) {
          if (tickets.length === 1) throw e;
          void vscode.window.showWarningMessage(`Orchard: ${errorText(e)}`);
        }
      }
      return started;
    },
    'orchard.cancelTicket': async (arg, opts) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Cancel Ticket', (x) => !FINAL_STATUSES.has(x.status));
      if (!t) return false;
      const live = t.status === 'running' || t.status === 'escalated';
      if (!(await confirm(`Cancel ${t.id} "${t.title}"?${live ? ' Its agent is stopped; its work so far is kept on its branch.' : ''}`, 'Cancel Ticket', opts))) return false;
      await s.orchestrator.cancel(t.id);
      return true;
    },
    'orchard.retryTicket': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Retry Ticket', is('failed', 'blocked', 'escalated', 'cancelled'));
      if (!t) return false;
      await s.orchestrator.retry(t.id);
      return true;
    },
    'orchard.openTerminal': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Open Agent Terminal', (x) => !!terminals.terminalFor(x.id));
      if (!t) return false;
      const term = terminals.terminalFor(t.id);
      if (!term) throw new Error(`${t.id} has no open terminal (its agent is not running in this window).`);
      term.show();
      return true;
    },
    'orchard.openWorktree': async (arg, opts) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Open Worktree', (x) => !!runOf(s, x)?.worktree);
      if (!t) return undefined;
      const dir = runOf(s, t)?.worktree;
      if (!dir) throw new Error(`${t.id} has no worktree yet.`);
      if (opts?.open !== false) await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(dir), { forceNewWindow: true });
      return dir;
    },
    'orchard.showDiff': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Show Diff', (x) => !!runOf(s, x)?.base);
      if (!t) return 0;
      const run = typeof arg === 'object' && (arg.kind === 'run' || arg.kind === 'gate') ? s.orchestrator.snapshot.runs[arg.runId] : runOf(s, t);
      if (!run) throw new Error(`${t.id} has not run yet.`);
      return showRunDiff(s.paths.repo, run);
    },
    'orchard.answerEscalation': async (escalation, answer) => {
      const s = await w();
      const open = s.orchestrator.openEscalations();
      let e: Escalation | undefined =
        typeof escalation === 'string'
          ? (s.orchestrator.snapshot.escalations[escalation] ?? open.find((x) => x.ticketId === escalation))
          : escalation?.kind === 'escalation'
            ? s.orchestrator.snapshot.escalations[escalation.id]
            : escalation
              ? open.find((x) => x.ticketId === ticketIdOf(escalation, s))
              : undefined;
      if (!e && typeof escalation === 'string') throw new Error(`There is no question "${escalation}" (and ${escalation} has none open).`);
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
      // A stopped merge is answered by taking one of its ways out (which closes the question).
      const way = a.option !== undefined ? mergeWayOut(e, a.option) : undefined;
      if (way !== undefined) {
        if (way) await vscode.commands.executeCommand(way, e.ticketId);
        return true;
      }
      await s.orchestrator.answer(e.id, { ...a, by: 'human' });
      return true;
    },
    'orchard.releaseLock': async (lock, opts) => {
      const s = await w();
      let key = typeof lock === 'string' ? lock : lock?.pattern;
      if (!key) {
        const locks = s.orchestrator.snapshot.locks;
        if (locks.length === 0) {
          void vscode.window.showInformationMessage('Orchard: no file is locked.');
          return 0;
        }
        key = (await vscode.window.showQuickPick(locks.map((l) => ({ label: l.pattern, description: `${l.ticketId} · ${l.runId}` })), { title: 'Release Lock' }))?.label;
        if (!key) return 0;
      }
      const holder = s.orchestrator.snapshot.locks.find((l) => l.pattern === key || l.runId === key);
      if (!holder) throw new Error(`Nothing is locked as "${key}".`);
      const live = s.orchestrator.snapshot.runs[holder.runId]?.endedAt === undefined;
      if (live && !(await confirm(`Release ${key}, held by ${holder.ticketId} while its agent works? Its branch will have to be redone before it can merge if another ticket takes the lock.`, 'Release Lock', opts))) return 0;
      return s.orchestrator.releaseLock(key);
    },
    'orchard.mergeNow': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Merge Now', is('queued-for-merge'));
      if (!t) return false;
      await mergeOp(s, 'mergeNow')(t.id);
      return true;
    },
    'orchard.continueMerge': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Continue Merge', (x) => !!(x as Ticket & { conflict?: unknown }).conflict);
      if (!t) return false;
      const r = (await mergeOp(s, 'continueMerge')(t.id)) as { kind?: string; files?: string[] } | undefined;
      if (r?.kind === 'conflict') {
        void vscode.window.showWarningMessage(`Orchard: ${t.id} still has conflicts in ${(r.files ?? []).join(', ')}; resolve them, save, then Continue Merge again.`);
        return false;
      }
      return true;
    },
    'orchard.openConflicts': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Open Conflicted Files', (x) => !!(x as Ticket & { conflict?: unknown }).conflict);
      if (!t) return 0;
      const where = await mergeOp(s, 'openConflict')(t.id);
      await openConflictedFiles(where.dir, where.files, t.id, log);
      void vscode.window
        .showInformationMessage(`Resolve the conflicts of ${t.id} in the merge editor (${where.files.length} file(s)); Complete Merge in each, then run Continue Merge.`, 'Continue Merge')
        .then((c) => c && vscode.commands.executeCommand('orchard.continueMerge', t.id));
      return where.files.length;
    },
    'orchard.sendBack': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Send Back to Agent', is('escalated'));
      if (!t) return false;
      await mergeOp(s, 'sendBack')(t.id);
      return true;
    },
    'orchard.keepForLater': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Keep for Later', is('escalated'));
      if (!t) return false;
      await mergeOp(s, 'keepForLater')(t.id);
      return true;
    },
    'orchard.discard': async (arg, opts) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Discard', (x) => !FINAL_STATUSES.has(x.status));
      if (!t) return false;
      const ok = await confirm(`Discard the work of ${t.id} "${t.title}"? It is not merged; its branch is kept under a backup ref.`, 'Discard', opts);
      if (!ok) return false;
      await mergeOp(s, 'discard')(t.id, true);
      return true;
    },
    'orchard.stashAndUpdate': async (arg) => {
      const s = await w();
      const t = await pickTicket(s, arg, 'Stash and Update', is('escalated'));
      if (!t) return false;
      await mergeOp(s, 'stashAndUpdate')(t.id);
      return true;
    },
    'orchard.showDashboard': async () => {
      await controller.open();
      dashboard().show();
    },
    'orchard.generateReport': async (opts) => {
      await controller.open();
      const st = controller.state();
      if (!st) throw new Error('Open a folder that is a git repository to use Orchard.');
      const md = markdownReport(st, Date.now());
      const session = controller.current;
      if (session) {
        // Kept with the repository's Orchard state: the report and a static snapshot of the dashboard.
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const agents = vscode.workspace.getConfiguration('orchard').get<number>('maxAgents', 3);
        const files = writeReportFiles(st, Date.now(), agents, path.join(session.paths.stateDir, 'reports', `report-${stamp}.md`));
        if (opts?.open !== false) void vscode.window.showInformationMessage(`Orchard: report saved to ${files.markdown}, with a dashboard snapshot (${path.basename(files.html)}).`);
      }
      if (opts?.open !== false) await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: md }));
      return md;
    },
    'orchard.cleanUpWorktrees': async (opts) => {
      const s = await w();
      const stale = await staleWorktrees(s.paths.repo, s.orchestrator.snapshot);
      if (stale.length === 0) {
        if (!opts) void vscode.window.showInformationMessage('Orchard: no worktree to clean up.');
        return 0;
      }
      const chosen = opts?.all
        ? stale
        : (
            await vscode.window.showQuickPick(
              stale.map((x) => ({ label: x.ticketId ?? x.branch ?? x.path, description: x.why, detail: x.path, picked: x.why === 'merged', x })),
              { title: 'Clean Up Worktrees', placeHolder: 'Worktrees no run uses; unmerged branches are kept', canPickMany: true },
            )
          )?.map((p) => p.x);
      let removed = 0;
      for (const x of chosen ?? []) {
        try {
          log.info(`${x.path}: ${await removeWorktree(s.paths.repo, x)}`);
          removed++;
        } catch (e) {
          log.warn(`Could not remove ${x.path}: ${errorText(e)}`);
        }
      }
      if (!opts) void vscode.window.showInformationMessage(`Orchard: removed ${removed} worktree(s); see Orchard: Show Log.`);
      return removed;
    },
    'orchard.showLog': async () => {
      log.show(true);
    },
    'orchard.refresh': async () => {
      await controller.open();
    },
  };
  return (Object.keys(handlers) as CommandId[]).map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handlers[id] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (e) {
        const message = ImportError.is(e) ? e.message : errorText(e);
        log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`Orchard: ${message}`);
        // Callers from code (tests, other extensions) get the error too.
        if (args.length) throw e;
        return undefined;
      }
    }),
  );
}
