// The agent's own status file (agent-status.json in its worktree), read through a file watcher
// and on every poll: its progress and "done" are reports; a malformed one is said, not trusted.
import { existsSync, readFileSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { AGENT_STATUS_FILE, parseAgentStatus } from '../agentStatus';
import type { RunSession } from './runSession';

export class StatusFileReader {
  private watcher: FSWatcher | undefined;
  private last = '';

  constructor(private readonly session: RunSession) {}

  /** Watches the worktree (when it exists) and reads the file once. */
  start(): this {
    const worktree = this.session.ctx.worktree;
    if (worktree && existsSync(worktree)) {
      try {
        this.watcher = fsWatch(worktree, { persistent: false }, (_ev, name) => {
          if (name === AGENT_STATUS_FILE) this.poll();
        });
        this.watcher.on('error', () => undefined);
      } catch {
        this.watcher = undefined;
      }
      this.poll();
    }
    return this;
  }

  poll(): void {
    const s = this.session;
    const { worktree, log, runId } = s.ctx;
    if (!worktree) return;
    let text: string;
    try {
      text = readFileSync(join(worktree, AGENT_STATUS_FILE), 'utf8');
    } catch {
      return;
    }
    if (text === this.last) return;
    this.last = text;
    const parsed = parseAgentStatus(text);
    if (!parsed.ok) {
      log.warn(`${runId}: ${AGENT_STATUS_FILE} ignored: ${parsed.problem}`);
      s.reports.fire({ message: `${AGENT_STATUS_FILE} ignored: ${parsed.problem}` });
      return;
    }
    const st = parsed.status;
    const pct = st.progress === undefined ? undefined : st.progress <= 1 ? Math.round(st.progress * 1000) / 10 : st.progress;
    const done = st.status === 'done' || st.status === 'completed';
    s.reports.fire({ progress: pct, message: st.status ? `status: ${st.status}` : undefined, ...(done && { done: true }) });
  }

  close(): void {
    this.watcher?.close();
  }
}
