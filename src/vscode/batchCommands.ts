// Batch commands: start the batch or chosen tickets (after the overlap pre-flight, whose
// "Run in Sequence" adds dependencies through the ticket intake), pause, resume, stop all.
import { errorText } from '../core/errors';
import * as vscode from 'vscode';
import type { Ticket } from '../core/model';
import { startPreflight } from '../core/preflight';
import { applySequence } from '../infra/ticketIntake';
import { confirm, intakeOf, is, ticketIdOf, type CommandContext } from './commandArgs';
import type { CommandTypes } from './commandTypes';
import type { WriterSession } from './controller';
import { askOverlap, type OverlapChoice } from './prompts';

/** Pre-flight for the tickets about to start (with those already running). */
async function preflightOk(s: WriterSession, starting: Ticket[], choice: OverlapChoice | undefined): Promise<boolean> {
  const r = startPreflight(s.orchestrator.snapshot.tickets, starting);
  if (r.pairs.length === 0) return true;
  const c = choice ?? (await askOverlap(r));
  if (c === 'cancel' || c === undefined) return false;
  if (c === 'sequence') await applySequence(intakeOf(s), r.sequence);
  return true;
}

export function batchCommands(
  ctx: CommandContext,
): Pick<CommandTypes, 'orchard.start' | 'orchard.pause' | 'orchard.resume' | 'orchard.stopAll' | 'orchard.startTicket'> {
  const { controller, selectedTickets } = ctx;
  return {
    'orchard.start': async (opts) => {
      const s = await ctx.writer();
      const batch = Object.values(s.orchestrator.snapshot.tickets).filter(is('backlog', 'ready'));
      if (!s.orchestrator.isActive && batch.length > 1 && !(await preflightOk(s, batch, opts?.overlap))) return false;
      await controller.startBatch(s);
      return true;
    },
    'orchard.pause': async () => {
      await (await ctx.writer()).orchestrator.pause();
    },
    'orchard.resume': async () => {
      await controller.startBatch(await ctx.writer());
    },
    'orchard.stopAll': async (opts) => {
      const s = await ctx.writer();
      const running = Object.values(s.orchestrator.snapshot.runs).filter((r) => r.endedAt === undefined).length;
      if (running && !(await confirm(`Stop all ${running} agents? Their work so far is committed to their branches.`, 'Stop All', opts))) return false;
      await s.orchestrator.stopAll();
      return true;
    },
    'orchard.startTicket': async (arg, selection, opts) => {
      const s = await ctx.writer();
      const overlap = opts?.overlap;
      let ids = Array.isArray(selection) ? selection.map((x) => ticketIdOf(x, s)).filter((x): x is string => !!x) : [];
      const one = ticketIdOf(arg, s);
      if (one && !ids.includes(one)) ids = [one, ...ids];
      if (!one && ids.length === 0) {
        const startable = Object.values(s.orchestrator.snapshot.tickets).filter(is('backlog', 'ready', 'failed', 'cancelled', 'blocked'));
        const picked = await vscode.window.showQuickPick(
          startable.map((t) => ({
            label: `${t.id}  ${t.title}`,
            description: `${t.priority} · ${t.status}`,
            id: t.id,
            picked: selectedTickets().includes(t.id),
          })),
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
  };
}
