// GitWorkspace on real temp repositories: worktrees outside the repo, merges in the
// integration worktree, compare-and-swap of the target, the user's checkout left alone.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Ticket } from '../../src/core/model';
import type { GitWorkspace } from '../../src/infra/git/workspace';
import { loadSrc } from '../helpers/bundle';
import { cleanupRepos, GIT_ENV, makeRepo, quietLog, type TempRepo } from '../helpers/repo';
import { ticketOf, workOn } from '../helpers/ticketWork';

after(() => cleanupRepos());

const ticket = (id: string, over: Partial<Ticket> = {}): Ticket => ({ ...ticketOf(id, 'running'), ...over });

function ws(r: TempRepo, testCommand: string[] = []): GitWorkspace {
  return new (loadSrc().GitWorkspace)({ repo: r.repo, targetBranch: 'main', testCommand, log: quietLog() });
}

describe('GitWorkspace', { timeout: 600_000 }, () => {
  it('creates the worktree outside the repo on orchard/<id> from the target tip, and reuses it on retry', async () => {
    const r = makeRepo();
    const w = ws(r);
    const info = await w.prepareWorktree(ticket('W1'));
    assert.equal(info.path, path.join(`${r.repo}.orchard`, 'worktrees', 'W1'));
    assert.equal(info.branch, 'orchard/W1');
    assert.equal(info.base, r.git('rev-parse', 'main'));
    assert.equal(r.git('-C', info.path, 'symbolic-ref', '--short', 'HEAD'), 'orchard/W1');
    fs.writeFileSync(path.join(info.path, 'keep.txt'), 'partial');
    const again = await w.prepareWorktree(ticket('W1'));
    assert.equal(again.path, info.path);
    assert.equal(fs.readFileSync(path.join(info.path, 'keep.txt'), 'utf8'), 'partial', 'a retry keeps earlier work');
  });

  it('collectChanges commits leftover work and counts commits since base', async () => {
    const r = makeRepo();
    const w = ws(r);
    const run = await workOn(w, 'C1', { 'a.txt': 'a' });
    fs.writeFileSync(path.join(run.worktree, 'b.txt'), 'uncommitted');
    const ch = await w.collectChanges(run, 'wip');
    assert.deepEqual(ch.files.sort(), ['a.txt', 'b.txt']);
    assert.equal(ch.commits, 2);
    assert.equal(r.git('-C', run.worktree, 'status', '--porcelain'), '');
  });

  it('merges into main through the integration worktree and fast-forwards the clean checkout', async () => {
    const r = makeRepo();
    const w = ws(r);
    const run = await workOn(w, 'M1', { 'm1.txt': 'one' });
    const res = await w.merge(ticket('M1'), run);
    assert.equal(res.kind, 'merged');
    assert.equal(r.git('rev-parse', 'main'), (res as { commit: string }).commit);
    assert.equal(fs.readFileSync(path.join(r.repo, 'm1.txt'), 'utf8'), 'one', 'checkout fast-forwarded');
    assert.equal((await w.merge(ticket('M1'), run)).kind, 'nothing-to-merge');
  });

  it('a dirty checkout of main: target-dirty, ref not moved, the user file untouched', async () => {
    const r = makeRepo();
    const w = ws(r);
    const run = await workOn(w, 'D1', { 'README.md': 'from the ticket\n' });
    r.write('README.md', 'my local edit\n');
    const before = r.git('rev-parse', 'main');
    const res = await w.merge(ticket('D1'), run);
    assert.deepEqual(res, { kind: 'target-dirty', checkout: r.repo });
    assert.equal(r.git('rev-parse', 'main'), before);
    assert.equal(fs.readFileSync(path.join(r.repo, 'README.md'), 'utf8'), 'my local edit\n');
  });

  it('a failing test command: test-failed with its output, target not moved', async () => {
    const r = makeRepo();
    const w = ws(r, [process.execPath, '-e', 'console.log("boom from tests"); process.exit(3)']);
    const run = await workOn(w, 'F1', { 'f.txt': 'f' });
    const before = r.git('rev-parse', 'main');
    const res = await w.merge(ticket('F1'), run);
    assert.equal(res.kind, 'test-failed');
    assert.match((res as { output: string }).output, /boom from tests/);
    assert.equal(r.git('rev-parse', 'main'), before);
  });

  it('when main is not checked out anywhere, the ref is moved by compare-and-swap', async () => {
    const r = makeRepo();
    r.git('checkout', '-q', '-b', 'other');
    const w = ws(r);
    const run = await workOn(w, 'U1', { 'u.txt': 'u' });
    const res = await w.merge(ticket('U1'), run);
    assert.equal(res.kind, 'merged');
    assert.equal(r.git('rev-parse', 'main'), (res as { commit: string }).commit);
    assert.equal(r.git('symbolic-ref', '--short', 'HEAD'), 'other', 'the user stays on their branch');
    assert.equal(fs.existsSync(path.join(r.repo, 'u.txt')), false);
  });

  it('main moving during the post-merge tests: merged again on the new tip, nothing lost', async () => {
    const r = makeRepo();
    r.git('checkout', '-q', '-b', 'other');
    // The test command commits to main (simulating another writer) the first time only.
    const marker = path.join(r.root, 'moved-once');
    const script = `const fs=require('fs');if(!fs.existsSync(${JSON.stringify(marker)})){fs.writeFileSync(${JSON.stringify(marker)},'');const cp=require('child_process');const env={...process.env,...${JSON.stringify(GIT_ENV)}};cp.execFileSync('git',['-C',${JSON.stringify(r.repo)},'commit-tree','-p','main','-m','concurrent','main^{tree}'],{env}).toString().trim();const c=cp.execFileSync('git',['-C',${JSON.stringify(r.repo)},'commit-tree','-p','main','-m','concurrent','main^{tree}'],{env}).toString().trim();cp.execFileSync('git',['-C',${JSON.stringify(r.repo)},'update-ref','refs/heads/main',c]);}`;
    const w = ws(r, [process.execPath, '-e', script]);
    const run = await workOn(w, 'R1', { 'r.txt': 'r' });
    const res = await w.merge(ticket('R1'), run);
    assert.equal(res.kind, 'merged');
    const main = r.git('rev-parse', 'main');
    assert.equal(main, (res as { commit: string }).commit);
    assert.match(r.git('log', '--format=%s', 'main'), /concurrent/, 'the concurrent commit is kept');
    assert.equal(r.git('show', 'main:r.txt'), 'r');
  });

  it('a conflicting branch: conflict with the files, target not moved, integration worktree clean', async () => {
    const r = makeRepo();
    r.write('x.txt', 'base\n');
    r.commitAll('x');
    const w = ws(r);
    const a = await workOn(w, 'A1', { 'x.txt': 'base\nfrom A\n' });
    const b = await workOn(w, 'B1', { 'x.txt': 'base\nfrom B\n' });
    assert.equal((await w.merge(ticket('A1'), a)).kind, 'merged');
    const tip = r.git('rev-parse', 'main');
    const res = await w.merge(ticket('B1'), b);
    assert.deepEqual(res, { kind: 'conflict', files: ['x.txt'] });
    assert.equal(r.git('rev-parse', 'main'), tip);
    assert.equal(r.git('show', 'main:x.txt'), 'base\nfrom A');
    assert.equal(r.git('-C', w.integrationDir, 'status', '--porcelain'), '');
  });
});
