// RunnerHost for a terminal outside VS Code: each run's runner is the process of its own tmux
// session (`orchard run --terminal tmux`), so the agent CLI gets a real pseudo-terminal and
// its interactive UI, the user can attach to watch or type (`tmux -L orchard attach -t
// orchard-T1`), and Orchard can read the screen (first-run screens) and type answers in.
// The session stays after the runner exits (remain-on-exit), so the terminal stays readable.
import { execFile, execFileSync } from 'node:child_process';
import type { Run, Ticket } from '../../core/model';
import type { RunnerHost, TerminalInput } from './launcher';
import { NODE_ENV_FOR_ELECTRON } from './launcher';

export interface TmuxHostOptions {
  /** tmux server socket name (-L); default "orchard". */
  socket?: string;
  /** Environment of the tmux server and of every runner (the agents' PATH comes from here). */
  env?: NodeJS.ProcessEnv;
  width?: number;
  height?: number;
}

/** Pause between typed text and the key after it. */
export const KEY_PAUSE_MS = 300;

export class TmuxRunnerHost implements RunnerHost {
  readonly interactive = true;
  private readonly sessions = new Map<string, string>();
  readonly socket: string;

  constructor(private readonly opts: TmuxHostOptions = {}) {
    this.socket = opts.socket ?? 'orchard';
  }

  /** Whether tmux is installed (the CLI says so before starting a batch). */
  static available(): boolean {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  private tmux(args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile('tmux', ['-L', this.socket, ...args], { env: { ...process.env, ...this.opts.env }, encoding: 'utf8' }, (err, stdout, stderr) =>
        err ? reject(new Error(`tmux ${args[0]}: ${stderr.trim() || err.message}`)) : resolve(stdout),
      ),
    );
  }

  sessionName(ticketId: string, runId: string): string {
    return `orchard-${ticketId}-${runId.split('-r').pop()}`.replace(/[^A-Za-z0-9_-]/g, '_');
  }

  async launch(_runDir: string, runnerArgv: string[], ticket: Ticket, run: Run): Promise<{ pid?: number }> {
    const name = this.sessionName(ticket.id, run.id);
    // A session left from an earlier attempt of the same run id (reload) is replaced.
    await this.tmux(['kill-session', '-t', `=${name}`]).catch(() => undefined);
    // Arguments after the session options are the command itself: no shell, one argv element each.
    const env = Object.entries(NODE_ENV_FOR_ELECTRON).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // remain-on-exit in the same command list, before the runner can exit: the screen stays.
    await this.tmux([
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      String(this.opts.width ?? 200),
      '-y',
      String(this.opts.height ?? 50),
      '-c',
      run.worktree,
      ...env,
      ...runnerArgv,
      ';',
      'set-option',
      '-w',
      '-t',
      `=${name}:`,
      'remain-on-exit',
      'on',
    ]);
    this.sessions.set(run.id, name);
    const pid = Number((await this.tmux(['display-message', '-p', '-t', `=${name}:`, '#{pane_pid}']).catch(() => '')).trim());
    return { pid: Number.isInteger(pid) && pid > 0 ? pid : undefined };
  }

  async sendKeys(runId: string, input: TerminalInput): Promise<void> {
    const name = this.sessions.get(runId);
    if (!name) throw new Error(`no terminal for ${runId}`);
    const target = `=${name}:`;
    if (input.text) {
      if (input.text.includes('\n')) {
        // Several lines go in as one bracketed paste: typed, the first newline would submit.
        const buffer = `orchard-${runId}`;
        await this.tmux(['set-buffer', '-b', buffer, '--', input.text]);
        await this.tmux(['paste-buffer', '-p', '-d', '-b', buffer, '-t', target]);
      } else await this.tmux(['send-keys', '-t', target, '-l', '--', input.text]);
    }
    // A key that follows typed text too closely is taken as part of it (Gemini CLI turns an
    // Enter within ~30 ms of a character into a newline): a pause before each key.
    for (const key of input.keys ?? []) {
      if (input.text || key !== input.keys![0]) await new Promise((r) => setTimeout(r, KEY_PAUSE_MS));
      // Named keys (Enter, Escape, Down, C-c) by name; anything else literally ("/exit", "2").
      if (/^(Enter|Escape|Tab|BTab|Up|Down|Left|Right|Space|BSpace|C-[a-z]|M-[a-z])$/.test(key)) await this.tmux(['send-keys', '-t', target, key]);
      else await this.tmux(['send-keys', '-t', target, '-l', '--', key]);
    }
  }

  async readScreen(runId: string): Promise<string | undefined> {
    const name = this.sessions.get(runId);
    if (!name) return undefined;
    return this.tmux(['capture-pane', '-p', '-t', `=${name}:`]).catch(() => undefined);
  }

  /** Ends every session of this host (their runners were stopped first). */
  async killAll(): Promise<void> {
    for (const name of this.sessions.values()) await this.tmux(['kill-session', '-t', `=${name}`]).catch(() => undefined);
  }
}
