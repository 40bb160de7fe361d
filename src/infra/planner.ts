// "Plan with Agent": a planner agent (any profile) runs read-only in a throw-away detached
// worktree and proposes tickets through `orchard-agent add-ticket`; each proposal is
// validated like an import and answered at once (so the planner can fix what was refused).
// The proposal is kept as pending in <state dir>/proposals/<id>.json — not tickets — until
// the user accepts it (possibly edited) or rejects it. Nothing starts without the accept.
// Planning needs no writer lease (it reads the tickets and writes only its own files), so
// other windows and CLIs keep working meanwhile; accepting adds tickets, which needs it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run, Ticket, TicketSpec } from '../core/model';
import type { Logger } from '../core/ports';
import type { Orchestrator } from '../core/orchestrator';
import { plannerPrompt, proposeTicket, validateProposal, type Proposal } from '../core/workflows/agentTickets';
import type { AgentLauncher } from './agents/launcher';
import { runGit } from './git/run';

export interface PlannerContext {
  /** The tickets the planner may depend on, and the settings (roles, default agent): a writer's orchestrator, or a read-only view. */
  orchestrator: Pick<Orchestrator, 'snapshot' | 'settings'>;
  launcher: AgentLauncher;
  paths: { repo: string; stateDir: string };
  /** Branch the planner reads (the target branch). */
  targetBranch: string;
  log: Logger;
}

export interface PlanOptions {
  /** Planner profile; default: the "planner" role's profile, else the default agent. */
  agent?: string;
  /** Give up after this long (default 20 min). */
  timeoutMs?: number;
  /** Called for every ticket the planner proposes (or that is refused). */
  onProposal?: (e: { ticket?: TicketSpec; problems?: string[] }) => void;
}

const proposalsDir = (stateDir: string) => join(stateDir, 'proposals');

export function saveProposal(stateDir: string, p: Proposal, reserve = false): void {
  mkdirSync(proposalsDir(stateDir), { recursive: true });
  const f = join(proposalsDir(stateDir), `${p.id}.json`);
  // A new proposal takes its id with an exclusive create: two planners at once never share one.
  if (reserve) writeFileSync(f, JSON.stringify(p, null, 2), { flag: 'wx' });
  writeFileSync(f + '.tmp', JSON.stringify(p, null, 2));
  renameSync(f + '.tmp', f);
}

export function loadProposal(stateDir: string, id: string): Proposal {
  const f = join(proposalsDir(stateDir), `${id}.json`);
  if (!existsSync(f))
    throw new Error(
      `There is no proposal "${id}"; proposals are ${
        listProposals(stateDir)
          .map((p) => p.id)
          .join(', ') || 'none'
      }.`,
    );
  return JSON.parse(readFileSync(f, 'utf8')) as Proposal;
}

export function listProposals(stateDir: string): Proposal[] {
  const dir = proposalsDir(stateDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as Proposal)
    .sort((a, b) => a.createdAt - b.createdAt);
}

