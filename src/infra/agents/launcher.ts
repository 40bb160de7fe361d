// AgentPort: writes the run folder (spec, ticket, token, orchard-agent on PATH, Claude Code
// hooks in the worktree) and starts Orchard's runner through a RunnerHost: headless as a
// child process logging to the run's log file, or (in VS Code) as the process of a terminal.
// The handle reads the run folder: progress lines, questions and lock requests carrying the
// run's token, the agent's agent-status.json (file watcher), the runner's heartbeat and exit.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { spawn } from 'node:child_process';
import type { Run, Ticket } from '../../core/model';
import type { AgentExit, AgentHandle, AgentPort, LockAnswer, Logger, TicketRequestAnswer } from '../../core/ports';
import { HEARTBEAT_STALE_MS, runFiles, takeClaim, type RunSpec, type RunnerStatus } from '../runner/protocol';
import { isSameProcess, pidAlive } from '../process';
import { composePrompt, expandArgv, resolveProfile, type AgentProfile } from './profiles';
import { BUILTIN_CLIS, type CliDefinition } from './clis';
import { CheckoutGuard } from './watch/checkoutGuard';
import { readJson, writeJsonAtomic } from './watch/files';
import { OutputReader } from './watch/outputReader';
import { ProgressReader } from './watch/progressReader';
import { RequestReader } from './watch/requestReader';
import { RunnerExitWatch, settleExit } from './watch/runnerExit';
import { RunSession } from './watch/runSession';
import { ScreenReader } from './watch/screenReader';
import { StatusFileReader } from './watch/statusFileReader';

/** The built-in CLI a profile is (or extends, by its command), if any. */
export function cliOf(profile: AgentProfile): CliDefinition | undefined {
  // A custom profile with `hooks: 'claude'` (a wrapper around Claude Code) is prepared as Claude Code is.
  return (
    BUILTIN_CLIS[profile.name] ??
    Object.values(BUILTIN_CLIS).find((c) => c.profile.argv[0] === profile.argv[0]) ??
    (profile.hooks === 'claude' ? BUILTIN_CLIS.claude : undefined)
  );
}

/** Starts the runner for a run folder. */
export interface RunnerHost {
  readonly interactive: boolean;
  launch(runDir: string, runnerArgv: string[], ticket: Ticket, run: Run): Promise<{ pid?: number }>;
  /** Tells the host the run's state changed (the terminal shows it in its name/icon/colour). */
  update?(runId: string, state: RunDisplayState): void;
  /** Types into the run's terminal: literal text, then named keys (Enter, Escape, Down, C-c…). */
  sendKeys?(runId: string, input: TerminalInput): Promise<void>;
  /** The host's terminal closes when its process exits (VS Code): the runner keeps it open, readable. */
  readonly keepOpen?: boolean;
  /** The visible text of the run's terminal, where the host can read it (tmux). */
  readScreen?(runId: string): Promise<string | undefined>;
}

export interface TerminalInput {
  text?: string;
  keys?: string[];
}

export type RunDisplayState = 'running' | 'needs-input' | 'done' | 'failed' | 'stopping';

/** Node binary for child processes: inside Electron, process.execPath is Electron running as node. */
export const NODE_ENV_FOR_ELECTRON = { ELECTRON_RUN_AS_NODE: '1' };

export class HeadlessRunnerHost implements RunnerHost {
  readonly interactive = false;
  async launch(runDir: string, runnerArgv: string[]): Promise<{ pid?: number }> {
    const [cmd = process.execPath, ...args] = runnerArgv;
    // The log file itself is the runner's stdout/stderr (no pipe through this process), and the
    // runner is detached: it outlives the orchestrator process and is adopted again after a restart.
    const fd = openSync(runFiles(runDir).log, 'a');
    try {
      const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...NODE_ENV_FOR_ELECTRON }, detached: true });
      child.on('error', () => undefined);
      child.unref();
      return { pid: child.pid };
    } finally {
      closeSync(fd);
    }
  }
}

