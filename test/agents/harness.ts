// The conformance suite's tools: where the pinned agent CLIs are installed (outside the clone),
// a sandbox per CLI (its own HOME and XDG folders, a fresh git repository), the real `orchard`
// command run in it, and what Orchard recorded (events.jsonl) read back.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BUILTIN_CLIS } from '../../src/infra/agents/clis';

export const ROOT = join(__dirname, '..', '..');
export const CLI_JS = join(ROOT, 'dist', 'cli.js');
export const AGENTS_CACHE = process.env.ORCHARD_AGENTS_CACHE || join(homedir(), '.cache', 'orchard-agents');

/** Folder of one pinned package in the cache (test/agents/install.ts makes it). */
export function packageDir(cli: string): string {
  const def = BUILTIN_CLIS[cli];
  if (!def?.npmPackage || !def.testedVersion) throw new Error(`${cli} has no pinned npm package`);
  return join(AGENTS_CACHE, `${def.npmPackage}@${def.testedVersion}`.replace(/[/@]/g, '_'));
}

export function cliBinDir(cli: string): string {
  const bin = join(packageDir(cli), 'node_modules', '.bin');
  if (!existsSync(join(bin, cli)))
    throw new Error(`${cli} ${BUILTIN_CLIS[cli]!.testedVersion} is not installed in ${AGENTS_CACHE}; run: npm run test:agents:install`);
  return bin;
}

export interface Conformance {
  cli: string;
  adapter: import('./scriptServer').ProtocolAdapter;
  configure(home: string, serverUrl: string): Record<string, string>;
}

export interface Sandbox {
  cli: string;
  dir: string;
  home: string;
  repo: string;
  env: Record<string, string>;
  git(...args: string[]): string;
  cleanup(): void;
}

export function makeSandbox(conf: Conformance, serverUrl: string, name: string): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), `orchard-conf-${conf.cli}-${name}-`));
  const home = join(dir, 'home');
  const repo = join(dir, 'repo');
  mkdirSync(home, { recursive: true });
  mkdirSync(repo, { recursive: true });
  const env: Record<string, string> = {
    PATH: [cliBinDir(conf.cli), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: home,
    USER: process.env.USER ?? 'root',
    LANG: 'C.UTF-8',
    TERM: 'xterm-256color',
    SHELL: '/bin/bash',
    TMPDIR: tmpdir(),
    GIT_AUTHOR_NAME: 'Agent',
    GIT_AUTHOR_EMAIL: 'agent@example.invalid',
    GIT_COMMITTER_NAME: 'Agent',
    GIT_COMMITTER_EMAIL: 'agent@example.invalid',
    // Each sandbox its own tmux server: nothing leaks between tests or into the user's.
    ORCHARD_TMUX_SOCKET: `orchard-conf-${conf.cli}-${name}-${process.pid}`,
    // Rate-limit pauses and retry backoff shrink 100×, so a paused profile resumes in seconds.
    ORCHARD_TEST_RETRY_SCALE: '0.01',
    NO_UPDATE_NOTIFIER: '1',
  };
  Object.assign(env, conf.configure(home, serverUrl));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'User');
  git('config', 'user.email', 'user@example.invalid');
  writeFileSync(join(repo, 'README.md'), '# sample\n');
  git('add', '-A');
  git('commit', '-qm', 'initial');
  return {
    cli: conf.cli,
    dir,
    home,
    repo,
    env,
    git,
    cleanup: () => {
      try {
        execFileSync('tmux', ['-L', env.ORCHARD_TMUX_SOCKET!, 'kill-server'], { stdio: 'ignore' });
      } catch {
        /* no server */
      }
      if (!process.env.ORCHARD_KEEP_SANDBOX) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OrchardProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The real `orchard` command (dist/cli.js) in the sandbox's repository. */
export function orchard(sb: Sandbox, args: string[]): OrchardProcess {
  let out = '';
  const child = spawn(process.execPath, [CLI_JS, ...args], { cwd: sb.repo, env: { ...sb.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function orchardOk(sb: Sandbox, args: string[]): Promise<string> {
  const p = orchard(sb, args);
  const code = await p.exited;
  if (code !== 0) throw new Error(`orchard ${args.join(' ')} exited ${code}:\n${p.output()}`);
  return p.output();
}

export interface OrchardEventLine {
  type: string;
  at: number;
  seq: number;
  [k: string]: any;
}

export function events(sb: Sandbox): OrchardEventLine[] {
  const file = join(sb.repo, '.git', 'orchard', 'events.jsonl');
  if (!existsSync(file)) return [];
  const out: OrchardEventLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as OrchardEventLine);
    } catch {
      /* a line being written */
    }
  }
  return out;
}

/** Ticket id → its latest status, from the events. */
export function statuses(ev: OrchardEventLine[]): Record<string, string> {
  const s: Record<string, string> = {};
  for (const e of ev) if (e.type === 'ticket-status') s[e.id] = e.to;
  return s;
}

export function runsOf(ev: OrchardEventLine[], ticketId: string): string[] {
  return ev.filter((e) => e.type === 'run-started' && e.run.ticketId === ticketId).map((e) => e.run.id as string);
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs: number, diag?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${diag ? `\n${diag()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function screenOf(sb: Sandbox): string {
  try {
    const sessions = execFileSync('tmux', ['-L', sb.env.ORCHARD_TMUX_SOCKET!, 'ls', '-F', '#{session_name}'], { encoding: 'utf8' }).trim().split('\n');
    return sessions
      .map((s) => `--- ${s}\n${execFileSync('tmux', ['-L', sb.env.ORCHARD_TMUX_SOCKET!, 'capture-pane', '-p', '-t', `=${s}:`], { encoding: 'utf8' })}`)
      .join('\n');
  } catch {
    return '(no tmux sessions)';
  }
}
