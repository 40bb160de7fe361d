// The one worktree clean-up (src/infra/git/cleanup.ts), in the mode VS Code's Clean Up
// Worktrees uses (unmerged branches kept): clean worktrees go, uncommitted work and unmerged
// commits never do, a branch that moved since the listing is left alone, and the user's own
// checkout is never listed, even on an orchard/* branch.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { WorktreeCleanup } from '../../src/infra/git/cleanup';
import { cleanupRepos, GIT_ENV, makeRepo } from '../helpers/repo';

after(() => cleanupRepos());

const gitIn = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } }).trim();

describe('worktree clean-up', () => {
  it('keeping unmerged branches: clean worktrees go (merged branches too), dirty ones and unmerged commits stay', async () => {
    const r = makeRepo();
    const dir = path.join(r.root, 'repo.orchard', 'worktrees');
    const add = (id: string) => {
      const p = path.join(id === 'OUT' ? r.root : dir, id);
      r.git('worktree', 'add', '-q', '-b', `orchard/${id}`, p, 'main');
      return p;
    };
    const merged = add('M');
    const unmerged = add('U');
    fs.writeFileSync(path.join(unmerged, 'u.txt'), 'u\n');
    gitIn(unmerged, 'add', '-A');
    gitIn(unmerged, 'commit', '-qm', 'u');
    const uTip = gitIn(unmerged, 'rev-parse', 'HEAD');
    const dirty = add('D');
    fs.writeFileSync(path.join(dirty, 'd.txt'), 'uncommitted\n');
    const outside = add('OUT');
    const cleanup = new WorktreeCleanup({ repo: r.repo, worktreesDir: dir, targetBranch: 'main' });
    const stale = await cleanup.listStale(new Set());
    const byId = Object.fromEntries(stale.map((s) => [s.ticketId, s]));
    assert.equal(byId.OUT?.path, outside, 'worktrees of orchard/* branches outside the folder are listed');
    assert.ok(!stale.some((s) => s.path === r.repo), "the user's checkout is never listed");
    const res = await cleanup.reclaim(stale, { keepUnmergedBranches: true });
    assert.ok(res.removed.includes(merged) && res.removed.includes(unmerged) && res.removed.includes(outside));
    assert.equal(fs.existsSync(unmerged), false);
    assert.equal(r.git('rev-parse', 'refs/heads/orchard/U'), uTip, 'the unmerged branch is kept');
    assert.equal(r.git('branch', '--list', 'orchard/M'), '', 'the merged branch is deleted');
    assert.ok(res.kept.some((k) => k.what === dirty && /uncommitted/.test(k.why)));
    assert.equal(fs.readFileSync(path.join(dirty, 'd.txt'), 'utf8'), 'uncommitted\n');
    assert.deepEqual(res.archived, []);
  });

  it('a branch that moved since it was listed is left alone, its worktree too', async () => {
    const r = makeRepo();
    const dir = path.join(r.root, 'repo.orchard', 'worktrees');
    const wt = path.join(dir, 'X');
    r.git('worktree', 'add', '-q', '-b', 'orchard/X', wt, 'main');
    const cleanup = new WorktreeCleanup({ repo: r.repo, worktreesDir: dir, targetBranch: 'main' });
    const stale = await cleanup.listStale(new Set());
    assert.equal(stale.find((s) => s.ticketId === 'X')?.merged, true);
    fs.writeFileSync(path.join(wt, 'x.txt'), 'x\n');
    gitIn(wt, 'add', '-A');
    gitIn(wt, 'commit', '-qm', 'new work after the listing');
    const tip = gitIn(wt, 'rev-parse', 'HEAD');
    const res = await cleanup.reclaim(stale);
    assert.ok(res.kept.some((k) => k.what === wt && /moved since it was listed/.test(k.why)));
    assert.ok(fs.existsSync(wt));
    assert.equal(r.git('rev-parse', 'refs/heads/orchard/X'), tip);
  });
});
