// The headless `orchard` command: init, add, import, run, status, simulate, report.
import { errorText } from '../core/errors';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importTickets, ImportError } from '../core/importers';
import { wayOutOf } from '../core/waysOut';
import { MODES, PRIORITIES, type Mode, type OrchardState, type TicketSpec } from '../core/model';
import { markdownReport, summarize, formatDuration } from '../core/report';
import { simulate } from '../core/simulate';
import type { Orchestrator } from '../core/orchestrator';
import { readConfig, validateConfig, writeConfig, defaultConfig, type OrchardConfig } from '../infra/config';
import { writeReportFiles } from '../infra/reportFiles';
import { consoleLogger, locateRepo, openSession, type Session } from '../infra/session';
import { FileStateStore } from '../infra/store';
import { addTicket, importTicketFiles } from '../infra/ticketIntake';
import { formatStale } from '../infra/git/worktrees';
import { runWorkflowCli, statusEta, WORKFLOW_HELP } from './workflowCommands';
import { predict } from '../core/predict';
import { TmuxRunnerHost } from '../infra/agents/tmuxHost';
import { checkCliVersion } from '../infra/agents/versionCheck';
import type { RunnerHost } from '../infra/agents/launcher';
import { asWriterOrInbox } from './writerRequest';
import { REVIEW_HELP, runReviewCli } from './reviewCommands';

export class UsageError extends Error {
  readonly reason = 'usage';
}

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
  distDir: string;
}

const HELP = `orchard — run AI coding agents in parallel worktrees

usage:
  orchard init [--agents N] [--mode queue|locking|isolation] [--agent PROFILE] [--target BRANCH] [--test-command ARGV_JSON]
  orchard add --title TEXT [--id ID] [--prompt TEXT] [--priority P0..P3] [--depends ID,ID] [--files GLOB,GLOB] [--agent PROFILE] [--estimate MIN]
  orchard import FILE...            tickets.json or ws-*.json workstream files
  orchard run [--agents N] [--mode M] [--agent PROFILE] [--terminal tmux]
                                    --terminal tmux: each agent's interactive UI in a tmux session
                                    (tmux -L orchard attach -t orchard-T1); Ctrl-C stops the agents
                                    within seconds, and the next "orchard run" resumes the batch
  orchard escalations [--json]      the questions waiting for you
  orchard answer ID (--option TEXT | --text TEXT)...   answers one (also while "orchard run" runs)
  orchard status [--json]
  orchard worktrees [--reclaim] [--confirm]   list worktrees/branches (disk shown); reclaim merged ones, --confirm also unmerged (commits archived)
  orchard report [--out FILE]
  orchard resolve TICKET open|continue|send-back|keep|discard|merge-now|stash-and-update [--yes]
                                    the ways out of a conflict or a dirty checkout
  orchard simulate FILE --agents K [--mode M] [--policy orchard|wave|fifo] [--json]
${REVIEW_HELP}
${WORKFLOW_HELP}
`;

function requireWriter(s: Session): asserts s is Extract<Session, { role: 'writer' }> {
  if (s.role !== 'writer') throw new UsageError(s.message);
}

async function withSession<T>(io: CliIo, config: Partial<OrchardConfig>, fn: (s: Extract<Session, { role: 'writer' }>) => Promise<T>, host?: RunnerHost): Promise<T> {
  const s = await openSession({ cwd: io.cwd, owner: 'orchard CLI', distDir: io.distDir, config, log: consoleLogger(true), ...(host && { host }) });
  try {
    requireWriter(s);
    return await fn(s);
  } finally {
    await s.close();
  }
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
}

