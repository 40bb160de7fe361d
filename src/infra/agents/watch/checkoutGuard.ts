// An agent works only in its worktree: a process of its tree whose working folder is the
// user's checkout (a CLI that followed an inherited $PWD, a `cd` out of the worktree) is
// caught within a second or two, stopped, and reported; nothing of the user's is touched.
import { existsSync, readlinkSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { descendants } from '../../process';
import type { RunnerStatus } from '../../runner/protocol';
import { readJson } from './files';
import type { RunSession } from './runSession';

const isInside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);

/** The user's checkout of the repository whose state is in stateDir (`<checkout>/.git/orchard`); undefined for a bare or unusual layout. */
export function userCheckoutOf(stateDir: string): string | undefined {
  const common = dirname(stateDir);
  return common.endsWith(`${sep}.git`) ? dirname(common) : undefined;
}

export class CheckoutGuard {
  private readonly checkout: string | undefined;
  private lastCheck = 0;
  /** `pid:cwd` seen in the checkout at the last check. */
  private seenOutside = new Set<string>();

  constructor(
    private readonly session: RunSession,
    private readonly stateDir: string,
  ) {
    this.checkout = userCheckoutOf(stateDir);
  }

  poll(): void {
    const s = this.session;
    const { worktree, files, log, runId } = s.ctx;
    const checkout = this.checkout;
    if (!checkout || !worktree || s.problem || Date.now() - this.lastCheck < 1000 || !existsSync('/proc')) return;
    this.lastCheck = Date.now();
    const agentPid = readJson<RunnerStatus>(files.status)?.agentPid;
    if (!agentPid) return;
    const worktrees = dirname(worktree);
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
      if (isInside(cwd, checkout) && !isInside(cwd, worktrees) && !isInside(cwd, this.stateDir)) {
        seenNow.add(`${pid}:${cwd}`);
        if (!this.seenOutside.has(`${pid}:${cwd}`)) continue;
        s.problem = 'outside-worktree';
        s.outsideAt = cwd;
        log.warn(`${runId}: the agent works in your checkout (${cwd}), not in its worktree ${worktree}; stopping it`);
        s.requestStop(`it worked in your checkout (${cwd})`);
        return;
      }
    }
    this.seenOutside = seenNow;
  }
}
