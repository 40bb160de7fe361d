// A `git worktree add` killed half-way leaves HEAD at git's placeholder object: the next
// attempt repairs it in place (HEAD back on the ticket's branch, missing files restored,
// files that are there kept) instead of failing on "bad object HEAD".
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, it } from 'node:test';
import type { Ticket } from '../../src/core/model';
import { setAsideBrokenRegistrations, WorktreeManager } from '../../src/infra/git/worktrees';
import { isSameProcess } from '../../src/infra/process';
import { orphanGit } from '../helpers/orphanGit';
import { cleanupRepos, makeRepo, quietLog, type TempRepo } from '../helpers/repo';

after(() => cleanupRepos());

function manager(r: TempRepo): WorktreeManager {
  return new WorktreeManager({
    repo: r.repo,
    worktreesDir: path.join(r.root, 'repo.orchard', 'worktrees'),
    targetTip: async () => r.git('rev-parse', 'refs/heads/main'),
    targetBranch: 'main',
    log: quietLog(),
  });
}

const ticket: Ticket = {
  id: 'K',
  title: 't K',
  prompt: 'p',
  priority: 'P2',
  dependsOn: [],
  files: ['src/K.txt'],
  labels: [],
  status: 'running',
  createdAt: 0,
  attempts: 1,
};

