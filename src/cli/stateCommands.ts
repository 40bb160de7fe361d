// The read-only views of a repository's Orchard state: `status`, `escalations`, `report`,
// and `simulate` (a tickets file on a virtual clock, no state at all).
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importTickets } from '../core/importers';
import type { TicketSpec } from '../core/model';
import { predict } from '../core/predict';
import { markdownReport, summarize } from '../core/report';
import { simulate } from '../core/simulate';
import { readConfig } from '../infra/config';
import { writeReportFiles } from '../infra/reportFiles';
import { locateRepo } from '../infra/session';
import { int, mode, readStateReadOnly, UsageError, type CliIo } from './cliSupport';
import { statusEta } from './workflowCommands';

/** orchard status: tickets by status, with the predicted completion. */
export async function statusCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
  const state = await readStateReadOnly(io);
  if (values.json) {
    const cfg = readConfig((await locateRepo(io.cwd)).stateDir, 'main');
    const prediction = predict(state, Date.now(), { agents: cfg.maxAgents, mode: cfg.mode, overlapThreshold: cfg.overlapThreshold });
    io.out(
      JSON.stringify(
        { tickets: Object.values(state.tickets), runs: Object.values(state.runs), locks: state.locks, summary: summarize(state, Date.now()), prediction },
        null,
        2,
      ),
    );
    return 0;
  }
  const byStatus = new Map<string, string[]>();
  for (const t of Object.values(state.tickets)) {
    byStatus.set(t.status, [...(byStatus.get(t.status) ?? []), `  ${t.id} [${t.priority}] ${t.title}${t.reason ? ` — ${t.reason}` : ''}`]);
  }
  if (byStatus.size === 0) io.out('No tickets. Add one with "orchard add --title ..." or "orchard import tickets.json".');
  for (const [status, lines] of byStatus) io.out(`${status} (${lines.length})\n${lines.join('\n')}`);
  const eta = statusEta(state, readConfig((await locateRepo(io.cwd)).stateDir, 'main'));
  if (eta) io.out(eta);
  return 0;
}

/** orchard escalations: the questions waiting for a person. */
export async function escalationsCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
  const state = await readStateReadOnly(io);
  const open = Object.values(state.escalations).filter((e) => !e.answer);
  if (values.json) {
    io.out(JSON.stringify(open, null, 2));
    return 0;
  }
  if (open.length === 0) io.out('No question is waiting for you.');
  for (const e of open) {
    io.out(`${e.id}  ${e.ticketId} [${e.trigger}] ${e.question}`);
    if (e.context) io.out(`    ${e.context.split('\n').slice(0, 6).join('\n    ')}`);
    if (e.options.length) io.out(`    options: ${e.options.map((x) => JSON.stringify(x)).join(', ')}`);
    io.out(`    answer: orchard answer ${e.id} ${e.options.length ? `--option ${JSON.stringify(e.options[0])}` : '--text "…"'}`);
  }
  return 0;
}

/** orchard report: the markdown report (and a dashboard snapshot with --out). */
export async function reportCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
  const state = await readStateReadOnly(io);
  if (values.out) {
    const paths = await locateRepo(io.cwd);
    const cfg = readConfig(paths.stateDir, paths.branch ?? 'main');
    const files = writeReportFiles(state, Date.now(), cfg.maxAgents, resolve(io.cwd, values.out), cfg.mode);
    io.out(`report written to ${files.markdown}\ndashboard snapshot written to ${files.html}`);
  } else io.out(markdownReport(state, Date.now()));
  return 0;
}

/** orchard simulate: a schedule on a virtual clock. */
export async function simulateCommand(rest: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { agents: { type: 'string' }, mode: { type: 'string' }, policy: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length === 0) throw new UsageError('simulate needs a tickets file: orchard simulate tickets.json --agents 3');
  const files = positionals.map((f) => ({ name: basename(f), text: readFileSync(resolve(io.cwd, f), 'utf8') }));
  const tickets: TicketSpec[] = importTickets(files);
  const policy = (values.policy ?? 'orchard') as 'orchard' | 'wave' | 'fifo';
  if (!['orchard', 'wave', 'fifo'].includes(policy)) throw new UsageError('--policy must be orchard, wave or fifo');
  const r = simulate(tickets, { agents: int('agents', values.agents ?? '3', 1, 1024)!, mode: mode(values.mode) ?? 'locking', policy });
  if (values.json) io.out(JSON.stringify(r));
  else {
    io.out(`makespan ${r.makespan} min, lower bound ${r.lowerBound} min (ratio ${(r.makespan / r.lowerBound).toFixed(3)}), total work ${r.totalWork} min`);
    for (const t of [...r.tickets].sort((a, b) => a.start - b.start))
      io.out(`  slot ${t.slot}  ${String(t.start).padStart(6)} → ${String(t.end).padEnd(6)} ${t.id}`);
  }
  return 0;
}
