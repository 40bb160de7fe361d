// A ticket is recorded merged only when its change is on the target (issue 16: the crash soak
// once found a ticket "merged" whose line was not on main). Two guards, with real git:
// - the integration worktree is not used while a git left running by a killed Orchard still
//   works in it (its lock files are not taken for stale ones);
// - a merge commit must hold the tree `git merge-tree` computes, not only the right parents.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, it } from 'node:test';
import type { GitWorkspace } from '../../src/infra/git/workspace';
import { isSameProcess } from '../../src/infra/process';
import { loadSrc } from '../helpers/bundle';
import { ticketOf, workOn } from '../helpers/ticketWork';
import { orphanGit } from '../helpers/orphanGit';
import { cleanupRepos, makeRepo, quietLog, type CapturedLog, type TempRepo } from '../helpers/repo';

after(() => cleanupRepos());

const ticket = (id: string) => ticketOf(id);

function ws(r: TempRepo, log: CapturedLog = quietLog()): GitWorkspace {
  return new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', testCommand: [], log }) as GitWorkspace;
}

it("a merge commit with the right parents but without the branch's change is not recorded: it is merged again from scratch", async () => {
  const r = makeRepo();
  const log = quietLog();
  const w = ws(r, log);
  const run = await workOn(w, 'M1', 'm1.txt');
  // Stands in for a second git writing the integration index during the merge: the first time,
  // the merge commit is rewritten with the same parents and without the branch's file.
  const once = path.join(r.root, 'hook-ran');
  const hook = path.join(r.repo, '.git', 'hooks', 'post-merge');
  fs.writeFileSync(
    hook,
    `#!/bin/sh\n[ -e "${once}" ] && exit 0\ntouch "${once}"\ngit rm -q --cached m1.txt && c=$(git -c user.name=x -c user.email=x@x commit-tree $(git write-tree) -p HEAD^1 -p HEAD^2 -m x) && git update-ref --no-deref HEAD $c\n`,
    { mode: 0o755 },
  );
  const res = await w.merge(ticket('M1'), run, { strategy: 'merge' });
  assert.equal(res.kind, 'merged');
  assert.equal(fs.existsSync(once), true, 'the hook ran');
  assert.equal(r.git('show', 'main:m1.txt'), 'M1', 'the change is on main');
  assert.match(log.lines.join('\n'), /M1: the merge gave tree \w+, not \w+ as git merge-tree computes; merging again from scratch/);
});

it(
  'the integration worktree waits for a git a killed Orchard left running there before its lock files are removed',
  { skip: !fs.existsSync('/proc/self/stat') },
  async () => {
    const r = makeRepo();
    const first = ws(r);
    const a = await workOn(first, 'A', 'a.txt');
    assert.equal((await first.merge(ticket('A'), a, { strategy: 'merge' })).kind, 'merged');
    const b = await workOn(first, 'B', 'b.txt');
    // The next Orchard process: a git of the killed one still works in the integration worktree
    // and holds its index.lock.
    const log = quietLog();
    const next = ws(r, log);
    const stray = await orphanGit(next.integrationDir, 2);
    const gitdir = execFileSync('git', ['rev-parse', '--absolute-git-dir'], { cwd: next.integrationDir, encoding: 'utf8' }).trim();
    fs.writeFileSync(path.join(gitdir, 'index.lock'), '');
    const res = await next.merge(ticket('B'), b, { strategy: 'merge' });
    assert.equal(res.kind, 'merged');
    assert.equal(isSameProcess(stray), false, 'the merge began only after the stray git ended');
    assert.equal(r.git('show', 'main:b.txt'), 'B');
    assert.match(log.lines.join('\n'), /waiting for git left running by an earlier Orchard/);
  },
);

it('an integration worktree whose .git file a killed worktree add cut short is set aside and made again; merges go on', async () => {
  // Crash soak seed 8: every merge after the restart failed on "invalid gitfile format" and escalated.
  const r = makeRepo();
  const first = ws(r);
  const a = await workOn(first, 'A', 'a.txt');
  assert.equal((await first.merge(ticket('A'), a, { strategy: 'merge' })).kind, 'merged');
  const b = await workOn(first, 'B', 'b.txt');
  fs.writeFileSync(path.join(first.integrationDir, '.git'), '');
  const gitdirs = path.join(r.repo, '.git', 'worktrees');
  const reg = fs.readdirSync(gitdirs).find((n) => fs.readFileSync(path.join(gitdirs, n, 'gitdir'), 'utf8').trim() === path.join(first.integrationDir, '.git'))!;
  fs.writeFileSync(path.join(gitdirs, reg, 'locked'), 'initializing\n');
  const log = quietLog();
  const next = ws(r, log);
  assert.equal((await next.merge(ticket('B'), b, { strategy: 'merge' })).kind, 'merged');
  assert.equal(r.git('show', 'main:b.txt'), 'B');
  const aside = fs.readdirSync(path.dirname(first.integrationDir)).filter((n) => n.startsWith('integration.interrupted-'));
  assert.equal(aside.length, 1, 'the broken folder is kept aside, not deleted');
  assert.match(log.lines.join('\n'), /its \.git file was cut short/);
});