it('an interrupted worktree setup (placeholder HEAD, files missing) is repaired on the next attempt, keeping what is there', async () => {
  const r = makeRepo();
  r.write('a.txt', 'A\n');
  r.write('b.txt', 'B\n');
  r.commitAll('two files');
  const m = manager(r);
  const wt = await m.prepareWorktree(ticket, 1);
  // What a SIGKILL during `git worktree add` leaves: HEAD at the all-zero placeholder, checkout unfinished.
  const gitdir = r.git('-C', wt.path, 'rev-parse', '--git-dir');
  fs.writeFileSync(path.resolve(wt.path, gitdir, 'HEAD'), '0000000000000000000000000000000000000000\n');
  fs.rmSync(path.join(wt.path, 'b.txt'));
  fs.writeFileSync(path.join(wt.path, 'a.txt'), 'A changed by the agent\n');
  const again = await m.prepareWorktree(ticket, 2);
  assert.equal(again.path, wt.path);
  assert.equal(r.git('-C', wt.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/K');
  assert.equal(fs.readFileSync(path.join(wt.path, 'b.txt'), 'utf8'), 'B\n', 'the missing file is back');
  assert.equal(fs.readFileSync(path.join(wt.path, 'a.txt'), 'utf8'), 'A changed by the agent\n', 'what was there is kept');
  assert.match(r.git('-C', wt.path, 'status', '--porcelain'), /M a\.txt/);
});

it('a worktree add killed during its checkout (registration still locked "initializing", a file cut short): tracked files are set back before an agent sees them', async () => {
  const r = makeRepo();
  r.write('README.md', '# A readme\nwith two lines\n');
  r.write('b.txt', 'B\n');
  r.commitAll('two files');
  const m = manager(r);
  const wt = await m.prepareWorktree(ticket, 1);
  const gitdir = r.git('-C', wt.path, 'rev-parse', '--absolute-git-dir');
  // What a SIGKILL while `git worktree add` checks out leaves: its lock, a file half-written, one not yet.
  fs.writeFileSync(path.join(gitdir, 'locked'), 'initializing');
  fs.writeFileSync(path.join(wt.path, 'README.md'), '');
  fs.rmSync(path.join(wt.path, 'b.txt'));
  await m.prepareWorktree(ticket, 2);
  assert.equal(fs.readFileSync(path.join(wt.path, 'README.md'), 'utf8'), '# A readme\nwith two lines\n', 'the file cut short is whole again');
  assert.equal(fs.readFileSync(path.join(wt.path, 'b.txt'), 'utf8'), 'B\n');
  // `git add -A && git commit` would find nothing to commit.
  assert.equal(r.git('-C', wt.path, 'status', '--porcelain'), '');
  assert.equal(fs.existsSync(path.join(gitdir, 'locked')), false, 'the registration is unlocked');
  // What differed is kept on a ref, not thrown away.
  const kept = r.git('for-each-ref', '--format=%(refname)', 'refs/orchard/setup-kept/');
  assert.match(kept, /^refs\/orchard\/setup-kept\/orchard\/K\/\d+$/);
});

it('a worktree locked by its user (git worktree lock) is not taken for an interrupted setup', async () => {
  const r = makeRepo();
  r.write('a.txt', 'A\n');
  r.commitAll('a file');
  const m = manager(r);
  const wt = await m.prepareWorktree(ticket, 1);
  r.git('worktree', 'lock', '--reason', 'on a USB disk', wt.path);
  fs.writeFileSync(path.join(wt.path, 'a.txt'), 'A changed\n');
  await m.prepareWorktree(ticket, 2);
  assert.equal(fs.readFileSync(path.join(wt.path, 'a.txt'), 'utf8'), 'A changed\n');
  assert.match(r.git('worktree', 'list', '--porcelain'), /locked on a USB disk/);
});

it('a worktree whose checkout stopped half-way (HEAD fine, index gone, files missing) gets them back before the next attempt', async () => {
  const r = makeRepo();
  for (const f of ['a.txt', 'b.txt', 'c.txt']) r.write(f, `${f}\n`);
  r.commitAll('three files');
  const m = manager(r);
  const wt = await m.prepareWorktree(ticket, 1);
  const gitdir = r.git('-C', wt.path, 'rev-parse', '--absolute-git-dir');
  fs.rmSync(path.join(gitdir, 'index'));
  fs.writeFileSync(path.join(gitdir, 'index.lock'), '');
  fs.rmSync(path.join(wt.path, 'b.txt'));
  fs.rmSync(path.join(wt.path, 'c.txt'));
  await m.prepareWorktree(ticket, 2);
  assert.equal(fs.existsSync(path.join(gitdir, 'index.lock')), false, 'the stale lock is gone');
  // Nothing would be committed as deleted: `git add -A && git commit` now finds nothing to do.
  assert.equal(r.git('-C', wt.path, 'status', '--porcelain'), '');
  for (const f of ['a.txt', 'b.txt', 'c.txt']) assert.equal(fs.readFileSync(path.join(wt.path, f), 'utf8'), `${f}\n`);
});

it("a worktree setup killed with git's HEAD.lock (and the branch's ref lock) left behind: the locks go, HEAD is pointed back, the next attempt starts", async () => {
  const r = makeRepo();
  const m = manager(r);
  const wt = await m.prepareWorktree(ticket, 1);
  const gitdir = r.git('-C', wt.path, 'rev-parse', '--absolute-git-dir');
  // What a SIGKILL inside `git worktree add` leaves: a placeholder HEAD and its lock.
  fs.writeFileSync(path.join(gitdir, 'HEAD'), '0000000000000000000000000000000000000000\n');
  fs.writeFileSync(path.join(gitdir, 'HEAD.lock'), '');
  const refLock = path.join(r.repo, '.git', 'refs', 'heads', 'orchard', 'K.lock');
  fs.writeFileSync(refLock, '');
  await m.prepareWorktree(ticket, 2);
  assert.equal(fs.existsSync(path.join(gitdir, 'HEAD.lock')), false);
  assert.equal(fs.existsSync(refLock), false);
  assert.equal(r.git('-C', wt.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/K');
});

it("a git worktree add of the ticket's folder left running by a killed Orchard is waited for before the folder is prepared again", async () => {
  const r = makeRepo();
  const m = manager(r);
  const wtPath = path.join(r.root, 'repo.orchard', 'worktrees', 'K');
  // Its first step, `git branch`, had run; the rest of it stands in below as a real orphan git
  // with the folder on its command line, as `git worktree add <path>` has.
  r.git('branch', 'orchard/K');
  const stray = await orphanGit(r.repo, 2, ['worktree-add', wtPath]);
  assert.equal(isSameProcess(stray), true);
  const wt = await m.prepareWorktree(ticket, 1);
  assert.equal(isSameProcess(stray), false, 'prepared only after the stray worktree add ended');
  assert.equal(wt.path, wtPath);
});

it("a worktree add killed at its start (an empty .git file, the branch's ref lock left): the folder is set aside, not deleted, and the worktree made again", async () => {
  const r = makeRepo();
  const m = manager(r);
  const wtPath = path.join(r.root, 'repo.orchard', 'worktrees', 'K');
  fs.mkdirSync(wtPath, { recursive: true });
  fs.writeFileSync(path.join(wtPath, '.git'), '');
  fs.writeFileSync(path.join(wtPath, 'half-written.txt'), 'x');
  fs.mkdirSync(path.join(r.repo, '.git', 'refs', 'heads', 'orchard'), { recursive: true });
  fs.writeFileSync(path.join(r.repo, '.git', 'refs', 'heads', 'orchard', 'K.lock'), '');
  const wt = await m.prepareWorktree(ticket, 2);
  assert.equal(r.git('-C', wt.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/K');
  assert.equal(r.git('-C', wt.path, 'status', '--porcelain'), '');
  const aside = fs.readdirSync(path.dirname(wtPath)).filter((n) => n.startsWith('K.interrupted-'));
  assert.equal(aside.length, 1, 'the broken folder is kept aside');
  assert.equal(fs.readFileSync(path.join(path.dirname(wtPath), aside[0]!, 'half-written.txt'), 'utf8'), 'x');
});

it('a worktree folder left without any .git file (worktree add killed before writing it) is set aside and the worktree made', async () => {
  const r = makeRepo();
  const m = manager(r);
  const wtPath = path.join(r.root, 'repo.orchard', 'worktrees', 'K');
  fs.mkdirSync(wtPath, { recursive: true });
  fs.writeFileSync(path.join(wtPath, 'partial.txt'), 'y');
  const wt = await m.prepareWorktree(ticket, 1);
  assert.equal(r.git('-C', wt.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/K');
  const aside = fs.readdirSync(path.dirname(wtPath)).filter((n) => n.startsWith('K.interrupted-'));
  assert.equal(aside.length, 1);
  assert.equal(fs.readFileSync(path.join(path.dirname(wtPath), aside[0]!, 'partial.txt'), 'utf8'), 'y');
});

it('a worktree whose .git file points at a registration that is gone (worktree add killed half-way, then pruned) is set aside and made again', async () => {
  const r = makeRepo();
  const m = manager(r);
  const wt = await m.prepareWorktree(ticket, 1);
  const gitdir = r.git('-C', wt.path, 'rev-parse', '--absolute-git-dir');
  fs.rmSync(gitdir, { recursive: true, force: true });
  const again = await m.prepareWorktree(ticket, 2);
  assert.equal(r.git('-C', again.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/K');
  assert.equal(fs.readdirSync(path.dirname(wt.path)).filter((n) => n.startsWith('K.interrupted-')).length, 1);
});

it("a worktree add killed before it unlocked its registration ('initializing'), its folder set aside: the lock is removed and the worktree made again on the branch", async () => {
  // A soak seed failed a ticket after 10 tries on "… is a missing but locked worktree".
  const r = makeRepo();
  const m = manager(r);
  const wt = await m.prepareWorktree(ticket, 1);
  fs.writeFileSync(path.join(wt.path, 'src-K.txt'), 'work\n');
  r.git('-C', wt.path, 'add', '-A');
  r.git('-C', wt.path, 'commit', '-q', '-m', 'K work');
  const gitdir = path.resolve(wt.path, r.git('-C', wt.path, 'rev-parse', '--git-dir'));
  fs.writeFileSync(path.join(gitdir, 'locked'), 'initializing\n');
  fs.renameSync(wt.path, `${wt.path}.interrupted-1`);
  const log = quietLog();
  const again = await new WorktreeManager({ ...(m as unknown as { opts: ConstructorParameters<typeof WorktreeManager>[0] }).opts, log }).prepareWorktree(
    ticket,
    2,
  );
  assert.equal(again.path, wt.path);
  assert.equal(fs.readFileSync(path.join(again.path, 'src-K.txt'), 'utf8'), 'work\n', 'the branch and its work are kept');
  assert.match(log.lines.join('\n'), /unlocked its registration .* \(locked "initializing" by a git worktree add that was interrupted\)/);
});

it("a worktree add killed while it wrote its registration (commondir empty): the registration and the folder are set aside, and every other ticket's worktree can still be added", async () => {
  // Crash soak seed 38: one half-written registration made every later `worktree add` fail
  // ("failed to read .git/worktrees/T13/commondir") and six tickets failed.
  const r = makeRepo();
  const m = manager(r);
  const broken: Ticket = { ...ticket, id: 'B13' };
  const wt = await m.prepareWorktree(broken, 1);
  const reg = path.resolve(wt.path, r.git('-C', wt.path, 'rev-parse', '--git-dir'));
  fs.writeFileSync(path.join(reg, 'commondir'), '');
  fs.writeFileSync(path.join(reg, 'locked'), 'initializing\n');
  const log = quietLog();
  const next = new WorktreeManager({ ...(m as unknown as { opts: ConstructorParameters<typeof WorktreeManager>[0] }).opts, log });
  const other = await next.prepareWorktree({ ...ticket, id: 'O1' }, 1);
  assert.equal(r.git('-C', other.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/O1');
  const again = await next.prepareWorktree(broken, 2);
  assert.equal(r.git('-C', again.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/B13');
  assert.match(log.lines.join('\n'), /\.git\/worktrees\/B13: left half-written by an interrupted git worktree add/);
  assert.equal(fs.readdirSync(path.join(r.repo, '.git', 'orchard-broken-worktrees')).length, 1, 'kept aside, not deleted');
});

it("a ticket's worktree add refused for the instant another worktree's registration is half-written is tried again, on the branch its first try made", async () => {
  // Crash soak seeds 34 and 84: git refuses every command that reads all registrations while one
  // is half-written ("failed to read .git/worktrees/T20/commondir"). `worktree add -b` refuses
  // only after it made the branch, so the next try must check that branch out, not make it again.
  const r = makeRepo();
  const m = manager(r);
  const elsewhere = path.join(r.root, 'elsewhere');
  fs.mkdirSync(elsewhere);
  fs.writeFileSync(path.join(elsewhere, '.git'), `gitdir: ${path.join(r.repo, '.git', 'worktrees', 'zz')}\n`);
  const reg = path.join(r.repo, '.git', 'worktrees', 'zz');
  fs.mkdirSync(reg, { recursive: true });
  fs.writeFileSync(path.join(reg, 'gitdir'), path.join(elsewhere, '.git') + '\n');
  fs.writeFileSync(path.join(reg, 'HEAD'), r.git('rev-parse', 'HEAD') + '\n');
  fs.writeFileSync(path.join(reg, 'commondir'), ''); // what another `worktree add` holds for an instant
  const ref = path.join(r.repo, '.git', 'refs', 'heads', 'orchard', 'K');
  // The other add finishes writing its registration once this one has made its branch and been refused.
  const finish = setInterval(() => {
    if (fs.existsSync(ref)) {
      fs.writeFileSync(path.join(reg, 'commondir'), '../..\n');
      clearInterval(finish);
    }
  }, 2);
  try {
    const wt = await m.prepareWorktree(ticket, 1);
    assert.equal(r.git('-C', wt.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/K');
    assert.equal(fs.readFileSync(path.join(wt.path, 'README.md'), 'utf8'), '# test repo\n', 'checked out');
  } finally {
    clearInterval(finish);
  }
});

it('a registration a worktree add finishes writing while Orchard reads the processes is whole by then: it is kept, not set aside', async () => {
  // Three tickets started at once under load: one ticket's registration looked half-written, its
  // add exited while the processes were read, and it was moved aside under its live agent;
  // every git command in that worktree then failed ("a detached HEAD (undefined)").
  const r = makeRepo();
  const m = manager(r);
  const wt = await m.prepareWorktree({ ...ticket, id: 'L1' }, 1);
  const reg = path.resolve(wt.path, r.git('-C', wt.path, 'rev-parse', '--git-dir'));
  const commondir = fs.readFileSync(path.join(reg, 'commondir'), 'utf8');
  fs.writeFileSync(path.join(reg, 'commondir'), ''); // as the add has it for an instant
  const log = quietLog();
  const worktreesDir = path.join(r.root, 'repo.orchard', 'worktrees');
  // The add writes its last file and exits while the processes are being read.
  await setAsideBrokenRegistrations(path.join(r.repo, '.git'), [worktreesDir], log, async () => {
    fs.writeFileSync(path.join(reg, 'commondir'), commondir);
    return [];
  });
  assert.ok(fs.existsSync(reg), 'the registration is where git looks for it');
  assert.equal(r.git('-C', wt.path, 'symbolic-ref', 'HEAD'), 'refs/heads/orchard/L1');
  assert.doesNotMatch(log.lines.join('\n'), /half-written/);
  // Still half-written once nobody writes it: set aside, as before.
  fs.writeFileSync(path.join(reg, 'commondir'), '');
  await setAsideBrokenRegistrations(path.join(r.repo, '.git'), [worktreesDir], log, async () => []);
  assert.equal(fs.existsSync(reg), false);
  assert.match(log.lines.join('\n'), /\.git\/worktrees\/L1: left half-written/);
});
