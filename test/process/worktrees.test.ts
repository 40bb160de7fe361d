// WorktreeManager on real git: location, setup (copy, share modes, command, sparse), warm
// pool, WIP refs, run inspection and cleanup that never deletes unmerged commits.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Run, Ticket } from '../../src/core/model';
import { WorktreeManager, formatStale, globFiles, type WorktreeSetup } from '../../src/infra/git/worktrees';
import { cleanupRepos, makeRepo, quietLog, type TempRepo } from '../helpers/repo';

after(() => cleanupRepos());

const ticket = (id: string, files: string[] = [`src/${id}.txt`]): Ticket => ({
  id,
  title: `t ${id}`,
  prompt: 'p',
  priority: 'P2',
  dependsOn: [],
  files,
  labels: [],
  status: 'running',
  createdAt: 0,
  attempts: 1,
});

function manager(r: TempRepo, over: { setup?: WorktreeSetup; poolSize?: number } = {}) {
  const m = new WorktreeManager({
    repo: r.repo,
    worktreesDir: path.join(r.root, 'repo.orchard', 'worktrees'),
    targetTip: async () => r.git('rev-parse', 'refs/heads/main'),
    targetBranch: 'main',
    log: quietLog(),
    ...over,
  });
  return m;
}

const runOf = (id: string, wt: { path: string; branch: string; base: string }, attempt = 1): Run => ({
  id: `${id}-r${attempt}`,
  ticketId: id,
  slot: 1,
  attempt,
  branch: wt.branch,
  worktree: wt.path,
  base: wt.base,
  startedAt: Date.now() - 1000,
});

