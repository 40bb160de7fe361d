// Worktree clean-up, the one copy of its safety rules (the CLI's `orchard worktrees`, the
// WorktreeManager and VS Code's Clean Up Worktrees all come here):
// - a worktree of a live run, and a folder Orchard did not make, are never touched;
// - uncommitted changes are never removed unless the user confirms, and then only once they
//   are kept on a WIP ref;
// - an unmerged branch is never deleted unless the user confirms, and then only once its
//   commits are kept on refs/orchard/archive/<branch>; its worktree goes only with that
//   confirmation, or when the caller keeps the branch (the folder then holds nothing the branch
//   does not);
// - a branch that moved since it was listed is left alone (its new commits were not looked at);
// - the user's own checkout (the main worktree) is never listed.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execFile } from 'node:child_process';
import { gitText, listWorktrees, runGit } from './run';

export interface StaleWorktree {
  kind: 'worktree' | 'missing-worktree' | 'stray-folder' | 'orphan-branch' | 'pool';
  path?: string;
  branch?: string;
  /** The branch's tip when it was listed (reclaim leaves a branch that moved since). */
  tip?: string;
  ticketId?: string;
  merged: boolean;
  dirty: boolean;
  /** Commits on the branch that are not on the target. */
  unmergedCommits: number;
  bytes: number;
  /** A run of this ticket is live: never reclaimed. */
  active: boolean;
}

export interface ReclaimResult {
  removed: string[];
  kept: { what: string; why: string }[];
  /** Refs that keep the commits of branches that were deleted on confirmation. */
  archived: string[];
}

export interface ReclaimOptions {
  /** The user confirmed: unmerged and dirty ones go too, their work kept on refs first. */
  confirm?: boolean;
  /** Unmerged branches stay (never archived and deleted); their clean worktrees may go. */
  keepUnmergedBranches?: boolean;
}

export interface CleanupOptions {
  repo: string;
  /** Orchard's worktrees folder: its pool and stray folders are listed too. */
  worktreesDir: string;
  /** Branches merged into it count as merged; without it nothing counts as merged. */
  targetBranch?: string;
  /** Keeps a dirty worktree's files on a WIP ref (its name), before a confirmed removal. */
  saveWip?: (item: StaleWorktree & { path: string; branch: string }, message: string) => Promise<string | undefined>;
}

/** Disk use of a folder in bytes (`du -sk`; 0 when it cannot be read). */
export function diskUsage(path: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('du', ['-sk', path], (err, stdout) => resolve(err ? 0 : Number(String(stdout).split(/\s/)[0]) * 1024 || 0));
  });
}

async function rev(cwd: string, ref: string): Promise<string | undefined> {
  const r = await runGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd, reject: false });
  return r.ok ? r.stdout.trim() : undefined;
}

export class WorktreeCleanup {
  constructor(private readonly opts: CleanupOptions) {}

  private async isMerged(ref: string): Promise<{ merged: boolean; unmerged: number }> {
    const target = this.opts.targetBranch;
    if (!target) return { merged: false, unmerged: 0 };
    const n = Number((await runGit(['rev-list', '--count', `refs/heads/${target}..${ref}`], { cwd: this.opts.repo, reject: false })).stdout.trim());
    return { merged: n === 0, unmerged: Number.isFinite(n) ? n : 0 };
  }