function mode(v: string | undefined): Mode | undefined {
  if (v === undefined) return undefined;
  if (!MODES.includes(v as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${v}"`);
  return v as Mode;
}

const list = (v: string | undefined): string[] => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

async function readStateReadOnly(io: CliIo): Promise<OrchardState> {
  const paths = await locateRepo(io.cwd);
  return new FileStateStore(paths.stateDir, { readOnly: true }).load();
}


export function printEvents(o: Orchestrator, out: (s: string) => void): void {
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  o.onDidChange(({ events, state }) => {
    for (const e of events) {
      if (e.type === 'ticket-status') {
        const t = state.tickets[e.id]!;
        const icon = { running: '▶', done: '✔', failed: '✖', blocked: '⏸', escalated: '?', 'in-review': '👁', merging: '⇢', 'queued-for-merge': '…' }[e.to as string];
        if (icon) out(`${stamp()} ${icon} ${e.id.padEnd(6)} ${e.to.padEnd(16)} ${t.title}${e.reason ? ` — ${e.reason}` : ''}`);
        if (e.to === 'in-review') out(`         review it: orchard review show ${e.id}, then orchard review approve ${e.id} (or request-changes / discard)`);
        else if (e.to === 'ready' && e.reason?.startsWith('changes requested')) out(`${stamp()} ↩ ${e.id.padEnd(6)} ${e.reason}`);
        else if (e.to === 'ready' && e.reason?.startsWith('retry')) out(`${stamp()} ↻ ${e.id.padEnd(6)} ${e.reason}`);
        else if (e.to === 'ready' && e.reason && /rate limited|interrupted/.test(e.reason)) out(`${stamp()} ⏸ ${e.id.padEnd(6)} ${e.reason}`);
      } else if (e.type === 'starts-paused') {
        out(`${stamp()} ${e.reason ? `⏸ ${e.reason}` : '▶ new starts resumed'}`);
      } else if (e.type === 'escalation-raised') {
        const x = e.escalation;
        out(`${stamp()} ? ${x.ticketId.padEnd(6)} asks: ${x.question}${x.options.length ? ` [${x.options.join(' / ')}]` : ''}`);
      } else if (e.type === 'escalation-answered') {
        const x = state.escalations[e.id];
        out(`${stamp()} ↳ ${(x?.ticketId ?? '').padEnd(6)} answered by ${e.answer.by}: ${[e.answer.option, e.answer.guidance].filter(Boolean).join(' — ')}`);
      } else if (e.type === 'gate-finished') {
        const g = e.result;
        out(`${stamp()} ${g.passed ? '✓' : '✗'} ${(state.runs[e.runId]?.ticketId ?? '').padEnd(6)} gate ${g.name}: ${g.status}${g.round ? ` (round ${g.round})` : ''} in ${(g.durationMs / 1000).toFixed(1)} s${g.passed ? '' : g.feedback ? ` — ${g.feedback.split('\n')[0]}` : g.output ? ` — ${g.output.trim().split('\n').slice(-1)[0]}` : ''}`);
      } else if (e.type === 'merge-conflict') {
        out(`${stamp()} ⚡ ${e.id.padEnd(6)} merge conflict in ${e.files.join(', ')}${e.predicted ? ' (predicted by merge-tree)' : ''}`);
      } else if (e.type === 'run-progress' && e.progress !== undefined) {
        const r = state.runs[e.runId];
        if (r) out(`${stamp()}   ${r.ticketId.padEnd(6)} ${'█'.repeat(Math.round(e.progress / 10)).padEnd(10, '░')} ${String(e.progress).padStart(3)}% ${e.message ?? ''}`);
      }
    }
  });
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(HELP);
      return 0;
    case 'init': {
      const { values } = parseArgs({ args: rest, options: { agents: { type: 'string' }, mode: { type: 'string' }, agent: { type: 'string' }, target: { type: 'string' }, 'test-command': { type: 'string' } } });
      const paths = await locateRepo(io.cwd);
      mkdirSync(paths.stateDir, { recursive: true });
      const current = existsSync(join(paths.stateDir, 'config.json')) ? readConfig(paths.stateDir, paths.branch ?? 'main') : defaultConfig(paths.branch ?? 'main');
      let testCommand = current.testCommand;
      if (values['test-command'] !== undefined) {
        try {
          testCommand = JSON.parse(values['test-command']) as string[];
        } catch {
          throw new UsageError(`--test-command takes a JSON argv array such as '["npm","test"]'`);
        }
      }
      const config = validateConfig(
        {
          ...current,
          ...(values.agents !== undefined && { maxAgents: int('agents', values.agents, 1, 64) }),
          ...(values.mode !== undefined && { mode: mode(values.mode) }),
          ...(values.agent !== undefined && { defaultAgent: values.agent }),
          ...(values.target !== undefined && { targetBranch: values.target }),
          testCommand,
        },
        '--options',
      );
      writeConfig(paths.stateDir, config);
      io.out(`Orchard is set up in ${paths.repo}\n  state: ${paths.stateDir}\n  target branch: ${config.targetBranch}, ${config.maxAgents} agents, ${config.mode} mode, default agent ${config.defaultAgent}`);
      return 0;
    }
    case 'add': {
      const { values } = parseArgs({
        args: rest,
        options: {
          id: { type: 'string' },
          title: { type: 'string' },
          prompt: { type: 'string' },
          priority: { type: 'string' },
          depends: { type: 'string' },
          files: { type: 'string' },
          labels: { type: 'string' },
          agent: { type: 'string' },
          estimate: { type: 'string' },
        },
      });
      if (!values.title) throw new UsageError('add needs --title TEXT');
      if (values.priority && !PRIORITIES.includes(values.priority as never)) throw new UsageError(`--priority must be one of ${PRIORITIES.join(', ')}`);
      return withSession(io, {}, async (s) => {
        const ticket = await addTicket(
          { orchestrator: s.orchestrator, repo: s.paths.repo },
          {
            ...(values.id && { id: values.id }),
            title: values.title!,
            ...(values.prompt && { prompt: values.prompt }),
            ...(values.priority && { priority: values.priority }),
            dependsOn: list(values.depends),
            files: list(values.files),
            labels: list(values.labels),
            ...(values.agent && { agent: values.agent }),
            ...(values.estimate && { estimate: Number(values.estimate) }),
          },
          'orchard add',
        );
        io.out(`added ${ticket.id}: ${ticket.title}`);
        return 0;
      });
    }
    case 'import': {
      if (rest.length === 0) throw new UsageError('import needs at least one file: orchard import tickets.json');
      const files = rest.map((f) => {
        const p = resolve(io.cwd, f);
        if (!existsSync(p)) throw new UsageError(`${f}: no such file`);
        return { name: basename(p), text: readFileSync(p, 'utf8') };
      });
      return withSession(io, {}, async (s) => {
        const tickets = await importTicketFiles({ orchestrator: s.orchestrator, repo: s.paths.repo }, files);
        io.out(`imported ${tickets.length} tickets: ${tickets.map((t) => t.id).join(', ')}`);
        return 0;
      });
    }
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { agents: { type: 'string' }, mode: { type: 'string' }, agent: { type: 'string' }, quiet: { type: 'boolean' }, terminal: { type: 'string' } } });
      const overrides: Partial<OrchardConfig> = {
        ...(values.agents !== undefined && { maxAgents: int('agents', values.agents, 1, 64) }),
        ...(values.mode !== undefined && { mode: mode(values.mode) }),
        ...(values.agent !== undefined && { defaultAgent: values.agent }),
      };
      if (values.terminal !== undefined && values.terminal !== 'tmux') throw new UsageError(`--terminal takes "tmux", got "${values.terminal}"`);
      if (values.terminal === 'tmux' && !TmuxRunnerHost.available()) throw new UsageError('--terminal tmux needs tmux on PATH (Debian/Ubuntu: apt-get install tmux)');
      const tmux = values.terminal === 'tmux' ? new TmuxRunnerHost({ socket: process.env.ORCHARD_TMUX_SOCKET || 'orchard' }) : undefined;
      return withSession(io, overrides, async (s) => {
        const o = s.orchestrator;
        if (!values.quiet) printEvents(o, io.out);
        // A CLI at another version than the tested one is worth a line before the batch starts.
        const profiles = new Set(Object.values(o.snapshot.tickets).filter((t) => !['done', 'cancelled', 'failed'].includes(t.status)).map((t) => t.agent ?? s.config.defaultAgent));
        for (const p of profiles) {
          const v = await checkCliVersion(p);
          if (v?.warning) io.err(`warning: ${v.warning}`);
        }
        if (tmux) io.out(`agents run in tmux: tmux -L ${tmux.socket} ls, then tmux -L ${tmux.socket} attach -t <session>`);
        // Ctrl-C: the agents are stopped (their work kept; the attempts count for nothing) and
        // the command ends within seconds; pending retries wait for the next "orchard run".
        let interrupted = false;
        let stopped: Promise<void> | undefined;
        const stop = () => {
          if (interrupted) process.exit(130);
          interrupted = true;
          io.err('\nstopping the agents (Ctrl-C again to leave at once); "orchard run" resumes the batch');
          stopped = o.stopAll('interrupted (Ctrl-C)');
        };
        process.on('SIGINT', stop);
        try {
          await o.start();
          await Promise.race([o.whenIdle(), new Promise<void>((resolve) => process.once('SIGINT', () => void stopped?.then(() => resolve())))]);
        } finally {
          process.off('SIGINT', stop);
        }
        const sum = summarize(o.snapshot, Date.now());
        io.out(`\n${sum.done}/${sum.tickets} tickets done, ${sum.failed} failed; wall ${formatDuration(sum.wallMs)}, agent time ${formatDuration(sum.agentMs)}, speedup ${sum.speedup.toFixed(2)}×`);
        if (interrupted) {
          io.out('interrupted: run "orchard run" again to resume the batch');
          return 130;
        }
        return sum.done === sum.tickets ? 0 : 1;
      }, tmux);
    }
    case 'escalations': {
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
    case 'answer': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { option: { type: 'string' }, text: { type: 'string' } } });
      const [id] = positionals;
      if (!id || (values.option === undefined && values.text === undefined)) throw new UsageError('answer needs an escalation id and --option or --text: orchard answer T3-r1-esc-1 --option Postgres (see "orchard escalations")');
      const state = await readStateReadOnly(io);
      const e = state.escalations[id];
      if (!e) throw new UsageError(`there is no escalation "${id}"; "orchard escalations" lists the open ones`);
      if (e.answer) throw new UsageError(`${id} was already answered by ${e.answer.by}`);
      if (values.option !== undefined && e.options.length && !e.options.includes(values.option))
        throw new UsageError(`--option must be one of ${e.options.map((x) => JSON.stringify(x)).join(', ')} for ${id}; or answer in words with --text`);
      const answer = { option: values.option, guidance: values.text };
      if (wayOutOf(e, values.option) === 'later') {
        io.out(`${id} stays open: ${e.ticketId} waits until you choose another way out (orchard resolve ${e.ticketId} merge-now|stash-and-update|…)`);
        return 0;
      }
      return asWriterOrInbox(io, { kind: 'answer', escalationId: id, ...answer }, (o) => o.answer(id, { ...answer, by: 'human' }), `answered ${id}`);
    }
    case 'worktrees': {
      const { values } = parseArgs({ args: rest, options: { reclaim: { type: 'boolean' }, confirm: { type: 'boolean' } } });
      return withSession(io, {}, async (s) => {
        const live = new Set(Object.values(s.orchestrator.snapshot.runs).filter((r) => r.endedAt === undefined).map((r) => r.ticketId));
        const wt = s.workspace.worktrees;
        const items = await wt.listStale(live);
        io.out(formatStale(items));
        if (!values.reclaim) return 0;
        const res = await wt.reclaim(items, { confirm: values.confirm });
        for (const r of res.removed) io.out(`removed ${r}`);
        for (const k of res.kept) io.out(`kept ${k.what}: ${k.why}`);
        for (const a of res.archived) io.out(`commits kept on ${a}`);
        return 0;
      });
    }
    case 'status': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      const state = await readStateReadOnly(io);
      if (values.json) {
        const cfg = readConfig((await locateRepo(io.cwd)).stateDir, 'main');
        const prediction = predict(state, Date.now(), { agents: cfg.maxAgents, mode: cfg.mode, overlapThreshold: cfg.overlapThreshold });
        io.out(JSON.stringify({ tickets: Object.values(state.tickets), runs: Object.values(state.runs), locks: state.locks, summary: summarize(state, Date.now()), prediction }, null, 2));
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
    case 'report': {
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
    case 'resolve': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { yes: { type: 'boolean' } } });
      const [id, action] = positionals;
      const actions = ['open', 'continue', 'send-back', 'keep', 'discard', 'merge-now', 'stash-and-update'];
      if (!id || !action || !actions.includes(action)) throw new UsageError(`resolve needs a ticket and one of ${actions.join(', ')}: orchard resolve T3 open`);
      return withSession(io, {}, async (s) => {
        const o = s.orchestrator;
        if (action === 'open') {
          const r = await o.openConflict(id);
          io.out(r.files.length ? `Resolve these files in ${r.dir}, then run "orchard resolve ${id} continue":\n${r.files.map((f) => `  ${f}`).join('\n')}` : `${id} merges cleanly now.`);
        } else if (action === 'continue') {
          const r = await o.continueMerge(id);
          io.out(r.kind === 'conflict' ? `Still conflicted: ${r.files.join(', ')}` : `${id}: ${r.kind}${r.kind === 'merged' ? ` as ${r.commit.slice(0, 8)}` : ''}`);
        } else if (action === 'send-back') {
          await o.sendBack(id);
          io.out(`${id} goes back to its agent with the conflict; "orchard run" starts it.`);
        } else if (action === 'keep') {
          await o.keepForLater(id);
          io.out(`${id} is kept for later on its branch.`);
        } else if (action === 'discard') {
          if (!values.yes) throw new UsageError(`discarding ${id} needs --yes (its branch is kept under refs/orchard/discarded/${id}/)`);
          const r = await o.discard(id, true);
          io.out(`${id} discarded${r.ref ? `; its work is kept at ${r.ref}` : ''}.`);
        } else {
          if (action === 'stash-and-update') await o.stashAndUpdate(id);
          else await o.mergeNow(id);
          const t = o.snapshot.tickets[id]!;
          io.out(`${id}: ${t.status}${t.reason ? ` — ${t.reason}` : ''}`);
        }
        return 0;
      });
    }
    case 'simulate': {
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
        for (const t of [...r.tickets].sort((a, b) => a.start - b.start)) io.out(`  slot ${t.slot}  ${String(t.start).padStart(6)} → ${String(t.end).padEnd(6)} ${t.id}`);
      }
      return 0;
    }
    case 'review':
      return runReviewCli(rest, io);
    case 'workflow':
    case 'plan':
    case 'proposal':
    case 'proposals':
      return runWorkflowCli(cmd, rest, io);
    default:
      throw new UsageError(`unknown command "${cmd}"\n${HELP}`);
  }
}

export function describeError(e: unknown): string {
  if (ImportError.is(e)) return e.message;
  return errorText(e);
}
