// AgentPort: writes the run folder (spec, ticket, token, orchard-agent on PATH, Claude Code
// hooks in the worktree) and starts Orchard's runner through a RunnerHost: headless as a
// child process logging to the run's log file, or (in VS Code) as the process of a terminal.
// The handle reads the run folder: progress lines, questions and lock requests carrying the
// run's token, the agent's agent-status.json (file watcher), the runner's heartbeat and exit.
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  statSync,
  watch as fsWatch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import type { Run, Ticket, Usage } from '../../core/model';
import type { AgentTicketRequestMessage, TicketRequestAnswer } from '../../core/ports';
import { readUsage } from '../../core/budget';
import type { AgentExit, AgentHandle, AgentLockRequest, AgentPort, AgentQuestion, AgentReport, LockAnswer, Logger } from '../../core/ports';
import { Emitter } from '../../core/emitter';
import { HEARTBEAT_STALE_MS, runFiles, takeClaim, type RunSpec, type RunnerExit, type RunnerStatus } from '../runner/protocol';
import { composePrompt, detectSignals, expandArgv, resolveProfile, type AgentProfile } from './profiles';
import { BUILTIN_CLIS, type CliDefinition } from './clis';
import { ANSI } from './clis/common';

/** The built-in CLI a profile is (or extends, by its command), if any. */
export function cliOf(profile: AgentProfile): CliDefinition | undefined {
  // A custom profile with `hooks: 'claude'` (a wrapper around Claude Code) is prepared as Claude Code is.
  return BUILTIN_CLIS[profile.name] ?? Object.values(BUILTIN_CLIS).find((c) => c.profile.argv[0] === profile.argv[0]) ?? (profile.hooks === 'claude' ? BUILTIN_CLIS.claude : undefined);
}
import { descendants, isSameProcess, pidAlive } from '../process';

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

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

/** The last bytes of a file ('' if it cannot be read). */
export function tail(path: string, bytes = 16_384): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, bytes));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export { pidAlive } from '../process';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The agent's own status file (agent-status.json), written by agents told to: read, never trusted for the files changed. */
export interface AgentStatusFile {
  status?: string;
  progress?: number;
  filesChanged?: string[];
  gates?: unknown;
  commit?: string;
}

export const AGENT_STATUS_FILE = 'agent-status.json';