export interface LauncherOptions {
  /** `<common dir>/orchard` */
  stateDir: string;
  /** dist folder holding runner.js and orchard-agent.js */
  distDir: string;
  host: RunnerHost;
  defaultProfile: string;
  profiles?: Record<string, AgentProfile>;
  log: Logger;
  /** Poll interval for the runner's exit file. */
  pollMs?: number;
  /** Extra environment for every agent. */
  env?: Record<string, string>;
  /** A headless log growing past this many bytes means the agent is looping (default 50 MB). */
  maxLogBytes?: number;
  /** Grace between SIGTERM and SIGKILL of the agent's process tree (default 5 s). */
  killGraceMs?: number;
  /** The user agreed that the CLIs may treat this repository's worktrees as trusted (clis/types.ts). */
  trustWorktrees?: boolean;
}

export { pidAlive } from '../process';
export { tail, worktreeHasWork } from './watch/files';
export { AGENT_STATUS_FILE, parseAgentStatus, type AgentStatusFile } from './agentStatus';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface WatchOptions {
  pid?: number;
  profile?: AgentProfile;
  /** Worktree watched for agent-status.json and for being deleted. */
  worktree?: string;
  /** Token hash requests must match (read from the run folder when absent). */
  tokenHash?: string;
  /** Ticket/run ids for the host's display updates. */
  runId?: string;
  /** The branch tip when the attempt began: a turn that ends above it (or with edits) did work. */
  startHead?: string;
}

export class AgentLauncher implements AgentPort {
  constructor(private readonly opts: LauncherOptions) {}

  /** The user's answer to "may the CLIs treat this repository's worktrees as trusted?" (asked once per repository). */
  setTrustWorktrees(value: boolean): void {
    this.opts.trustWorktrees = value;
  }

  runDir(runId: string): string {
    return join(this.opts.stateDir, 'runs', runId);
  }

  private profileFor(ticket: Pick<Ticket, 'agent'>): AgentProfile {
    return resolveProfile(ticket.agent ?? this.opts.defaultProfile, this.opts.profiles);
  }