const gitIn = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@l', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe('worktrees', { timeout: 600_000 }, () => {
  it('lives outside the repository, on orchard/<id> from the target tip; a retry reuses it', async () => {
    const r = makeRepo();
    const m = manager(r);
    const wt = await m.prepareWorktree(ticket('A'));
    assert.equal(wt.path, path.join(r.root, 'repo.orchard', 'worktrees', 'A'));
    assert.ok(!wt.path.startsWith(r.repo + path.sep));
    assert.equal(wt.branch, 'orchard/A');
    assert.equal(wt.base, r.git('rev-parse', 'main'));
    assert.equal(gitIn(wt.path, 'symbolic-ref', '--short', 'HEAD'), 'orchard/A');
    fs.writeFileSync(path.join(wt.path, 'x.txt'), 'x');
    gitIn(wt.path, 'add', '-A');
    gitIn(wt.path, 'commit', '-qm', 'x');
    const again = await m.prepareWorktree(ticket('A'), 2);
    assert.equal(again.path, wt.path);
    assert.ok(fs.existsSync(path.join(wt.path, 'x.txt')), 'earlier work kept');
  });

  it('setup: copies files by glob, shares folders by copy / hard link / symlink, runs the command', async () => {
    const r = makeRepo();
    r.write('.gitignore', '.env*\nnode_modules/\nvendor/\ncache/\n');
    r.commitAll('ignore');
    r.write('.env', 'SECRET=1\n');
    r.write('.env.local', 'L=1\n');
    r.write('config/app.local.json', '{}');
    for (const d of ['node_modules', 'vendor', 'cache']) r.write(`${d}/pkg/index.js`, `// ${d}\n`);
    const m = manager(r, {
      setup: {
        copy: ['.env*', 'config/*.local.json'],
        share: [
          { path: 'node_modules', mode: 'symlink' },
          { path: 'vendor', mode: 'hardlink' },
          { path: 'cache', mode: 'copy' },
        ],
        command: [process.execPath, '-e', 'require("fs").writeFileSync("setup-ran", process.cwd())'],
      },
    });
    const wt = await m.prepareWorktree(ticket('S'));
    assert.equal(fs.readFileSync(path.join(wt.path, '.env'), 'utf8'), 'SECRET=1\n');
    assert.ok(fs.existsSync(path.join(wt.path, '.env.local')));
    assert.ok(fs.existsSync(path.join(wt.path, 'config/app.local.json')));
    assert.ok(fs.lstatSync(path.join(wt.path, 'node_modules')).isSymbolicLink());
    const src = fs.statSync(path.join(r.repo, 'vendor/pkg/index.js'));
    const linked = fs.statSync(path.join(wt.path, 'vendor/pkg/index.js'));
    assert.equal(linked.ino, src.ino, 'hard link shares the inode');
    const copied = fs.statSync(path.join(wt.path, 'cache/pkg/index.js'));
    assert.notEqual(copied.ino, src.ino);
    assert.equal(fs.readFileSync(path.join(wt.path, 'setup-ran'), 'utf8'), wt.path);
    assert.deepEqual(globFiles(r.repo, '.env*').sort(), ['.env', '.env.local']);
  });

  it('a failing setup command fails the preparation with its output', async () => {
    const r = makeRepo();
    const m = manager(r, { setup: { command: [process.execPath, '-e', 'console.error("no deps"); process.exit(3)'] } });
    await assert.rejects(m.prepareWorktree(ticket('F')), /exited with 3: no deps/);
  });

  it('sparse checkout holds the ticket files and the root files only', async () => {
    const r = makeRepo();
    for (const f of ['src/a.ts', 'src/b.ts', 'lib/c.ts', 'docs/d.md', 'package.json']) r.write(f, f);
    r.commitAll('tree');
    const m = manager(r, { setup: { sparse: true } });
    const wt = await m.prepareWorktree(ticket('P', ['src/a.ts', 'docs/**']));
    assert.ok(fs.existsSync(path.join(wt.path, 'src/a.ts')));
    assert.ok(fs.existsSync(path.join(wt.path, 'docs/d.md')));
    assert.ok(fs.existsSync(path.join(wt.path, 'package.json')));
    assert.ok(!fs.existsSync(path.join(wt.path, 'src/b.ts')));
    assert.ok(!fs.existsSync(path.join(wt.path, 'lib')));
  });

  it('warm pool: a prepared worktree is claimed with ref updates and refilled', async () => {
    const r = makeRepo();
    r.write('.gitignore', '.env\n');
    r.commitAll('ignore');
    r.write('.env', 'E=1');
    const m = manager(r, { poolSize: 2, setup: { copy: ['.env'] } });
    await m.refillPool();
    assert.equal(m.poolCount, 2);
    const wt = await m.prepareWorktree(ticket('W'));
    assert.equal(m.timings.at(-1)!.t.pooled, true);
    assert.equal(wt.path, m.worktreePath('W'));
    assert.equal(gitIn(wt.path, 'symbolic-ref', '--short', 'HEAD'), 'orchard/W');
    assert.equal(gitIn(wt.path, 'rev-parse', 'HEAD'), r.git('rev-parse', 'main'));
    assert.equal(gitIn(wt.path, 'status', '--porcelain'), '', 'clean after the claim');
    assert.ok(fs.existsSync(path.join(wt.path, '.env')), 'setup was done in the pool');
    // The target moves: the next claim brings the pool worktree to the new tip.
    r.write('new.txt', 'n');
    r.commitAll('moved');
    await m.refillPool();
    const wt2 = await m.prepareWorktree(ticket('V'));
    assert.equal(gitIn(wt2.path, 'rev-parse', 'HEAD'), r.git('rev-parse', 'main'));
    assert.ok(fs.existsSync(path.join(wt2.path, 'new.txt')));
    await m.refillPool();
    await m.drainPool();
    assert.equal(m.poolCount, 0);
  });

  it('saveWip keeps committed and uncommitted work on refs/orchard/wip/<ticket>/<attempt>, touching nothing', async () => {
    const r = makeRepo();
    const m = manager(r);
    const wt = await m.prepareWorktree(ticket('T'));
    fs.writeFileSync(path.join(wt.path, 'half.txt'), 'half done');
    const ref = await m.saveWip(runOf('T', wt, 2), 'wip');
    assert.equal(ref, 'refs/orchard/wip/T/2');
    assert.equal(r.git('show', `${ref}:half.txt`), 'half done');
    assert.match(gitIn(wt.path, 'status', '--porcelain'), /\?\? half.txt/, 'the worktree is left as it was');
    assert.equal(gitIn(wt.path, 'rev-parse', 'HEAD'), wt.base, 'the branch did not move');
  });

  it('inspectRun: worktree deleted, branch switched, target moved by the agent, history rewritten', async () => {
    const r = makeRepo();
    const m = manager(r);
    // deleted worktree: the branch keeps the commits
    const a = await m.prepareWorktree(ticket('D'));
    fs.writeFileSync(path.join(a.path, 'a.txt'), 'a');
    gitIn(a.path, 'add', '-A');
    gitIn(a.path, 'commit', '-qm', 'a');
    const aTip = gitIn(a.path, 'rev-parse', 'HEAD');
    fs.rmSync(a.path, { recursive: true, force: true });
    const ia = await m.inspectRun(runOf('D', a));
    assert.match(ia.problems.join(), /deleted its worktree/);
    assert.equal(r.git('rev-parse', 'orchard/D'), aTip);
    const back = await m.prepareWorktree(ticket('D'), 2);
    assert.equal(gitIn(back.path, 'rev-parse', 'HEAD'), aTip, 'the next attempt continues from the branch');

    // agent commits to main directly (update-ref), main is not moved back, its tip is kept
    const b = await m.prepareWorktree(ticket('B'));
    fs.writeFileSync(path.join(b.path, 'b.txt'), 'b');
    gitIn(b.path, 'add', '-A');
    gitIn(b.path, 'commit', '-qm', 'b');
    gitIn(b.path, 'update-ref', 'refs/heads/main', 'HEAD');
    const ib = await m.inspectRun(runOf('B', b));
    assert.match(ib.problems.join(), /changed the target branch main directly/);
    assert.equal(r.git('rev-parse', 'refs/orchard/target/B/1'), r.git('rev-parse', 'main'));

    // switched to another branch and rewrote below base
    const c = await m.prepareWorktree(ticket('C'));
    const before = r.git('rev-parse', 'main');
    gitIn(c.path, 'checkout', '-q', '-b', 'elsewhere');
    fs.writeFileSync(path.join(c.path, 'c.txt'), 'c');
    const ic = await m.inspectRun(runOf('C', c));
    assert.match(ic.problems.join(), /left its worktree on elsewhere/);
    assert.equal(gitIn(c.path, 'symbolic-ref', '--short', 'HEAD'), 'orchard/C');
    assert.equal(r.git('show', 'refs/orchard/wip/C/1:c.txt'), 'c', 'its files are on the WIP ref');
    assert.equal(r.git('rev-parse', 'main'), before);
    gitIn(c.path, 'reset', '-q', '--hard', `${c.base}~0`);
    const first = r.git('rev-list', '--max-parents=0', 'main');
    if (first !== c.base) {
      gitIn(c.path, 'reset', '-q', '--hard', first);
      const ic2 = await m.inspectRun(runOf('C', c));
      assert.match(ic2.problems.join(), /rewrote orchard\/C below its base/);
    }
  });

  it('cleanup: merged worktrees go, unmerged ones stay unless confirmed, and then their commits are archived', async () => {
    const r = makeRepo();
    const m = manager(r);
    const merged = await m.prepareWorktree(ticket('M'));
    const unmerged = await m.prepareWorktree(ticket('U'));
    fs.writeFileSync(path.join(unmerged.path, 'u.txt'), 'u');
    gitIn(unmerged.path, 'add', '-A');
    gitIn(unmerged.path, 'commit', '-qm', 'u');
    const uTip = gitIn(unmerged.path, 'rev-parse', 'HEAD');
    r.git('branch', 'orchard/orphan', 'main');
    fs.mkdirSync(path.join(m.worktreesDir, 'stray'), { recursive: true });
    const stale = await m.listStale(new Set());
    const kinds = Object.fromEntries(stale.map((s) => [s.ticketId ?? s.path, s]));
    assert.equal(kinds.M!.merged, true);
    assert.equal(kinds.U!.merged, false);
    assert.equal(kinds.U!.unmergedCommits, 1);
    assert.ok(kinds.U!.bytes > 0, 'disk use is shown');
    assert.equal(kinds.orphan!.kind, 'orphan-branch');
    assert.equal(kinds.stray!.kind, 'stray-folder');
    const res = await m.reclaim(stale);
    assert.ok(res.removed.includes(merged.path));
    assert.ok(res.kept.some((k) => k.what === unmerged.path && /not merged/.test(k.why)));
    assert.ok(fs.existsSync(unmerged.path));
    assert.ok(fs.existsSync(path.join(m.worktreesDir, 'stray')), 'folders Orchard did not make are never deleted');
    const res2 = await m.removeWorktree('U', { confirm: true });
    assert.ok(res2.removed.includes(unmerged.path));
    assert.equal(r.git('rev-parse', 'refs/orchard/archive/orchard/U'), uTip, 'the unmerged commit is kept');
    assert.match(formatStale(stale), /orphan-branch\s+orphan\s+merged/);
    assert.match(formatStale(stale), /total \d/);
    const active = await m.listStale(new Set(['X']));
    assert.ok(!active.some((s) => s.ticketId === 'U' && s.kind === 'worktree'));
  });
});
