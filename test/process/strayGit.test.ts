// A git left running by a killed Orchard (an orphan: not this process's child) still owns its
// lock files: they are removed only once it has ended. Real orphan gits (helpers/orphanGit.ts).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, it } from 'node:test';
import { clearStaleLocks, waitForStrayGit } from '../../src/infra/git/strayGit';
import { isSameProcess } from '../../src/infra/process';
import { orphanGit } from '../helpers/orphanGit';
import { cleanupRepos, makeRepo, quietLog } from '../helpers/repo';

after(() => cleanupRepos());

it(
  'a lock file is removed only after the orphan git working in that directory has ended; the log says what it waited for',
  { skip: !fs.existsSync('/proc/self/stat') },
  async () => {
    const r = makeRepo();
    const pid = await orphanGit(r.repo, 2);
    const lock = path.join(r.repo, '.git', 'index.lock');
    fs.writeFileSync(lock, '');
    const log = quietLog();
    await clearStaleLocks([lock], { dirs: [r.repo] }, log);
    assert.equal(isSameProcess(pid), false, 'returned while the orphan git still ran');
    assert.equal(fs.existsSync(lock), false);
    const text = log.lines.join('\n');
    assert.match(text, /waiting for git left running by an earlier Orchard \(pid \d+: git /);
    assert.match(text, /removing a stale index\.lock/);
  },
);

it("an orphan git in another directory, and this process's own git, are not waited for", { skip: !fs.existsSync('/proc/self/stat') }, async () => {
  const a = makeRepo();
  const b = makeRepo();
  const pid = await orphanGit(b.repo, 60, ['orchard/T7']);
  try {
    const log = quietLog();
    // Our own child git in the same directory at the same time is not a stray.
    const own = new Promise<void>((res) => {
      const c = spawn('sh', ['-c', 'git status >/dev/null; sleep 1'], { cwd: a.repo });
      c.on('close', () => res());
    });
    assert.equal(await waitForStrayGit({ dirs: [a.repo] }, log, 30_000), true);
    assert.equal(isSameProcess(pid), true, 'it waited for the git of another directory');
    assert.equal(log.lines.length, 0, log.lines.join('\n'));
    await own;
    // Named by a mentioned argument (a branch), it is a stray of that scope.
    assert.equal(await waitForStrayGit({ dirs: [a.repo], mention: ['orchard/T7'] }, quietLog(), 300), false);
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});
