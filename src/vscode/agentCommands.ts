// Commands on a running or finished agent: its terminal, worktree and diff, answering its
// questions (a stopped merge's question is answered by taking a way out), releasing a lock.
import * as vscode from 'vscode';
import type { Escalation } from '../core/escalations';
import type { Ticket } from '../core/model';
import { confirm, pickTicket, ticketIdOf, type CommandContext } from './commandArgs';
import type { Answer, CommandTypes } from './commandTypes';
import type { WriterSession } from './controller';
import { showRunDiff } from './git';
import { mergeWayOut } from './prompts';
import { lastRunOf } from './treeNodes/nodes';

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

const runOf = (s: WriterSession, t: Ticket) => lastRunOf(s.orchestrator.snapshot, t.id);

export function agentCommands(
  ctx: CommandContext,
): Pick<CommandTypes, 'orchard.openTerminal' | 'orchard.openWorktree' | 'orchard.showDiff' | 'orchard.answerEscalation' | 'orchard.releaseLock'> {
  const { terminals } = ctx;
  return {
    'orchard.openTerminal': async (arg) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Open Agent Terminal', (x) => !!terminals.terminalFor(x.id));
      if (!t) return false;
      const term = terminals.terminalFor(t.id);
      if (!term) throw new Error(`${t.id} has no open terminal (its agent is not running in this window).`);
      term.show();
      return true;
    },
    'orchard.openWorktree': async (arg, opts) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Open Worktree', (x) => !!runOf(s, x)?.worktree);
      if (!t) return undefined;
      const dir = runOf(s, t)?.worktree;
      if (!dir) throw new Error(`${t.id} has no worktree yet.`);
      if (opts?.open !== false) await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(dir), { forceNewWindow: true });
      return dir;
    },
    'orchard.showDiff': async (arg) => {
      const s = await ctx.writer();
      const t = await pickTicket(s, arg, 'Show Diff', (x) => !!runOf(s, x)?.base);
      if (!t) return 0;
      const run = typeof arg === 'object' && (arg.kind === 'run' || arg.kind === 'gate') ? s.orchestrator.snapshot.runs[arg.runId] : runOf(s, t);
      if (!run) throw new Error(`${t.id} has not run yet.`);
      return showRunDiff(s.paths.repo, run);
    },
    'orchard.answerEscalation': async (escalation, answer) => {
      const s = await ctx.writer();
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
            : (
                await vscode.window.showQuickPick(
                  open.map((x) => ({ label: `${x.ticketId}: ${x.question}`, description: x.trigger, x })),
                  { title: 'Answer Escalation' },
                )
              )?.x;
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
      const s = await ctx.writer();
      let key = typeof lock === 'string' ? lock : lock?.pattern;
      if (!key) {
        const locks = s.orchestrator.snapshot.locks;
        if (locks.length === 0) {
          void vscode.window.showInformationMessage('Orchard: no file is locked.');
          return 0;
        }
        key = (
          await vscode.window.showQuickPick(
            locks.map((l) => ({ label: l.pattern, description: `${l.ticketId} · ${l.runId}` })),
            { title: 'Release Lock' },
          )
        )?.label;
        if (!key) return 0;
      }
      const holder = s.orchestrator.snapshot.locks.find((l) => l.pattern === key || l.runId === key);
      if (!holder) throw new Error(`Nothing is locked as "${key}".`);
      const live = s.orchestrator.snapshot.runs[holder.runId]?.endedAt === undefined;
      if (
        live &&
        !(await confirm(
          `Release ${key}, held by ${holder.ticketId} while its agent works? Its branch will have to be redone before it can merge if another ticket takes the lock.`,
          'Release Lock',
          opts,
        ))
      )
        return 0;
      return s.orchestrator.releaseLock(key);
    },
  };
}
