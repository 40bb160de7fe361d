// A ticket's work on real git without an agent: its worktree prepared by the workspace, one
// file written and committed, and the finished run that would merge it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Run, Ticket, TicketStatus } from '../../src/core/model';
import type { GitWorkspace } from '../../src/infra/git/workspace';
import { GIT_ENV } from './repo';

export const ticketOf = (id: string, status: TicketStatus = 'merging'): Ticket => ({
  id,
  title: `ticket ${id}`,
  prompt: 'p',
  priority: 'P2',
  dependsOn: [],
  files: [],
  labels: [],
  status,
  createdAt: 0,
  attempts: 1,
});

/** Writes `<id>\n` to file in the ticket's worktree and commits it; the succeeded run. */
export async function workOn(w: GitWorkspace, id: string, file: string): Promise<Run> {
  const info = await w.prepareWorktree(ticketOf(id));
  fs.writeFileSync(path.join(info.path, file), `${id}\n`);
  const g = (...a: string[]) => execFileSync('git', a, { cwd: info.path, env: { ...process.env, ...GIT_ENV }, stdio: 'ignore' });
  g('add', '-A');
  g('commit', '-q', '-m', `${id} work`);
  return { id: `${id}-r1`, ticketId: id, slot: 1, attempt: 1, branch: info.branch, worktree: info.path, base: info.base, startedAt: 0, outcome: 'succeeded' };
}
