// Orchard killed while fast-forwarding the user's checkout: git has written the new index and
// files but not moved the branch (HEAD.lock left). The next merge finishes that fast-forward
// instead of taking the half-updated checkout for the user's own uncommitted edits.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, it } from 'node:test';
import type { Run } from '../../src/core/model';
import type { GitWorkspace } from '../../src/infra/git/workspace';
import { loadSrc } from '../helpers/bundle';
import { ticketOf, workOn } from '../helpers/ticketWork';
import { cleanupRepos, GIT_ENV, makeRepo, quietLog } from '../helpers/repo';

after(() => cleanupRepos());

const ticket = (id: string) => ticketOf(id, 'queued-for-merge');

it('a fast-forward of the checkout cut short by a crash is finished by the next merge; nothing is taken for user edits', async () => {
  const r = makeRepo();
  const w = new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', log: quietLog() }) as GitWorkspace;
  const a = await workOn(w, 'A', 'a.txt');
  const b = await workOn(w, 'B', 'b.txt');
  const from = r.git('rev-parse', 'main');
  // What a SIGKILL inside `git merge --ff-only` leaves: the intent Orchard wrote, the checkout's
  // index and files at the new commit, the branch not moved, a lock file.
  const aTip = r.git('rev-parse', a.branch);
  const intent = path.join(path.dirname(w.integrationDir), 'fast-forward-intent.json');
  fs.mkdirSync(path.dirname(intent), { recursive: true });
  fs.writeFileSync(intent, JSON.stringify({ checkout: r.repo, target: 'main', from, to: aTip }));
  execFileSync('git', ['read-tree', '-m', '-u', from, aTip], { cwd: r.repo });
  fs.writeFileSync(path.join(r.repo, '.git', 'HEAD.lock'), `${aTip}\n`);
  assert.notEqual(r.git('status', '--porcelain'), '', 'the checkout looks dirty');

  const res = await w.merge(ticket('B'), b);
  assert.equal(res.kind, 'merged', JSON.stringify(res));
  assert.equal(r.git('merge-base', '--is-ancestor', aTip, 'main'), '', 'the interrupted fast-forward was finished');
  assert.equal(r.git('show', 'main:b.txt'), 'B');
  assert.equal(r.git('show', 'main:a.txt'), 'A');
  assert.equal(r.git('status', '--porcelain'), '', 'the checkout is clean and current');
  assert.equal(fs.existsSync(path.join(r.repo, '.git', 'HEAD.lock')), false);
  assert.equal(fs.existsSync(intent), false);
});

it('a checkout the user changed after the crash is left alone (target-dirty), the intent dropped', async () => {
  const r = makeRepo();
  const w = new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', log: quietLog() }) as GitWorkspace;
  const a = await workOn(w, 'A', 'a.txt');
  const b = await workOn(w, 'B', 'b.txt');
  const from = r.git('rev-parse', 'main');
  const intent = path.join(path.dirname(w.integrationDir), 'fast-forward-intent.json');
  fs.mkdirSync(path.dirname(intent), { recursive: true });
  fs.writeFileSync(intent, JSON.stringify({ checkout: r.repo, target: 'main', from, to: r.git('rev-parse', a.branch) }));
  fs.writeFileSync(path.join(r.repo, 'mine.txt'), 'the user\n');
  execFileSync('git', ['add', 'mine.txt'], { cwd: r.repo });
  const res = await w.merge(ticket('B'), b);
  assert.equal(res.kind, 'target-dirty');
  assert.equal(r.git('rev-parse', 'main'), from, 'main not moved');
  assert.equal(fs.readFileSync(path.join(r.repo, 'mine.txt'), 'utf8'), 'the user\n');
  assert.equal(fs.existsSync(intent), false);
});