/** A new pending proposal under a free id ("plan<n>"), saved at once so no other planner takes the id. */
function newProposal(stateDir: string, ticketIds: Iterable<string>, fields: Omit<Proposal, 'id'>): Proposal {
  const taken = new Set([...ticketIds].map((id) => id.split('.')[0]!));
  for (const p of listProposals(stateDir)) taken.add(p.id);
  for (let n = 1; ; n++) {
    if (taken.has(`plan${n}`)) continue;
    const p: Proposal = { id: `plan${n}`, ...fields };
    try {
      saveProposal(stateDir, p, true);
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Runs the planner agent for a goal; resolves with the (saved, pending) proposal. */
export async function runPlanner(ctx: PlannerContext, goal: string, o: PlanOptions = {}): Promise<Proposal> {
  if (!goal.trim()) throw new Error('The goal is empty; describe what you want done.');
  const o8 = ctx.orchestrator;
  const existing = Object.values(o8.snapshot.tickets);
  const binding = o8.settings.roles?.planner;
  const agent = o.agent ?? binding?.profile ?? o8.settings.defaultAgent ?? 'claude';
  // The planner role's model goes with its profile (not with a profile chosen instead).
  const model = binding?.model && binding.profile === agent ? binding.model : undefined;
  const proposal = newProposal(
    ctx.paths.stateDir,
    existing.map((t) => t.id),
    { goal, createdAt: Date.now(), agent, status: 'pending', tickets: [], refused: [] },
  );
  const id = proposal.id;
  const now = Date.now();
  const ticket: Ticket = {
    id,
    title: `Plan: ${goal.split('\n')[0]!.slice(0, 150)}`,
    prompt: plannerPrompt(goal, existing),
    priority: 'P2',
    dependsOn: [],
    files: [],
    labels: ['planner'],
    role: 'planner',
    agent,
    status: 'running',
    createdAt: now,
    attempts: 1,
  };
  // A detached worktree of the target branch: the planner reads, nothing it writes is kept.
  const wt = join(ctx.paths.stateDir, 'planner', id);
  rmSync(wt, { recursive: true, force: true });
  mkdirSync(join(ctx.paths.stateDir, 'planner'), { recursive: true });
  await runGit(['worktree', 'add', '--detach', '-q', wt, ctx.targetBranch], { cwd: ctx.paths.repo });
  const run: Run = {
    id: `${id}-r1`,
    ticketId: id,
    slot: 0,
    attempt: 1,
    branch: '(detached)',
    worktree: wt,
    startedAt: now,
    profile: agent,
    ...(model && { model }),
  };
  try {
    const handle = await ctx.launcher.start(ticket, run);
    handle.onTicketRequest?.((req) => {
      if (req.kind !== 'add-ticket') {
        handle.answerTicketRequest?.(req.id, { ok: false, problems: ['the planner proposes with `orchard-agent add-ticket`; it cannot delegate subtasks'] });
        return;
      }
      const problems = proposeTicket(proposal, req.ticket, Object.keys(o8.snapshot.tickets));
      const t = problems.length ? undefined : proposal.tickets[proposal.tickets.length - 1];
      handle.answerTicketRequest?.(req.id, t ? { ok: true, ticketId: t.id } : { ok: false, problems });
      o.onProposal?.(t ? { ticket: t } : { problems });
      saveProposal(ctx.paths.stateDir, proposal);
    });
    const timeoutMs = o.timeoutMs ?? 20 * 60_000;
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      handle.exited,
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (exit === 'timeout') {
      await handle.stop('the planner took too long');
      ctx.log.warn(`The planner ${agent} did not finish within ${Math.round(timeoutMs / 60_000)} min; keeping what it proposed.`);
    } else if (exit.exitCode !== 0) ctx.log.warn(`The planner ${agent} exited with ${exit.exitCode ?? exit.signal}; keeping what it proposed.`);
    // Requests written just before the exit are read on the last poll; give them a moment.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    if (!(await runGit(['worktree', 'remove', '--force', wt], { cwd: ctx.paths.repo, reject: false })).ok) {
      rmSync(wt, { recursive: true, force: true });
      await runGit(['worktree', 'prune'], { cwd: ctx.paths.repo, reject: false }); // best effort
    }
  }
  saveProposal(ctx.paths.stateDir, proposal);
  return proposal;
}

/**
 * Accepts a pending proposal: its tickets (or the user's edited list) are validated like an
 * import against the current tickets and added, all or nothing. Nothing starts by itself.
 */
export async function acceptProposal(
  ctx: { orchestrator: Pick<Orchestrator, 'snapshot' | 'addTickets'>; paths: PlannerContext['paths'] },
  id: string,
  edited?: unknown,
): Promise<TicketSpec[]> {
  const p = loadProposal(ctx.paths.stateDir, id);
  if (p.status !== 'pending') throw new Error(`Proposal ${id} was already ${p.status}.`);
  const tickets = validateProposal(edited ?? p.tickets, Object.keys(ctx.orchestrator.snapshot.tickets), `proposal ${id}`);
  if (tickets.length === 0) throw new Error(`Proposal ${id} has no tickets to add.`);
  await ctx.orchestrator.addTickets(tickets);
  saveProposal(ctx.paths.stateDir, { ...p, tickets, status: 'accepted' });
  return tickets;
}

export function rejectProposal(stateDir: string, id: string): void {
  const p = loadProposal(stateDir, id);
  saveProposal(stateDir, { ...p, status: 'rejected' });
}

/** The proposal as text for review (ticket list with roles and dependencies). */
export function describeProposal(p: Proposal): string {
  const lines = [`Proposal ${p.id} (${p.status}) by ${p.agent}: ${p.goal.split('\n')[0]}`];
  for (const t of p.tickets)
    lines.push(
      `  ${t.id} [${t.priority}${t.role ? ` ${t.role}` : ''}${t.estimate ? ` ${t.estimate}m` : ''}] ${t.title}${t.dependsOn.length ? ` ← ${t.dependsOn.join(', ')}` : ''}${t.files.length ? `  (${t.files.join(', ')})` : ''}`,
    );
  for (const r of p.refused) lines.push(`  refused "${r.request.title ?? '?'}": ${r.problems.join('; ')}`);
  if (p.tickets.length === 0) lines.push('  (no tickets proposed)');
  return lines.join('\n');
}