/** Checks an agent-status.json; returns the problem in words, or the parsed status. */
export function parseAgentStatus(text: string): { ok: true; status: AgentStatusFile } | { ok: false; problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `not JSON (${(e as Error).message})` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { ok: false, problem: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (o.status !== undefined && typeof o.status !== 'string') return { ok: false, problem: 'status must be a string' };
  if (o.progress !== undefined && (typeof o.progress !== 'number' || !(o.progress >= 0 && o.progress <= 100))) {
    return { ok: false, problem: 'progress must be a number from 0 to 1 (or 0 to 100)' };
  }
  if (o.filesChanged !== undefined && (!Array.isArray(o.filesChanged) || o.filesChanged.some((f) => typeof f !== 'string'))) {
    return { ok: false, problem: 'filesChanged must be an array of paths' };
  }
  if (o.commit !== undefined && typeof o.commit !== 'string') return { ok: false, problem: 'commit must be a string' };
  return { ok: true, status: o as AgentStatusFile };
}

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
    if (!run.worktree || !isAbsolute(run.worktree)) throw new Error(`${run.id} has no worktree yet (${JSON.stringify(run.worktree)}); the agent was not started`);
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

  /** A handle on a runner, by its run folder (also used to re-attach after a reload). */
  watch(dir: string, w: WatchOptions = {}): AgentHandle {
    const files = runFiles(dir);
    const pollMs = this.opts.pollMs ?? 200;
    const log = this.opts.log;
    const host = this.opts.host;
    const tokenHash = w.tokenHash ?? readFileSync(files.tokenHash, 'utf8').trim();
    const tokenOk = (t: unknown) => typeof t === 'string' && sha256(t) === tokenHash;
    const profile = w.profile;
    const runId = w.runId ?? dir.split('/').pop()!;
    let runnerPid = w.pid;
    const reports = new Emitter<AgentReport>();
    const questions = new Emitter<AgentQuestion>();
    const lockRequests = new Emitter<AgentLockRequest>();
    const ticketRequests = new Emitter<AgentTicketRequestMessage>();
    const usageReports = new Emitter<Usage>();
    let problem: AgentExit['problem'];
    let stopRequested: ((reason: string) => void) | undefined;
    const cli = profile ? cliOf(profile) : undefined;
    // The completion model (README "When a run is finished"): the agent said done, or its CLI
    // ended a turn that left work in the worktree. Either ends an interactive session.
    let saidDone = false;
    let ending = false;
    let stoppedBy: string | undefined;
    // When Orchard asked the run to stop: a "done" the agent says after that (its wait for an
    // answer was cut, and its script went on) does not make a stopped run a finished one.
    let stoppedAt = Number.POSITIVE_INFINITY;
    let doneTimer: ReturnType<typeof setTimeout> | undefined;
    // One open question per waiting spell: idle reminders and further empty turns add none.
    let openNotice: string | undefined;
    const noticeIds = new Set<string>();
    const fireNotice = (id: string, question: string, options: string[] = [], context?: string): void => {
      if (openNotice) {
        log.debug(`${runId}: already waiting for an answer to ${openNotice}; "${question.slice(0, 80)}" adds no question`);
        return;
      }
      openNotice = id;
      noticeIds.add(id);
      host.update?.(runId, 'needs-input');
      questions.fire({ id, question, options, trigger: 'input-needed', ...(context && { context }) });
    };
    const finishSession = (why: string): void => {
      if (ending || !host.interactive) return;
      ending = true;
      if (doneTimer) clearTimeout(doneTimer);
      log.info(`${runId}: ${why}; ending the agent's session`);
      host.update?.(runId, 'done');
      void (async () => {
        const end = cli?.endSession;
        // The CLI may still be closing its turn (its hook just returned): a moment before typing.
        if (end?.keys?.length && host.sendKeys) await new Promise((r) => setTimeout(r, SESSION_SETTLE_MS));
        if (end?.keys?.length && host.sendKeys) await host.sendKeys(runId, { keys: end.keys }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, end?.keys?.length ? (end.graceMs ?? 2000) : 0));
        if (!existsSync(files.exit)) await stop('the agent finished its work', true);
      })();
    };
    const onTurnEnded = (message: string | undefined): void => {
      // A CLI being stopped aborts its turn and may report that as a turn end: not the agent's.
      if (!host.interactive || ending || stoppedBy) return;
      // A turn that ended on a rate limit or an overloaded service (the CLI gave up retrying):
      // the profile pauses, no question for the human and no retry used.
      if (message && profile && !worktreeHasWork(w.worktree, w.startHead) && detectSignals({ ...profile, needsInputPatterns: [] }, message).rateLimited) {
        rateLimitedTurn = true;
        log.warn(`${runId}: ${profile.description} stopped on a rate limit (${message.slice(0, 160)}); ending its session`);
        finishSession('its turn ended on a rate limit');
        return;
      }
      if (saidDone || worktreeHasWork(w.worktree, w.startHead)) {
        saidDone = true;
        reports.fire({ progress: 100, message: message ? `turn ended: ${message.slice(0, 200)}` : 'turn ended with work done', done: true });
        finishSession('its turn ended with work done');
        return;
      }
      turnsWithoutWork++;
      fireNotice(`turn-${turnsWithoutWork}`, message ? message.slice(0, 2000) : `${profile?.description ?? 'The agent'} ended its turn without changes and waits for you`);
    };
    let turnsWithoutWork = 0;
    let rateLimitedTurn = false;

    let progressRead = 0;
    const readProgress = (): void => {
      let text: string;
      try {
        text = readFileSync(files.progress, 'utf8');
      } catch {
        return;
      }
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      for (const line of complete.slice(progressRead).split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line) as AgentReport & { token?: string; turnEnded?: boolean; at?: number };
          if (!tokenOk(r.token)) {
            log.warn(`ignored a progress line in ${dir}: it does not carry this run's token`);
            continue;
          }
          if (r.turnEnded) {
            onTurnEnded(r.message);
            continue;
          }
          if (r.done && (typeof r.at === 'number' ? r.at >= stoppedAt : stoppedBy !== undefined)) {
            log.info(`${runId}: said done after Orchard stopped it (${stoppedBy}); the run stays stopped`);
            continue;
          }
          if (r.done) {
            saidDone = true;
            // The agent may still be finishing its turn (a last message): its turn end, or a
            // few seconds, whichever comes first.
            if (host.interactive && !ending) doneTimer ??= setTimeout(() => finishSession('it said done'), DONE_GRACE_MS);
          }
          const u = readUsage((r as { usage?: unknown }).usage);
          if (u) usageReports.fire(u);
          else reports.fire({ progress: r.progress, message: r.message, ...(r.done && { done: true }) });
          if (r.done) host.update?.(runId, 'done');
        } catch {
          // a malformed line from an agent is ignored; the run goes on
        }
      }
      progressRead = complete.length;
    };

    const seen = new Set<string>();
    const readRequests = (): void => {
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => (n.endsWith('.question.json') || n.endsWith('.lock-request.json') || n.endsWith('.notice.json') || n.endsWith('.ticket-request.json')) && !seen.has(n));
      } catch {
        return;
      }
      for (const name of names) {
        // Already answered (a handle made again after a restart reads the folder afresh): the agent has its answer.
        const answer = name.replace(/\.(question|lock-request|ticket-request)\.json$/, (_, k: string) => (k === 'question' ? '.answer.json' : k === 'lock-request' ? '.lock-answer.json' : '.ticket-answer.json'));
        if (answer !== name && existsSync(join(dir, answer))) {
          seen.add(name);
          continue;
        }
        const req = readJson<Record<string, unknown>>(join(dir, name));
        if (!req) continue; // half-written: next tick
        seen.add(name);
        if (!tokenOk(req.token)) {
          log.warn(`ignored ${name} in ${dir}: it does not carry this run's token`);
          if (name.endsWith('.lock-request.json')) writeJsonAtomic(join(dir, `${String(req.id)}.lock-answer.json`), { granted: false, error: 'the request does not carry this run\'s token' });
          if (name.endsWith('.ticket-request.json')) writeJsonAtomic(join(dir, `${String(req.id)}.ticket-answer.json`), { ok: false, problems: ['the request does not carry this run\'s token'] });
          continue;
        }
        if (name.endsWith('.ticket-request.json')) {
          const kind = req.kind === 'add-ticket' ? 'add-ticket' : 'subtask';
          ticketRequests.fire({ id: String(req.id), kind, ticket: (req.ticket ?? {}) as AgentTicketRequestMessage['ticket'], wait: req.wait !== false });
          continue;
        }
        if (name.endsWith('.lock-request.json')) {
          const patterns = Array.isArray(req.patterns) ? req.patterns.map(String) : [];
          lockRequests.fire({ id: String(req.id), patterns });
        } else if (name.endsWith('.notice.json')) {
          // A CLI's "waiting for you" (hook): one question until it is answered; a dialog that
          // takes keys (clis/<name>.ts notices) offers its options and gets its keys.
          const rule = host.interactive ? cli?.notices?.find((n) => new RegExp(n.pattern, 'i').test(String(req.question))) : undefined;
          if (rule && !openNotice) screenAnswers.set(String(req.id), rule.options);
          fireNotice(String(req.id), String(req.question), rule ? Object.keys(rule.options) : Array.isArray(req.options) ? req.options.map(String) : [], typeof req.context === 'string' ? req.context : undefined);
        } else {
          host.update?.(runId, 'needs-input');
          questions.fire({
            id: String(req.id),
            question: String(req.question),
            options: Array.isArray(req.options) ? req.options.map(String) : [],
            trigger: typeof req.trigger === 'string' ? req.trigger : 'input-needed',
            ...(typeof req.context === 'string' && { context: req.context }),
          });
        }
      }
    };

    // Headless: the log is where the agent's output goes; read it for the profile's signals.
    let logChecked = 0;
    let askedFromOutput = 0;
    const maxLog = this.opts.maxLogBytes ?? 50 * 1024 * 1024;
    const readLog = (): void => {
      if (host.interactive) return;
      const size = fileSize(files.log);
      if (size > maxLog && !problem) {
        problem = 'output-loop';
        log.warn(`${runId}: the agent printed more than ${Math.round(maxLog / 1024)} KB; stopping it as looping`);
        stopRequested?.('the agent looped printing output');
        return;
      }
      if (!profile || size === logChecked || size - logChecked < 1) return;
      const fresh = tail(files.log, Math.min(size - logChecked, 16_384));
      logChecked = size;
      // Profiles with hooks (Claude Code) say "needs input" through orchard-agent, not the screen.
      if (profile.hooks) return;
      if (detectSignals({ ...profile, rateLimitPatterns: [] }, fresh).needsInput) {
        askedFromOutput++;
        fireNotice(`output-${askedFromOutput}`, `${profile.description} is waiting for input: ${lastLine(fresh)}`);
      }
    };

    // The agent's status file (agent-status.json), read through a file watcher.
    let statusWatcher: FSWatcher | undefined;
    let lastStatus = '';
    const readStatusFile = (): void => {
      if (!w.worktree) return;
      let text: string;
      try {
        text = readFileSync(join(w.worktree, AGENT_STATUS_FILE), 'utf8');
      } catch {
        return;
      }
      if (text === lastStatus) return;
      lastStatus = text;
      const parsed = parseAgentStatus(text);
      if (!parsed.ok) {
        log.warn(`${runId}: ${AGENT_STATUS_FILE} ignored: ${parsed.problem}`);
        reports.fire({ message: `${AGENT_STATUS_FILE} ignored: ${parsed.problem}` });
        return;
      }
      const s = parsed.status;
      const pct = s.progress === undefined ? undefined : s.progress <= 1 ? Math.round(s.progress * 1000) / 10 : s.progress;
      const done = s.status === 'done' || s.status === 'completed';
      reports.fire({ progress: pct, message: s.status ? `status: ${s.status}` : undefined, ...(done && { done: true }) });
    };
    if (w.worktree && existsSync(w.worktree)) {
      try {
        statusWatcher = fsWatch(w.worktree, { persistent: false }, (_ev, name) => {
          if (name === AGENT_STATUS_FILE) readStatusFile();
        });
        statusWatcher.on('error', () => undefined);
      } catch {
        statusWatcher = undefined;
      }
      readStatusFile();
    }

    // First-run screens on a terminal the host can read (tmux): answered by the CLI's rule, or
    // one question whose options are sent as keys.
    const screenAnswers = new Map<string, Record<string, string[]>>();
    const answeredScreens = new Map<string, number>();
    let screenBusy = false;
    let lastScreenAt = 0;
    const readScreen = (): void => {
      if (!host.interactive || !host.readScreen || !cli?.screens?.length || screenBusy || ending || Date.now() - lastScreenAt < 700) return;
      lastScreenAt = Date.now();
      screenBusy = true;
      void host
        .readScreen(runId)
        .then(async (screen) => {
          if (!screen) return;
          for (const rule of cli.screens ?? []) {
            if (!new RegExp(rule.pattern, 'im').test(screen)) continue;
            const last = answeredScreens.get(rule.name) ?? 0;
            if (Date.now() - last < 3000) return;
            answeredScreens.set(rule.name, Date.now());
            if (rule.keys && host.sendKeys) {
              log.info(`${runId}: answered ${profile?.description ?? 'the agent'}'s "${rule.name}" screen (${rule.keys.join(' ')})`);
              await host.sendKeys(runId, { keys: rule.keys });
            } else {
              const id = `screen-${answeredScreens.size}-${Date.now().toString(36)}`;
              const options = rule.options ?? { Yes: ['Enter'], No: ['Escape'] };
              if (!openNotice) screenAnswers.set(id, options);
              fireNotice(id, `${profile?.description ?? 'The agent'} shows "${rule.name}"`, Object.keys(options), lastLines(screen, 12));
            }
            return;
          }
        })
        .catch(() => undefined)
        .finally(() => (screenBusy = false));
    };

    // An agent works only in its worktree: a process of its tree whose working folder is the
    // user's checkout (a CLI that followed an inherited $PWD, a `cd` out of the worktree) is
    // caught within a second or two, stopped, and reported; nothing of the user's is touched.
    const checkout = userCheckoutOf(this.opts.stateDir);
    let lastCwdCheck = 0;
    const checkWhereItWorks = (): void => {
      if (!checkout || !w.worktree || problem || Date.now() - lastCwdCheck < 1000 || !existsSync('/proc')) return;
      lastCwdCheck = Date.now();
      const agentPid = readJson<RunnerStatus>(files.status)?.agentPid;
      if (!agentPid) return;
      const worktrees = dirname(w.worktree);
      // Seen there at two checks in a row: a CLI's brief look at the main repository (OpenCode
      // runs git there to know its project) is not work in the checkout.
      const seenNow = new Set<string>();
      for (const pid of [agentPid, ...descendants(agentPid)]) {
        let cwd: string;
        try {
          cwd = readlinkSync(`/proc/${pid}/cwd`);
        } catch {
          continue;
        }
        if (isInside(cwd, checkout) && !isInside(cwd, worktrees) && !isInside(cwd, this.opts.stateDir)) {
          seenNow.add(`${pid}:${cwd}`);
          if (!seenOutside.has(`${pid}:${cwd}`)) continue;
          problem = 'outside-worktree';
          outsideAt = cwd;
          log.warn(`${runId}: the agent works in your checkout (${cwd}), not in its worktree ${w.worktree}; stopping it`);
          stopRequested?.(`it worked in your checkout (${cwd})`);
          return;
        }
      }
      seenOutside = seenNow;
    };
    let outsideAt: string | undefined;
    let seenOutside = new Set<string>();

    let screenSaved = false;
    const watchedAt = Date.now();
    const exited = new Promise<AgentExit>((resolve) => {
      let missing = 0;
      const finish = (e: AgentExit): void => {
        statusWatcher?.close();
        const text = tail(files.log, 65_536);
        const usage = profile ? detectSignals(profile, text).usage : undefined;
        if (usage) {
          writeFileSync(files.usage, JSON.stringify(usage));
          // What the CLI printed counts like `orchard-agent usage` (cost accounting, budgets).
          if (usage.costUsd !== undefined || usage.inputTokens !== undefined || usage.outputTokens !== undefined || usage.tokens !== undefined) {
            usageReports.fire({ usd: usage.costUsd, inputTokens: usage.inputTokens ?? (usage.outputTokens === undefined ? usage.tokens : undefined), outputTokens: usage.outputTokens });
          }
        }
        if (doneTimer) clearTimeout(doneTimer);
        host.update?.(runId, (e.exitCode === 0 || saidDone) && !e.problem ? 'done' : 'failed');
        resolve({
          ...e,
          ...(usage && { usage: { costUsd: usage.costUsd, tokens: usage.tokens, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens } }),
          ...(saidDone && { saidDone: true }),
          ...(stoppedBy && !saidDone && problem === undefined && { stoppedByOrchard: stoppedBy }),
          ...(outsideAt && { outsideAt }),
        });
      };
      const tick = (): void => {
        readProgress();
        readRequests();
        readLog();
        readStatusFile();
        readScreen();
        checkWhereItWorks();
        const exit = readJson<RunnerExit>(files.exit);
        if (exit && host.interactive && host.readScreen && !screenSaved) {
          // A terminal session's last screen (the CLI's closing stats) goes to the run log,
          // where its usage parser reads it, as it reads a headless run's output.
          screenSaved = true;
          void host
            .readScreen(runId)
            .then((screen) => screen && appendFileSync(files.log, `\n--- last screen of the terminal session ---\n${screen}\n`))
            .catch(() => undefined)
            .finally(() => setTimeout(tick, 0));
          return;
        }
        if (exit) {
          // What the agent wrote before it exited is read before its end is told: a `done` (and a
          // reviewer's VERDICT) written while this tick read the other files would otherwise be
          // lost (a review loop then ran one round too many).
          readProgress();
          readStatusFile();
          const text = tail(files.log);
          const rateLimited = rateLimitedTurn || (exit.exitCode !== 0 && !host.interactive && detectSignals(profile ?? { name: '?', description: '', argv: [] }, text).rateLimited);
          const explanation = exit.error ?? (exit.exitCode !== null && exit.exitCode !== 0 ? cli?.explainExit?.(exit.exitCode, text) : undefined);
          finish({ exitCode: exit.exitCode, signal: exit.signal ?? exit.error, rateLimited, ...(problem && { problem }), ...(explanation && { explanation }) });
          return;
        }
        if (w.worktree && !problem && !existsSync(w.worktree)) {
          problem = 'worktree-deleted';
          log.warn(`${runId}: the worktree ${w.worktree} was deleted while the agent ran; stopping it`);
          stopRequested?.('the agent deleted its worktree');
        }
        const status = readJson<RunnerStatus>(files.status);
        runnerPid ??= status?.runnerPid;
        // The runner is gone without writing its exit: it was killed (a reused pid is not it).
        if (runnerPid && !isSameProcess(runnerPid, status?.runnerPid === runnerPid ? status.startToken : undefined)) missing++;
        // A runner that claimed the run but never wrote its status within a minute died starting.
        else if (!runnerPid && Date.now() - watchedAt > 60_000) missing = 3;
        if (missing >= 3 && !existsSync(files.exit)) {
          finish({ exitCode: null, signal: 'runner vanished', problem: 'runner-vanished' });
          return;
        }
        setTimeout(tick, pollMs);
      };
      setTimeout(tick, pollMs);
    });

    const stop = async (reason: string, finished = false): Promise<void> => {
      if (!finished && stoppedBy === undefined) {
        stoppedBy = reason;
        stoppedAt = Date.now();
      }
      if (!finished) host.update?.(runId, 'stopping');
      // The run folder may be gone (deleted with the repository): stopping goes on by signal.
      try {
        writeFileSync(files.stop, reason);
      } catch (e) {
        log.warn(`${runId}: could not write the stop request (${(e as Error).message}); stopping by signal`);
      }
      const p = runnerPid ?? readJson<RunnerStatus>(files.status)?.runnerPid;
      if (p && pidAlive(p)) safeKill(p, 'SIGTERM');
      const grace = (this.opts.killGraceMs ?? 5000) + 3000;
      await Promise.race([exited, new Promise((r) => setTimeout(r, grace))]);
      // The runner did not go (it ignored TERM or hangs): kill it and the agent it started.
      const status = readJson<RunnerStatus>(files.status);
      for (const pid of [status?.agentPid, p]) if (pid && pidAlive(pid) && !existsSync(files.exit)) safeKill(pid, 'SIGKILL');
    };
    stopRequested = (reason) => void stop(reason);

    return {
      pid: runnerPid,
      onReport: reports.event,
      onQuestion: questions.event,
      onLockRequest: lockRequests.event,
      answer: (questionId, answer) => {
        host.update?.(runId, 'running');
        if (openNotice === questionId) openNotice = undefined;
        // A CLI that waits in its terminal (hook notice, empty turn, first-run screen) gets the
        // answer typed in; `orchard-agent escalate` reads its answer file.
        const screen = screenAnswers.get(questionId);
        if (noticeIds.has(questionId) && host.interactive && host.sendKeys) {
          const text = [answer.option, answer.guidance].filter(Boolean).join(' — ');
          const keyed = screen && answer.option ? screen[answer.option] : undefined;
          const typed = keyed
            ? host.sendKeys(runId, { keys: keyed }).then(() => (answer.guidance ? host.sendKeys!(runId, { text: answer.guidance, keys: ['Enter'] }) : undefined))
            : host.sendKeys(runId, { text, keys: ['Enter'] });
          void typed.catch((e) => log.warn(`${runId}: could not type the answer into the agent's terminal: ${(e as Error).message}`));
        }
        writeJsonAtomic(join(dir, `${questionId}.answer.json`), answer);
      },
      answerLock: (requestId: string, answer: LockAnswer) => writeJsonAtomic(join(dir, `${requestId}.lock-answer.json`), answer),
      onTicketRequest: ticketRequests.event,
      answerTicketRequest: (requestId: string, answer: TicketRequestAnswer) => writeJsonAtomic(join(dir, `${requestId}.ticket-answer.json`), answer),
      onUsage: usageReports.event,
      exited,
      stop,
    };
  }
}

/** The user's checkout of the repository whose state is in stateDir (`<checkout>/.git/orchard`); undefined for a bare or unusual layout. */
function userCheckoutOf(stateDir: string): string | undefined {
  const common = dirname(stateDir);
  return common.endsWith(`${sep}.git`) ? dirname(common) : undefined;
}

const isInside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);

/** Pause between a turn's end and typing the CLI's exit command. */
const SESSION_SETTLE_MS = 400;

/** Done said mid-turn: the session ends at the turn's end, or after this long. */
const DONE_GRACE_MS = 8000;

function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join('\n');
}

/** Whether a worktree holds work: commits above the attempt's start, or changed files. */
export function worktreeHasWork(worktree: string | undefined, startHead: string | undefined): boolean {
  if (!worktree) return false;
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', worktree, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (git('status', '--porcelain', '--untracked-files=normal')) return true;
    return !!startHead && git('rev-parse', 'HEAD') !== startHead;
  } catch {
    return false;
  }
}

function lastLine(text: string): string {
  return (
    text
      .replace(ANSI, '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  ).slice(0, 200);
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
