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

/**
 * The ticket's work in its worktree, committed: `<id>\n` in one file, or the given files with
 * their texts, null deleting one (over `commits` commits, each later one changing every file);
 * the succeeded run.
 */
export async function workOn(w: GitWorkspace, id: string, files: string | Record<string, string | null>, commits = 1): Promise<Run> {
  const info = await w.prepareWorktree(ticketOf(id));
  const texts = typeof files === 'string' ? { [files]: `${id}\n` } : files;
  const g = (...a: string[]) => execFileSync('git', a, { cwd: info.path, env: { ...process.env, ...GIT_ENV }, stdio: 'ignore' });
  for (let c = 0; c < commits; c++) {
    for (const [rel, text] of Object.entries(texts)) {
      if (text === null) {
        fs.rmSync(path.join(info.path, rel), { force: true });
        continue;
      }
      fs.mkdirSync(path.dirname(path.join(info.path, rel)), { recursive: true });
      fs.writeFileSync(path.join(info.path, rel), c === 0 ? text : `${text}(${c})\n`);
    }
    g('add', '-A');
    g('commit', '-q', '-m', commits === 1 ? `${id} work` : `${id} work ${c}`);
  }
  return { id: `${id}-r1`, ticketId: id, slot: 1, attempt: 1, branch: info.branch, worktree: info.path, base: info.base, startedAt: 0, outcome: 'succeeded' };
}