/** Two commits on a ticket's branch's side: `to` changes, deletes and adds several files. */
async function widerWork(w: GitWorkspace, r: ReturnType<typeof makeRepo>, id: string): Promise<{ run: Run; from: string; to: string }> {
  const g0 = (...a: string[]) => execFileSync('git', a, { cwd: r.repo, env: { ...process.env, ...GIT_ENV }, stdio: 'ignore' });
  for (const f of ['f1', 'f2', 'f3']) fs.writeFileSync(path.join(r.repo, `${f}.txt`), `${f} old\n`);
  g0('add', '-A');
  g0('commit', '-q', '-m', 'base files');
  const from = r.git('rev-parse', 'main');
  const run = await workOn(w, id, { 'f1.txt': 'f1 new\n', 'f2.txt': null, 'f4.txt': 'f4 new\n', 'f5.txt': 'f5 new\n' });
  return { run, from, to: r.git('rev-parse', run.branch) };
}

/** A (wide change) fast-forwarding main when Orchard died, with its intent written; B queued next. */
async function killedWideFastForward() {
  const r = makeRepo();
  const w = new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', log: quietLog() }) as GitWorkspace;
  const { from, to } = await widerWork(w, r, 'A');
  const b = await workOn(w, 'B', 'b.txt');
  const intent = path.join(path.dirname(w.integrationDir), 'fast-forward-intent.json');
  fs.mkdirSync(path.dirname(intent), { recursive: true });
  fs.writeFileSync(intent, JSON.stringify({ checkout: r.repo, target: 'main', from, to }));
  return { r, w, from, to, b };
}

it('a fast-forward killed while git wrote the files (index old, some files new, one not yet written) is finished; nothing is lost', async () => {
  const { r, w, to, b } = await killedWideFastForward();
  // Half of the checkout written: f1 changed, f2 deleted, f4 created (untracked: the index is
  // still the old one), f5 not yet written; git's index.lock left behind.
  fs.writeFileSync(path.join(r.repo, 'f1.txt'), 'f1 new\n');
  fs.rmSync(path.join(r.repo, 'f2.txt'));
  fs.writeFileSync(path.join(r.repo, 'f4.txt'), 'f4 new\n');
  fs.writeFileSync(path.join(r.repo, '.git', 'index.lock'), '');
  const res = await w.merge(ticket('B'), b);
  assert.equal(res.kind, 'merged', JSON.stringify(res));
  assert.equal(r.git('merge-base', '--is-ancestor', to, 'main'), '', 'the interrupted fast-forward was finished');
  assert.equal(r.git('show', 'main:f1.txt'), 'f1 new');
  assert.equal(r.git('show', 'main:f5.txt'), 'f5 new');
  assert.equal(r.git('show', 'main:b.txt'), 'B');
  assert.equal(r.git('ls-tree', '--name-only', 'main', 'f2.txt'), '');
  assert.equal(r.git('status', '--porcelain'), '', 'the checkout is clean and current');
  assert.equal(fs.readFileSync(path.join(r.repo, 'f5.txt'), 'utf8'), 'f5 new\n');
});

it('finishing an interrupted fast-forward, itself killed after moving the branch and before writing the files, is finished by the next process', async () => {
  const { r, w, to, b } = await killedWideFastForward();
  // The earlier finish moved main to `to`, then died: index and files still hold `from` (f1 old, f2 there, no f4/f5).
  execFileSync('git', ['update-ref', 'refs/heads/main', to], { cwd: r.repo });
  assert.notEqual(r.git('status', '--porcelain'), '', 'the checkout looks dirty against the moved branch');
  const intent = path.join(path.dirname(w.integrationDir), 'fast-forward-intent.json');
  assert.ok(fs.existsSync(intent), 'the intent is still there');
  const res = await w.merge(ticket('B'), b);
  assert.equal(res.kind, 'merged', JSON.stringify(res));
  assert.equal(r.git('status', '--porcelain'), '', 'the checkout is clean and current');
  assert.equal(fs.readFileSync(path.join(r.repo, 'f5.txt'), 'utf8'), 'f5 new\n');
  assert.equal(r.git('show', 'main:b.txt'), 'B');
  assert.equal(fs.existsSync(intent), false, 'the intent goes once finished');
});