  async start(ticket: Ticket, run: Run): Promise<AgentHandle> {
    // Never in the process's own folder: with no worktree the agent would work (and commit) in
    // whatever directory Orchard runs from — the user's checkout for the CLI, this repo in tests.
    if (!run.worktree || !isAbsolute(run.worktree))
      throw new Error(`${run.id} has no worktree yet (${JSON.stringify(run.worktree)}); the agent was not started`);
    const profile = this.profileFor(ticket);
    const dir = this.runDir(run.id);
    const files = runFiles(dir);
    mkdirSync(files.bin, { recursive: true });
    // orchard-agent on the agent's PATH, bound to this run.
    const agentCli = join(this.opts.distDir, 'orchard-agent.js');
    const wrapper = join(files.bin, 'orchard-agent');
    // The token goes to the runner in a file it deletes, and into the run's own wrapper: a CLI
    // that strips variables named like secrets from its tools' environment (Gemini CLI under
    // GITHUB_SHA or with redaction on) loses ORCHARD_TOKEN and ORCHARD_RUN_DIR. The launcher
    // keeps only its hash.
    const token = randomBytes(24).toString('hex');
    const sq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `[ -n "$ORCHARD_RUN_DIR" ] || ORCHARD_RUN_DIR=${sq(dir)}`,
        `[ -n "$ORCHARD_TOKEN" ] || ORCHARD_TOKEN=${sq(token)}`,
        'export ORCHARD_RUN_DIR ORCHARD_TOKEN',
        `ELECTRON_RUN_AS_NODE=1 exec ${sq(process.execPath)} ${sq(agentCli)} "$@"`,
        '',
      ].join('\n'),
      { mode: 0o700 },
    );
    chmodSync(wrapper, 0o700);
    writeFileSync(join(dir, 'ticket.json'), JSON.stringify(ticket, null, 2));
    const prompt = composePrompt(ticket, run, run.context);
    // The role's model (core/roles.ts), else the profile's: as an argv element ({model}) and in the environment.
    const model = run.model ?? profile.model;
    const template = this.opts.host.interactive && profile.interactiveArgv ? profile.interactiveArgv : profile.argv;
    writeFileSync(files.token, token, { mode: 0o600 });
    writeFileSync(files.tokenHash, sha256(token));
    const env: Record<string, string> = {
      ...this.opts.env,
      PATH: `${files.bin}:${this.opts.env?.PATH ?? process.env.PATH ?? ''}`,
      // Agents that follow the inherited $PWD (OpenCode) must find their worktree there too.
      PWD: run.worktree,
      ORCHARD_RUN_DIR: dir,
      ORCHARD_RUN_ID: run.id,
      ORCHARD_TICKET_ID: ticket.id,
      ORCHARD_ATTEMPT: String(run.attempt),
      // The model of the ticket's role mapping (core/roles.ts), for profiles and wrappers that take one.
      ...(model && { ORCHARD_MODEL: model }),
      ...(ticket.role && { ORCHARD_ROLE: ticket.role }),
    };
    let argv = expandArgv(template, ticket, run, prompt, model, dir);
    // The CLI's own preparation (clis/<name>.ts): end-of-turn hooks, permissions, trust.
    const cli = cliOf(profile);
    if (cli?.prepare) {
      const prepared = cli.prepare({
        worktree: run.worktree,
        runDir: dir,
        orchardAgent: wrapper,
        interactive: this.opts.host.interactive,
        env: { ...process.env, ...env },
        trustWorktrees: this.opts.trustWorktrees ?? false,
        log: (m) => this.opts.log.info(`${ticket.id}: ${m}`),
      });
      argv = [argv[0]!, ...(prepared.args ?? []), ...argv.slice(1)];
      Object.assign(env, prepared.env);
    }
    const spec: RunSpec = {
      runId: run.id,
      ticketId: ticket.id,
      argv,
      cwd: run.worktree,
      killGraceMs: this.opts.killGraceMs,
      env,
      ...(cli?.endSession && { endSession: cli.endSession }),
      ...(this.opts.host.keepOpen && { keepOpen: true }),
    };
    writeFileSync(files.spec, JSON.stringify(spec, null, 2));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ runId: run.id, ticketId: ticket.id, profile: profile.name, worktree: run.worktree }));
    this.opts.log.info(`${ticket.id}: starting ${profile.name} in ${run.worktree}`);
    const { pid } = await this.opts.host.launch(dir, [process.execPath, join(this.opts.distDir, 'runner.js'), dir], ticket, run);
    return this.watch(dir, { pid, profile, worktree: run.worktree, tokenHash: sha256(token), runId: run.id, startHead: run.startHead });
  }

  /**
   * After a restart: a handle on the run's runner when it still beats (or has already written
   * its exit); undefined when it is gone, so the run is interrupted and retried.
   */
  adopt(run: Run): AgentHandle | undefined {
    const dir = this.runDir(run.id);
    const files = runFiles(dir);
    if (!existsSync(files.spec)) return undefined;
    const meta = readJson<{ profile?: string }>(join(dir, 'run.json'));
    let profile: AgentProfile | undefined;
    try {
      profile = meta?.profile ? resolveProfile(meta.profile, this.opts.profiles) : undefined;
    } catch {
      profile = undefined;
    }
    const common = { profile, worktree: run.worktree, runId: run.id, startHead: run.startHead };
    if (existsSync(files.exit)) return this.watch(dir, common);
    const status = readJson<RunnerStatus>(files.status);
    if (!status) {
      // No runner seen yet. Give the run up, so a runner still starting never starts its agent;
      // if it has already claimed the run, it is starting: adopt it and wait for its status.
      if (takeClaim(files.claim)) return undefined;
      this.opts.log.info(`${run.ticketId}: its runner is starting; adopted`);
      return this.watch(dir, common);
    }
    // A late heartbeat on a loaded machine is not a dead runner when the pid is provably the
    // same process (its start time); without that proof only a fresh heartbeat counts.
    const age = Date.now() - status.heartbeatAt;
    const proven = !!status.startToken && isSameProcess(status.runnerPid, status.startToken);
    if ((proven && age < 60_000) || (!status.startToken && isSameProcess(status.runnerPid) && age < HEARTBEAT_STALE_MS)) {
      this.opts.log.info(`${run.ticketId}: adopted the running agent again (runner pid ${status.runnerPid})`);
      return this.watch(dir, { ...common, pid: status.runnerPid });
    }
    // The runner is dead; an agent it left behind would go on writing in the worktree the
    // retry uses: stop it (its process group, which the runner led).
    if (status.agentPid && pidAlive(status.agentPid)) {
      this.opts.log.warn(`${run.ticketId}: the runner of ${run.id} is gone but its agent (pid ${status.agentPid}) is not; stopping it`);
      for (const target of [-status.runnerPid, status.agentPid]) safeKill(target, 'SIGKILL');
    }
    return undefined;
  }

  /**
   * A handle on a runner, by its run folder (also used to re-attach after a reload). Its
   * readers share the run's session (watch/runSession.ts) and are polled in this order until
   * the runner's end: progress lines, request files, headless output, the agent's status
   * file, first-run screens, the checkout guard.
   */
  watch(dir: string, w: WatchOptions = {}): AgentHandle {
    const files = runFiles(dir);
    const pollMs = this.opts.pollMs ?? 200;
    const profile = w.profile;
    const session = new RunSession({
      dir,
      files,
      runId: w.runId ?? dir.split('/').pop()!,
      host: this.opts.host,
      log: this.opts.log,
      profile,
      cli: profile ? cliOf(profile) : undefined,
      worktree: w.worktree,
      startHead: w.startHead,
      tokenHash: w.tokenHash ?? readFileSync(files.tokenHash, 'utf8').trim(),
    });
    session.runnerPid = w.pid;
    const statusFile = new StatusFileReader(session).start();
    const progress = new ProgressReader(session);
    const readers = [
      progress,
      new RequestReader(session),
      new OutputReader(session, this.opts.maxLogBytes ?? 50 * 1024 * 1024),
      statusFile,
      new ScreenReader(session),
      new CheckoutGuard(session, this.opts.stateDir),
    ];
    const runnerExit = new RunnerExitWatch(session, () => {
      progress.poll();
      statusFile.poll();
    });
    const exited = new Promise<AgentExit>((resolve) => {
      const tick = (): void => {
        for (const r of readers) r.poll();
        const end = runnerExit.poll(tick);
        if (end === 'later') return;
        if (end) {
          statusFile.close();
          resolve(settleExit(session, end));
          return;
        }
        setTimeout(tick, pollMs);
      };
      setTimeout(tick, pollMs);
    });
    const stop = (reason: string, finished = false): Promise<void> => this.stopRun(session, exited, reason, finished);
    session.stop = stop;

    return {
      pid: w.pid,
      onReport: session.reports.event,
      onQuestion: session.questions.event,
      onLockRequest: session.lockRequests.event,
      answer: (questionId, answer) => session.answer(questionId, answer),
      answerLock: (requestId: string, answer: LockAnswer) => writeJsonAtomic(join(dir, `${requestId}.lock-answer.json`), answer),
      onTicketRequest: session.ticketRequests.event,
      answerTicketRequest: (requestId: string, answer: TicketRequestAnswer) => writeJsonAtomic(join(dir, `${requestId}.ticket-answer.json`), answer),
      onUsage: session.usageReports.event,
      exited,
      stop,
    };
  }

  /** Asks the runner to stop, then signals it; a runner that does not go is killed with its agent. */
  private async stopRun(s: RunSession, exited: Promise<AgentExit>, reason: string, finished: boolean): Promise<void> {
    const { files, host, runId, log } = s.ctx;
    if (!finished && s.stoppedBy === undefined) {
      s.stoppedBy = reason;
      s.stoppedAt = Date.now();
    }
    if (!finished) host.update?.(runId, 'stopping');
    // The run folder may be gone (deleted with the repository): stopping goes on by signal.
    try {
      writeFileSync(files.stop, reason);
    } catch (e) {
      log.warn(`${runId}: could not write the stop request (${(e as Error).message}); stopping by signal`);
    }
    const p = s.runnerPid ?? readJson<RunnerStatus>(files.status)?.runnerPid;
    if (p && pidAlive(p)) safeKill(p, 'SIGTERM');
    const grace = (this.opts.killGraceMs ?? 5000) + 3000;
    await Promise.race([exited, new Promise((r) => setTimeout(r, grace))]);
    // The runner did not go (it ignored TERM or hangs): kill it and the agent it started.
    const status = readJson<RunnerStatus>(files.status);
    for (const pid of [status?.agentPid, p]) if (pid && pidAlive(pid) && !existsSync(files.exit)) safeKill(pid, 'SIGKILL');
  }
}

/** Appends a line to the run's log (headless runs read it back for the profile's signals). */
export function appendRunLog(runDir: string, line: string): void {
  appendFileSync(runFiles(runDir).log, line.endsWith('\n') ? line : `${line}\n`);
}

/** A process that ended meanwhile (ESRCH) or is not ours (EPERM) is not an error of the stop. */
function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}
