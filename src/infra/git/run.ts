// The one place Orchard runs git. argv arrays only (never a shell string), the same config on
// every call (Orchard's identity, unquoted paths, no editor), and a typed GitError on failure.
//
// Node's child_process underneath, not simple-git: simple-git's environment guard rejects the
// whole call when the user's environment holds GIT_ASKPASS, GIT_SSL_CAINFO, … and refuses
// environment of ours (GIT_REFLOG_ACTION, GIT_INDEX_FILE), which once made merges silently
// never happen; it also resolves a failed command that wrote only to stdout. Not execa either:
// it is ESM-only, so every module that ran git would stop loading in the CommonJS unit tests
// and would weigh on the small orchard-agent bundle; git needs nothing it adds.
import { spawn, spawnSync } from 'node:child_process';
import { OrchardError } from '../../core/errors';

/** Identity Orchard commits and merges with (passed as -c options, so no repo config changes). */
export const ORCHARD_IDENTITY = ['user.name=Orchard', 'user.email=orchard@localhost'];

export interface GitOptions {
  cwd: string;
  /** Added to the inherited environment (never replaces it). */
  env?: Readonly<Record<string, string>>;
  /** Written to git's stdin. */
  input?: string | Uint8Array;
  /** false: a non-zero exit is returned in `exitCode` instead of thrown as a GitError. Default true. */
  reject?: boolean;
  /**
   * Run with the user's own identity (their git config), not Orchard's: for what Orchard does on
   * the user's behalf in their checkout (its fast-forward, reflog entries) and in the agent's
   * name inside its worktree (orchard-agent).
   */
  asUser?: boolean;
  timeoutMs?: number;
}

export interface GitResult<T extends string | Uint8Array = string> {
  /** Untrimmed (a file's last newline matters to some callers). */
  stdout: T;
  stderr: string;
  /** git's exit code; -1 when it was killed (timeout, signal) or could not start. */
  exitCode: number;
  ok: boolean;
}

/** A git command that failed: which one, where, how it exited and what it said. */
export class GitError extends OrchardError {
  constructor(
    readonly args: readonly string[],
    readonly cwd: string,
    readonly exitCode: number,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super('git-failed', `git ${args.join(' ')} failed in ${cwd}: ${stderr.trim() || stdout.trim() || `exit code ${exitCode}`}`);
    this.name = 'GitError';
  }

  static override is(e: unknown): e is GitError {
    return e instanceof GitError;
  }
}

const MAX_BUFFER = 256 * 1024 * 1024;

/** The full argv: the one config every call carries, then the caller's arguments. */
function argvOf(args: readonly string[], opts: GitOptions): string[] {
  const config = ['core.quotepath=off', ...(opts.asUser ? [] : ORCHARD_IDENTITY)];
  return [...config.flatMap((c) => ['-c', c]), ...args];
}

/** The inherited environment plus the caller's additions; an editor must never open (nobody would see it). */
function envOf(opts: GitOptions): NodeJS.ProcessEnv {
  return { ...process.env, GIT_EDITOR: 'true', GIT_SEQUENCE_EDITOR: 'true', ...opts.env };
}

interface Raw {
  stdout: Buffer;
  stderr: string;
  /** null: killed, timed out or never started. */
  status: number | null;
}

function settle<T extends string | Uint8Array>(args: readonly string[], opts: GitOptions, r: Raw, stdout: T): GitResult<T> {
  const ok = r.status === 0;
  const exitCode = ok ? 0 : (r.status ?? -1) || -1;
  if (!ok && opts.reject !== false) throw new GitError(args, opts.cwd, exitCode, r.stderr, r.stdout.toString('utf8'));
  return { stdout, stderr: r.stderr, exitCode, ok };
}

function exec(args: readonly string[], opts: GitOptions): Promise<Raw> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure = '';
    const child = spawn('git', argvOf(args, opts), {
      cwd: opts.cwd,
      env: envOf(opts),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.timeoutMs !== undefined && { timeout: opts.timeoutMs }),
    });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // git may exit without reading its input (EPIPE): its exit code says what happened.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
    child.on('error', (e) => (failure = `${e.message}\n`));
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: failure + Buffer.concat(err).toString('utf8'), status: failure ? null : code }));
  });
}

/** Runs git; throws GitError on a non-zero exit unless `reject: false`. */
export async function runGit(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const r = await exec(args, opts);
  return settle(args, opts, r, r.stdout.toString('utf8'));
}

/** runGit with stdout as bytes (a blob exactly as stored). */
export async function runGitBuffer(args: readonly string[], opts: GitOptions): Promise<GitResult<Uint8Array>> {
  const r = await exec(args, opts);
  return settle(args, opts, r, new Uint8Array(r.stdout));
}

/** runGit for the few callers that must stay synchronous (agent hook installers). */
export function runGitSync(args: readonly string[], opts: GitOptions): GitResult {
  const r = spawnSync('git', argvOf(args, opts), {
    cwd: opts.cwd,
    env: envOf(opts),
    maxBuffer: MAX_BUFFER,
    ...(opts.input !== undefined && { input: opts.input }),
    ...(opts.timeoutMs !== undefined && { timeout: opts.timeoutMs }),
  });
  const raw: Raw = {
    stdout: r.stdout ?? Buffer.alloc(0),
    stderr: (r.error ? `${r.error.message}\n` : '') + (r.stderr?.toString('utf8') ?? ''),
    status: r.error ? null : r.status,
  };
  return settle(args, opts, raw, raw.stdout.toString('utf8'));
}

/** stdout of a git command that must succeed, trimmed. */
export async function gitText(cwd: string, args: readonly string[], env?: Readonly<Record<string, string>>): Promise<string> {
  return (await runGit(args, { cwd, ...(env && { env }) })).stdout.trim();
}

/** One entry of `git worktree list --porcelain`. */
export interface WorktreeEntry {
  path: string;
  head?: string;
  /** Without refs/heads/. */
  branch?: string;
  /** Its folder is gone (git would prune it). */
  prunable?: boolean;
}

/** Parses `git worktree list --porcelain` (the only parser of it). */
export function parseWorktreeList(out: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) entries.push((cur = { path: line.slice(9) }));
    else if (cur && line.startsWith('HEAD ')) cur.head = line.slice(5);
    else if (cur && line.startsWith('branch ')) cur.branch = line.slice(7).replace(/^refs\/heads\//, '');
    else if (cur && line.startsWith('prunable')) cur.prunable = true;
  }
  return entries;
}

/**
 * Runs `op` again while it fails because a worktree is being added at this moment (another
 * ticket's, in this process): its folder is under .git/worktrees/ before its commondir and
 * gitdir files, and git refuses anything that reads every registration for that instant
 * ("failed to read .git/worktrees/T18/commondir"). A listing or a `--detach` add changes nothing
 * before it is refused; `worktree add -b` may have made its branch (its caller checks).
 */
export async function whileWorktreeAdded<T>(op: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await op();
    } catch (e) {
      if (i >= 40 || !/worktrees\/[^ ]*\/(commondir|gitdir)|invalid gitfile/i.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The repository's worktrees (the main checkout first). */
export async function listWorktrees(cwd: string): Promise<WorktreeEntry[]> {
  return whileWorktreeAdded(async () => parseWorktreeList((await runGit(['worktree', 'list', '--porcelain'], { cwd })).stdout));
}