it('a fast-forward killed inside the write of a file (an empty new file, a changed file cut short) is finished; a longer file is not', async () => {
  const { r, w, to, b } = await killedWideFastForward();
  // What a soak seed left: the new file created but not yet written (0 bytes), another cut short.
  fs.writeFileSync(path.join(r.repo, 'f4.txt'), '');
  fs.writeFileSync(path.join(r.repo, 'f1.txt'), 'f1 n');
  const res = await w.merge(ticket('B'), b);
  assert.equal(res.kind, 'merged', JSON.stringify(res));
  assert.equal(r.git('merge-base', '--is-ancestor', to, 'main'), '', 'the interrupted fast-forward was finished');
  assert.equal(fs.readFileSync(path.join(r.repo, 'f4.txt'), 'utf8'), 'f4 new\n');
  assert.equal(fs.readFileSync(path.join(r.repo, 'f1.txt'), 'utf8'), 'f1 new\n');
  assert.equal(r.git('status', '--porcelain'), '', 'the checkout is clean and current');

  // Not a prefix: the new version and more after it is someone's edit, never overwritten.
  const again = await killedWideFastForward();
  fs.writeFileSync(path.join(again.r.repo, 'f4.txt'), 'f4 new\nand a line the user added\n');
  const left = await again.w.merge(ticket('B'), again.b);
  assert.equal(left.kind, 'target-dirty', JSON.stringify(left));
  assert.equal(again.r.git('rev-parse', 'main'), again.from, 'main not moved');
  assert.equal(fs.readFileSync(path.join(again.r.repo, 'f4.txt'), 'utf8'), 'f4 new\nand a line the user added\n');
});

it('a half-written checkout that also holds a user edit of a path in from..to is left alone', async () => {
  const { r, w, from, b } = await killedWideFastForward();
  fs.writeFileSync(path.join(r.repo, 'f1.txt'), 'f1 new\n');
  fs.writeFileSync(path.join(r.repo, 'f5.txt'), 'the user typed this\n');
  const res = await w.merge(ticket('B'), b);
  assert.equal(res.kind, 'target-dirty', JSON.stringify(res));
  assert.equal(r.git('rev-parse', 'main'), from, 'main not moved');
  assert.equal(fs.readFileSync(path.join(r.repo, 'f5.txt'), 'utf8'), 'the user typed this\n');
  assert.equal(fs.readFileSync(path.join(r.repo, 'f1.txt'), 'utf8'), 'f1 new\n');
});

it("a lock left in the user's checkout by a killed git: the merge stops saying which file and what to do; main and the lock untouched", async () => {
  const r = makeRepo();
  const w = new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', log: quietLog() }) as GitWorkspace;
  const b = await workOn(w, 'B', 'b.txt');
  const before = r.git('rev-parse', 'main');
  const lock = path.join(r.repo, '.git', 'index.lock');
  fs.writeFileSync(lock, '');
  await assert.rejects(
    w.merge(ticket('B'), b),
    (e: Error) => /index\.lock stayed locked/.test(e.message) && /delete .*index\.lock, then choose Merge Now/.test(e.message),
  );
  assert.equal(r.git('rev-parse', 'main'), before, 'main not moved');
  assert.ok(fs.existsSync(lock), 'Orchard does not delete a lock it cannot prove is its own');
  // Orchard's own status checks of the checkout never take that lock.
  fs.rmSync(lock);
  const res = await w.merge(ticket('B'), b);
  assert.equal(res.kind, 'merged', JSON.stringify(res));
  assert.equal(fs.existsSync(lock), false);
});

it('a lock a killed Orchard left in its integration worktree is removed by the next process; the merge goes on', async () => {
  const r = makeRepo();
  const w1 = new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', log: quietLog() }) as GitWorkspace;
  const a = await workOn(w1, 'A', 'a.txt');
  assert.equal((await w1.merge(ticket('A'), a)).kind, 'merged');
  const gitdir = r.git('-C', w1.integrationDir, 'rev-parse', '--absolute-git-dir');
  fs.writeFileSync(path.join(gitdir, 'index.lock'), '');
  // The next Orchard process (a new workspace over the same repository).
  const w2 = new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', log: quietLog() }) as GitWorkspace;
  const b = await workOn(w2, 'B', 'b.txt');
  const res = await w2.merge(ticket('B'), b);
  assert.equal(res.kind, 'merged', JSON.stringify(res));
  assert.equal(r.git('show', 'main:b.txt'), 'B');
});