  /**
   * Worktrees in the worktrees folder (ticket and pool ones), worktrees of orchard/* branches
   * wherever they are, stray folders and orphaned orchard/* branches, with disk use.
   */
  async listStale(activeTickets: ReadonlySet<string> = new Set()): Promise<StaleWorktree[]> {
    const { repo, worktreesDir } = this.opts;
    const out: StaleWorktree[] = [];
    const wts = await listWorktrees(repo);
    // The first entry is the main worktree: the user's checkout, never Orchard's to remove.
    const ours = wts.slice(1).filter((w) => w.path.startsWith(worktreesDir + '/') || w.branch?.startsWith('orchard/'));
    const seen = new Set<string>();
    for (const w of ours) {
      seen.add(w.path);
      const rel = relative(worktreesDir, w.path);
      const isPool = rel.startsWith('.pool/');
      const ticketId = w.branch?.startsWith('orchard/') ? w.branch.slice(8) : isPool ? undefined : rel;
      const missing = !existsSync(w.path);
      const dirty = !missing && (await runGit(['status', '--porcelain'], { cwd: w.path, reject: false })).stdout.trim() !== '';
      const m = w.branch ? await this.isMerged(`refs/heads/${w.branch}`) : { merged: true, unmerged: 0 };
      out.push({
        kind: isPool ? 'pool' : missing ? 'missing-worktree' : 'worktree',
        path: w.path,
        branch: w.branch,
        ...(w.branch && { tip: await rev(repo, `refs/heads/${w.branch}`) }),
        ticketId,
        merged: m.merged,
        dirty,
        unmergedCommits: m.unmerged,
        bytes: missing ? 0 : await diskUsage(w.path),
        active: !!ticketId && activeTickets.has(ticketId),
      });
    }
    if (existsSync(worktreesDir)) {
      for (const name of readdirSync(worktreesDir)) {
        const p = join(worktreesDir, name);
        if (name === '.pool' || seen.has(p)) continue;
        out.push({
          kind: 'stray-folder',
          path: p,
          ticketId: name,
          merged: false,
          dirty: false,
          unmergedCommits: 0,
          bytes: await diskUsage(p),
          active: activeTickets.has(name),
        });
      }
    }
    const branches = (await gitText(repo, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/orchard/'])).split('\n').filter(Boolean);
    const checkedOut = new Set(wts.map((w) => w.branch));
    for (const b of branches) {
      if (checkedOut.has(b)) continue;
      const m = await this.isMerged(`refs/heads/${b}`);
      const ticketId = b.slice(8);
      out.push({
        kind: 'orphan-branch',
        branch: b,
        tip: await rev(repo, `refs/heads/${b}`),
        ticketId,
        merged: m.merged,
        dirty: false,
        unmergedCommits: m.unmerged,
        bytes: 0,
        active: activeTickets.has(ticketId),
      });
    }
    return out;
  }

  /** Removes what the rules above allow; says what was kept and why. */
  async reclaim(items: readonly StaleWorktree[], opts: ReclaimOptions = {}): Promise<ReclaimResult> {
    const repo = this.opts.repo;
    const res: ReclaimResult = { removed: [], kept: [], archived: [] };
    for (const it of items) {
      const what = it.path ?? it.branch ?? '?';
      const keep = (why: string) => res.kept.push({ what, why });
      if (it.active) {
        keep('its ticket is running');
        continue;
      }
      if (it.kind === 'stray-folder') {
        keep('not a git worktree: Orchard does not delete folders it did not create');
        continue;
      }
      // A pool worktree holds nothing of anyone's.
      const pool = it.kind === 'pool';
      const dirty = it.dirty && !pool;
      const unmerged = !it.merged && !pool;
      const keepBranch = unmerged && !opts.confirm;
      if (!opts.confirm && (dirty || (unmerged && (!opts.keepUnmergedBranches || it.kind === 'orphan-branch')))) {
        keep(
          dirty
            ? 'it has uncommitted changes (confirm to keep them on a WIP ref and remove it)'
            : `${it.unmergedCommits} commit(s) are not merged (confirm to archive them and remove it)`,
        );
        continue;
      }
      const tip = it.branch && !pool ? await rev(repo, `refs/heads/${it.branch}`) : undefined;
      if (it.tip && tip && tip !== it.tip) {
        keep(`its branch ${it.branch} moved since it was listed (list again)`);
        continue;
      }
      if (dirty && it.path && it.branch) {
        const ref = await this.opts.saveWip?.({ ...it, path: it.path, branch: it.branch }, `orchard: uncommitted work of ${it.branch} kept on cleanup`);
        if (!ref) {
          keep('its uncommitted changes could not be saved');
          continue;
        }
        res.archived.push(ref);
      }
      if (it.kind === 'worktree' || pool) {
        // Unconfirmed, git itself checks again that nothing is uncommitted (the list may be old).
        const force = pool || opts.confirm ? ['--force'] : [];
        const r = await runGit(['worktree', 'remove', ...force, it.path!], { cwd: repo, reject: false });
        if (!r.ok) {
          keep(r.stderr.trim());
          continue;
        }
      } else if (it.kind === 'missing-worktree') {
        await runGit(['worktree', 'prune'], { cwd: repo, reject: false });
      }
      if (tip && !keepBranch) {
        if (unmerged) {
          const ref = `refs/orchard/archive/${it.branch}`;
          await gitText(repo, ['update-ref', ref, tip]);
          res.archived.push(ref);
        }
        await runGit(['update-ref', '-d', `refs/heads/${it.branch}`, tip], { cwd: repo, reject: false });
      }
      res.removed.push(what);
    }
    return res;
  }
}

/** Human-readable size. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** The table `orchard worktrees` prints (and the VS Code command shows). */
export function formatStale(items: readonly StaleWorktree[]): string {
  if (items.length === 0) return 'no Orchard worktrees or branches';
  const rows = items.map((i) => {
    const state = i.active ? 'running' : i.kind === 'pool' ? 'pool' : i.merged ? 'merged' : `${i.unmergedCommits} unmerged`;
    return `${i.kind.padEnd(16)} ${(i.ticketId ?? '-').padEnd(14)} ${state.padEnd(12)} ${(i.dirty ? 'dirty' : '').padEnd(5)} ${formatBytes(i.bytes).padStart(8)}  ${i.path ?? i.branch ?? ''}`;
  });
  const total = items.reduce((a, i) => a + i.bytes, 0);
  return [...rows, `total ${formatBytes(total)}`].join('\n');
}
