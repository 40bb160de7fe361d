// GatePort on Node: command gates run their argv (never a shell) in the run's worktree with
// a timeout; reviewer gates start a reviewer agent through the AgentLauncher with a review
// prompt and read its verdict. Every gate's full output is kept under
// <stateDir>/runs/<run>/gates/<gate>.log; the result carries its last lines.
import { errorText } from '../../core/errors';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { DEFAULT_GATE_TIMEOUT_SECONDS, parseVerdict, reviewPrompt } from '../../core/gates';
import type { GateResult, GateSpec, Run, Ticket } from '../../core/model';
import type { AgentPort, AgentReport, Clock, GatePort, Logger } from '../../core/ports';
import { gitText } from '../git/run';
import { runFiles } from '../runner/protocol';

export interface GateRunnerOptions {
  /** `<common dir>/orchard` */
  stateDir: string;
  /** Starts reviewer agents (the session's AgentLauncher). */
  agents: AgentPort;
  log: Logger;
  clock?: Pick<Clock, 'now'>;
  /** Extra environment for command gates. */
  env?: Record<string, string>;
}

const TAIL_LINES = 30;

export function tailLines(text: string, n = TAIL_LINES): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n').slice(-4000);
}

export class GateRunner implements GatePort {
  constructor(private readonly opts: GateRunnerOptions) {}

  private now(): number {
    return this.opts.clock?.now() ?? Date.now();
  }

  gatesDir(runId: string): string {
    return join(this.opts.stateDir, 'runs', runId, 'gates');
  }

  outputFile(runId: string, gate: string): string {
    return join(this.gatesDir(runId), `${gate}.log`);
  }

  async run(gate: GateSpec & { required?: boolean }, ticket: Ticket, run: Run, round: number): Promise<GateResult> {
    mkdirSync(this.gatesDir(run.id), { recursive: true });
    try {
      return gate.kind === 'reviewer' ? await this.review(gate, ticket, run, round) : await this.command(gate, run);
    } catch (err) {
      const msg = errorText(err);
      const outputFile = this.outputFile(run.id, gate.name);
      writeFileSync(outputFile, `${gate.name} could not run: ${msg}\n`);
      return {
        name: gate.name,
        kind: gate.kind,
        passed: false,
        status: 'error',
        required: gate.required,
        startedAt: this.now(),
        durationMs: 0,
        outputFile,
        output: msg,
      };
    }
  }

