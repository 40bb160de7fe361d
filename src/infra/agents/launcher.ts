// AgentPort: writes the run folder (spec, ticket, orchard-agent on PATH) and starts Orchard's
// runner through a RunnerHost: headless as a child process logging to the run's log file,
// or (in VS Code) as the process of a terminal. Exit is read from the runner's exit file.
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Run, Ticket } from '../../core/model';
import type { AgentExit, AgentHandle, AgentPort, AgentQuestion, AgentReport, Logger } from '../../core/ports';
import { Emitter } from '../../core/emitter';
import { runFiles, type RunSpec, type RunnerExit, type RunnerStatus } from '../runner/protocol';
import { COMMON_RATE_LIMIT_PATTERNS, composePrompt, expandArgv, resolveProfile, type AgentProfile } from './profiles';

/** Starts the runner for a run folder. */
export interface RunnerHost {
  readonly interactive: boolean;
  launch(runDir: string, runnerArgv: string[], ticket: Ticket, run: Run): Promise<{ pid?: number }>;
}

/** Node binary for child processes: inside Electron, process.execPath is Electron running as node. */
export const NODE_ENV_FOR_ELECTRON = { ELECTRON_RUN_AS_NODE: '1' };

export class HeadlessRunnerHost implements RunnerHost {
  readonly interactive = false;
  async launch(runDir: string, runnerArgv: string[]): Promise<{ pid?: number }> {
    const log = { file: runFiles(runDir).log, append: true };
    const [cmd = process.execPath, ...args] = runnerArgv;
    const child = execa(cmd, args, { stdin: 'ignore', stdout: log, stderr: log, env: { ...NODE_ENV_FOR_ELECTRON }, reject: false });
    child.catch(() => undefined);
    return { pid: child.pid };
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
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Whether the last 16 KB of the agent's log match one of the patterns (headless runs log there). */
function logTailMatches(log: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return false;
  let text = '';
  try {
    const fd = openSync(log, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, 16_384));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  return patterns.some((p) => new RegExp(p, 'i').test(text));
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class AgentLauncher implements AgentPort {
  /** Each run's token: only its own agent's questions and reports are taken. */
  private readonly tokens = new Map<string, string>();

  constructor(private readonly opts: LauncherOptions) {}

  runDir(runId: string): string {
    return join(this.opts.stateDir, 'runs', runId);
  }

  async start(ticket: Ticket, run: Run): Promise<AgentHandle> {
    const profile = resolveProfile(ticket.agent ?? this.opts.defaultProfile, this.opts.profiles);
    const dir = this.runDir(run.id);
    const files = runFiles(dir);
    mkdirSync(files.bin, { recursive: true });
    // orchard-agent on the agent's PATH, bound to this run.
    const agentCli = join(this.opts.distDir, 'orchard-agent.js');
    const wrapper = join(files.bin, 'orchard-agent');
    writeFileSync(wrapper, `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec "${process.execPath}" "${agentCli}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeFileSync(join(dir, 'ticket.json'), JSON.stringify(ticket, null, 2));
    const retryContext = run.context;
    const prompt = composePrompt(ticket, run, retryContext);
    const template = this.opts.host.interactive && profile.interactiveArgv ? profile.interactiveArgv : profile.argv;
    const spec: RunSpec = {
      runId: run.id,
      ticketId: ticket.id,
      argv: expandArgv(template, ticket, run, prompt),
      cwd: run.worktree,
      env: {
        ...this.opts.env,
        PATH: `${files.bin}:${process.env.PATH ?? ''}`,
        ORCHARD_RUN_DIR: dir,
        ORCHARD_RUN_ID: run.id,
        ORCHARD_TICKET_ID: ticket.id,
        ORCHARD_ATTEMPT: String(run.attempt),
        ORCHARD_TOKEN: `${run.id}-${Math.random().toString(36).slice(2)}`,
      },
    };
    writeFileSync(files.spec, JSON.stringify(spec, null, 2));
    this.tokens.set(dir, spec.env.ORCHARD_TOKEN!);
    this.opts.log.info(`${ticket.id}: starting ${profile.name} in ${run.worktree}`);
    const { pid } = await this.opts.host.launch(dir, [process.execPath, join(this.opts.distDir, 'runner.js'), dir], ticket, run);
    return this.watch(dir, pid, profile.rateLimitPatterns ?? COMMON_RATE_LIMIT_PATTERNS);
  }

  /** A handle on a runner, by its run folder (also used to re-attach after a reload). */
  watch(dir: string, pid?: number, rateLimitPatterns: readonly string[] = COMMON_RATE_LIMIT_PATTERNS): AgentHandle {
    const files = runFiles(dir);
    const pollMs = this.opts.pollMs ?? 200;
    let runnerPid = pid;
    const reports = new Emitter<AgentReport>();
    let progressRead = 0;
    const readProgress = (): void => {
      let text: string;
      try {
        text = readFileSync(join(dir, 'progress.jsonl'), 'utf8');
      } catch {
        return;
      }
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      for (const line of complete.slice(progressRead).split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line) as AgentReport;
          reports.fire({ progress: r.progress, message: r.message });
        } catch {
          // a malformed line from an agent is ignored; the run goes on
        }
      }
      progressRead = complete.length;
    };
    const questions = new Emitter<AgentQuestion>();
    const seenQuestions = new Set<string>();
    const readQuestions = (): void => {
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.question.json') && !seenQuestions.has(n));
      } catch {
        return;
      }
      for (const name of names) {
        seenQuestions.add(name);
        const q = readJson<{ id: string; token: string; question: string; options?: string[]; trigger?: string }>(join(dir, name));
        if (!q || q.token !== this.tokens.get(dir)) {
          this.opts.log.warn(`ignored ${name} in ${dir}: it does not carry this run's token`);
          continue;
        }
        questions.fire({ id: q.id, question: String(q.question), options: (q.options ?? []).map(String), trigger: q.trigger ?? 'input-needed' });
      }
    };
    const exited = new Promise<AgentExit>((resolve) => {
      let missing = 0;
      const tick = (): void => {
        readProgress();
        readQuestions();
        const exit = readJson<RunnerExit>(files.exit);
        if (exit) {
          const rateLimited = exit.exitCode !== 0 && logTailMatches(files.log, rateLimitPatterns);
          resolve({ exitCode: exit.exitCode, signal: exit.signal ?? exit.error, rateLimited });
          return;
        }
        runnerPid ??= readJson<RunnerStatus>(files.status)?.runnerPid;
        // The runner is gone without writing its exit: it was killed.
        if (runnerPid && !alive(runnerPid)) missing++;
        if (missing >= 3 && !existsSync(files.exit)) {
          resolve({ exitCode: null, signal: 'runner vanished' });
          return;
        }
        setTimeout(tick, pollMs);
      };
      setTimeout(tick, pollMs);
    });
    return {
      pid,
      onReport: reports.event,
      onQuestion: questions.event,
      answer: (questionId, answer) => writeFileSync(join(dir, `${questionId}.answer.json`), JSON.stringify(answer)),
      exited,
      stop: async (reason: string) => {
        writeFileSync(files.stop, reason);
        const p = runnerPid ?? readJson<RunnerStatus>(files.status)?.runnerPid;
        if (p && alive(p)) process.kill(p, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
      },
    };
  }
}
