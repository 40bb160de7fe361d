// `orchard run`: the batch in this process (agents headless, or in tmux), with its events
// printed as they happen; Ctrl-C stops the agents and a later run resumes.
import { parseArgs } from 'node:util';
import type { Orchestrator } from '../core/orchestrator';
import { formatDuration, summarize } from '../core/report';
import type { OrchardConfig } from '../infra/config';
import { TmuxRunnerHost } from '../infra/agents/tmuxHost';
import { checkCliVersion } from '../infra/agents/versionCheck';
import { int, mode, UsageError, withSession, type CliIo } from './cliSupport';

export function printEvents(o: Orchestrator, out: (s: string) => void): void {
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  o.onDidChange(({ events, state }) => {
    for (const e of events) {
      if (e.type === 'ticket-status') {
        const t = state.tickets[e.id]!;
        const icon = { running: '▶', done: '✔', failed: '✖', blocked: '⏸', escalated: '?', 'in-review': '👁', merging: '⇢', 'queued-for-merge': '…' }[
          e.to as string
        ];
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
        out(
          `${stamp()} ${g.passed ? '✓' : '✗'} ${(state.runs[e.runId]?.ticketId ?? '').padEnd(6)} gate ${g.name}: ${g.status}${g.round ? ` (round ${g.round})` : ''} in ${(g.durationMs / 1000).toFixed(1)} s${g.passed ? '' : g.feedback ? ` — ${g.feedback.split('\n')[0]}` : g.output ? ` — ${g.output.trim().split('\n').slice(-1)[0]}` : ''}`,
        );
      } else if (e.type === 'merge-conflict') {
        out(`${stamp()} ⚡ ${e.id.padEnd(6)} merge conflict in ${e.files.join(', ')}${e.predicted ? ' (predicted by merge-tree)' : ''}`);
      } else if (e.type === 'run-progress' && e.progress !== undefined) {
        const r = state.runs[e.runId];
        if (r)
          out(
            `${stamp()}   ${r.ticketId.padEnd(6)} ${'█'.repeat(Math.round(e.progress / 10)).padEnd(10, '░')} ${String(e.progress).padStart(3)}% ${e.message ?? ''}`,
          );
      }
    }
  });
}

/** orchard run: runs the batch until it is idle (or Ctrl-C). */
export async function runBatchCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: { agents: { type: 'string' }, mode: { type: 'string' }, agent: { type: 'string' }, quiet: { type: 'boolean' }, terminal: { type: 'string' } },
  });
  const overrides: Partial<OrchardConfig> = {
    ...(values.agents !== undefined && { maxAgents: int('agents', values.agents, 1, 64) }),
    ...(values.mode !== undefined && { mode: mode(values.mode) }),
    ...(values.agent !== undefined && { defaultAgent: values.agent }),
  };
  if (values.terminal !== undefined && values.terminal !== 'tmux') throw new UsageError(`--terminal takes "tmux", got "${values.terminal}"`);
  if (values.terminal === 'tmux' && !TmuxRunnerHost.available())
    throw new UsageError('--terminal tmux needs tmux on PATH (Debian/Ubuntu: apt-get install tmux)');
  const tmux = values.terminal === 'tmux' ? new TmuxRunnerHost({ socket: process.env.ORCHARD_TMUX_SOCKET || 'orchard' }) : undefined;
  return withSession(
    io,
    overrides,
    async (s) => {
      const o = s.orchestrator;
      if (!values.quiet) printEvents(o, io.out);
      // A CLI at another version than the tested one is worth a line before the batch starts.
      const profiles = new Set(
        Object.values(o.snapshot.tickets)
          .filter((t) => !['done', 'cancelled', 'failed'].includes(t.status))
          .map((t) => t.agent ?? s.config.defaultAgent),
      );
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
      io.out(
        `\n${sum.done}/${sum.tickets} tickets done, ${sum.failed} failed; wall ${formatDuration(sum.wallMs)}, agent time ${formatDuration(sum.agentMs)}, speedup ${sum.speedup.toFixed(2)}×`,
      );
      if (interrupted) {
        io.out('interrupted: run "orchard run" again to resume the batch');
        return 130;
      }
      return sum.done === sum.tickets ? 0 : 1;
    },
    tmux,
  );
}