  private async command(gate: GateSpec & { required?: boolean }, run: Run): Promise<GateResult> {
    const argv = gate.argv ?? [];
    if (argv.length === 0) throw new Error(`gate ${gate.name} has no argv`);
    const startedAt = this.now();
    const t0 = Date.now();
    const timeoutMs = (gate.timeoutSeconds ?? DEFAULT_GATE_TIMEOUT_SECONDS) * 1000;
    const [cmd, ...args] = argv;
    const r = await execa(cmd!, args, {
      cwd: run.worktree,
      reject: false,
      all: true,
      timeout: timeoutMs,
      stdin: 'ignore',
      env: { ...this.opts.env, ORCHARD_GATE: gate.name, ORCHARD_RUN_ID: run.id, ORCHARD_TICKET_ID: run.ticketId },
    });
    const durationMs = Date.now() - t0;
    const all = String(r.all ?? '');
    const header = `$ ${argv.map((a) => (/[\s"'$`\\]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n(in ${run.worktree})\n`;
    const status: GateResult['status'] = r.timedOut ? 'timeout' : r.exitCode === 0 ? 'passed' : r.exitCode === undefined ? 'error' : 'failed';
    const footer = r.timedOut
      ? `\n[timed out after ${timeoutMs / 1000} s]\n`
      : `\n[exit ${r.exitCode ?? r.signal ?? r.code ?? '?'} after ${(durationMs / 1000).toFixed(1)} s]\n`;
    const outputFile = this.outputFile(run.id, gate.name);
    writeFileSync(outputFile, header + all + footer);
    return {
      name: gate.name,
      kind: 'command',
      passed: status === 'passed',
      status,
      required: gate.required,
      startedAt,
      durationMs,
      ...(typeof r.exitCode === 'number' && { exitCode: r.exitCode }),
      outputFile,
      output: tailLines(all || (r.failed && !r.timedOut ? String((r as { shortMessage?: string }).shortMessage ?? '') : '')),
    };
  }

  private async review(gate: GateSpec & { required?: boolean }, ticket: Ticket, run: Run, round: number): Promise<GateResult> {
    const startedAt = this.now();
    const t0 = Date.now();
    const timeoutMs = (gate.timeoutSeconds ?? DEFAULT_GATE_TIMEOUT_SECONDS) * 1000;
    const prompt = reviewPrompt(ticket, { branch: run.branch, base: run.base, round, extra: gate.prompt, files: run.filesChanged });
    const reviewTicket: Ticket = { ...ticket, prompt, agent: gate.agent ?? ticket.agent };
    // The developer's model is for the developer's profile: a reviewer on another profile uses its own.
    const model = gate.agent && gate.agent !== run.profile ? undefined : run.model;
    const reviewRun: Run = { ...run, id: `${run.id}-review-${gate.name}`, attempt: round, startedAt, endedAt: undefined, context: undefined, model };
    const headBefore = await gitText(run.worktree, ['rev-parse', 'HEAD']);
    const handle = await this.opts.agents.start(reviewTicket, reviewRun);
    const messages: string[] = [];
    handle.onReport?.((r: AgentReport) => {
      if (r.message) messages.push(r.message);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void handle.stop(`review timed out after ${timeoutMs / 1000} s`);
    }, timeoutMs);
    const exit = await handle.exited.finally(() => clearTimeout(timer));
    const durationMs = Date.now() - t0;
    const runDir = join(this.opts.stateDir, 'runs', reviewRun.id);
    const files = runFiles(runDir);
    let log = '';
    try {
      log = readFileSync(files.log, 'utf8');
    } catch {
      /* a terminal host may not log */
    }
    let progress = '';
    try {
      progress = readFileSync(files.progress, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          try {
            return String((JSON.parse(l) as { message?: unknown }).message ?? '');
          } catch {
            return '';
          }
        })
        .join('\n');
    } catch {
      /* none */
    }
    let verdictFile = '';
    const vf = join(runDir, 'verdict.json');
    if (existsSync(vf)) verdictFile = readFileSync(vf, 'utf8');
    // What the reviewer said, in order of authority: verdict.json, orchard-agent messages, its output.
    const said = [log, progress, messages.join('\n'), verdictFile].join('\n');
    const v = parseVerdict(said);
    const headAfter = await gitText(run.worktree, ['rev-parse', 'HEAD']);
    const notes: string[] = [];
    if (headAfter !== headBefore) notes.push(`note: the reviewer committed to ${run.branch} (${headBefore.slice(0, 8)} → ${headAfter.slice(0, 8)})`);
    const status: GateResult['status'] = timedOut ? 'timeout' : v.verdict === 'approve' ? 'approved' : v.verdict === 'reject' ? 'rejected' : 'error';
    const outputFile = this.outputFile(run.id, gate.name);
    writeFileSync(
      outputFile,
      `reviewer ${gate.name} (profile ${reviewTicket.agent ?? 'default'}), round ${round}, exit ${exit.exitCode ?? exit.signal ?? '?'}\n--- prompt ---\n${prompt}\n--- output ---\n${log}\n--- messages ---\n${progress}\n${notes.join('\n')}\n--- verdict: ${v.verdict}${v.feedback ? `\n${v.feedback}` : ''}\n`,
    );
    return {
      name: gate.name,
      kind: 'reviewer',
      passed: status === 'approved',
      status,
      required: gate.required,
      startedAt,
      durationMs,
      ...(exit.exitCode !== null && { exitCode: exit.exitCode }),
      outputFile,
      output: tailLines([log, progress, ...notes].filter(Boolean).join('\n'), 12) || (v.verdict === 'none' ? 'the reviewer gave no VERDICT line' : ''),
      ...(v.feedback && { feedback: v.feedback }),
      round,
    };
  }
}
