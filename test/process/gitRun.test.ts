// The one git runner (src/infra/git/run.ts): argv only, one config on every call, typed
// errors, env additions the user's environment cannot veto, stdin input, bytes out, and the
// one parser of `git worktree list --porcelain`.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { OrchardError } from '../../src/core/errors';
import { GitError, parseWorktreeList, runGit, runGitBuffer, runGitSync } from '../../src/infra/git/run';
import { cleanupRepos, makeRepo } from '../helpers/repo';

after(() => cleanupRepos());

describe('git runner', () => {
  it('returns stdout as git wrote it, and throws a GitError with argv, exit code and stderr', async () => {
    const r = makeRepo();
    const head = await runGit(['rev-parse', 'HEAD'], { cwd: r.repo });
    assert.equal(head.stdout, `${r.git('rev-parse', 'HEAD')}\n`);
    assert.equal(head.ok, true);
    const e = await runGit(['rev-parse', '--verify', 'no-such-ref'], { cwd: r.repo }).catch((x: unknown) => x);
    assert.ok(GitError.is(e));
    assert.ok(OrchardError.is(e, 'git-failed'));
    assert.deepEqual(e.args, ['rev-parse', '--verify', 'no-such-ref']);
    assert.equal(e.cwd, r.repo);
    assert.equal(e.exitCode, 128);
    assert.match(e.stderr, /no-such-ref|Needed a single revision/);
    assert.match(e.message, /^git rev-parse --verify no-such-ref failed in .*: fatal/);
  });

  it('with reject: false, a non-zero exit is an outcome, not an error', async () => {
    const r = makeRepo();
    const first = r.git('rev-parse', 'HEAD');
    r.write('a.txt', 'a\n');
    const second = r.commitAll('second');
    assert.equal((await runGit(['merge-base', '--is-ancestor', second, first], { cwd: r.repo, reject: false })).exitCode, 1);
    assert.equal((await runGit(['merge-base', '--is-ancestor', first, second], { cwd: r.repo, reject: false })).ok, true);
    assert.equal(runGitSync(['merge-base', '--is-ancestor', second, first], { cwd: r.repo, reject: false }).exitCode, 1);
  });

  it("commits as Orchard, or with the user's own identity when asked", async () => {
    const r = makeRepo();
    r.git('config', 'user.name', 'Person');
    r.git('config', 'user.email', 'person@example.com');
    r.write('b.txt', 'b\n');
    await runGit(['add', '-A'], { cwd: r.repo });
    await runGit(['commit', '-q', '-m', 'by orchard'], { cwd: r.repo });
    assert.equal(r.git('log', '-1', '--format=%an <%ae>'), 'Orchard <orchard@localhost>');
    await runGit(['commit', '-q', '--allow-empty', '-m', 'by the user'], { cwd: r.repo, asUser: true });
    assert.equal(r.git('log', '-1', '--format=%an <%ae>'), 'Person <person@example.com>');
  });

  it("adds environment even when the user's environment holds GIT_ASKPASS and GIT_SSL_CAINFO", async () => {
    const r = makeRepo();
    const saved = { askpass: process.env.GIT_ASKPASS, cainfo: process.env.GIT_SSL_CAINFO };
    process.env.GIT_ASKPASS = '/bin/false';
    process.env.GIT_SSL_CAINFO = '/nowhere.pem';
    try {
      const first = r.git('rev-parse', 'HEAD');
      r.write('c.txt', 'c\n');
      const next = r.commitAll('next');
      r.git('reset', '-q', '--hard', first);
      await runGit(['merge', '--ff-only', '--quiet', next], { cwd: r.repo, env: { GIT_REFLOG_ACTION: 'orchard: merge' } });
      assert.equal(r.git('rev-parse', 'HEAD'), next);
      assert.match(r.git('reflog', 'show', '-1', '--format=%gs', 'refs/heads/main'), /^orchard: merge/);
    } finally {
      for (const [k, v] of [
        ['GIT_ASKPASS', saved.askpass],
        ['GIT_SSL_CAINFO', saved.cainfo],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('writes input to stdin and reads bytes exactly, the last newline included', async () => {
    const r = makeRepo();
    const oid = (await runGit(['hash-object', '-w', '--stdin'], { cwd: r.repo, input: 'two lines\n\n' })).stdout.trim();
    const blob = await runGitBuffer(['cat-file', 'blob', oid], { cwd: r.repo });
    assert.equal(Buffer.from(blob.stdout).toString('utf8'), 'two lines\n\n');
  });

  it('parses git worktree list --porcelain: branch, detached HEAD, prunable', async () => {
    const r = makeRepo();
    const main = r.git('rev-parse', 'HEAD');
    const wt = path.join(r.root, 'wt');
    const gone = path.join(r.root, 'gone');
    r.git('worktree', 'add', '-q', '-b', 'orchard/A', wt, 'main');
    r.git('worktree', 'add', '-q', '--detach', gone, 'main');
    fs.rmSync(gone, { recursive: true, force: true });
    const list = parseWorktreeList((await runGit(['worktree', 'list', '--porcelain'], { cwd: r.repo })).stdout);
    assert.deepEqual(list, [
      { path: r.repo, head: main, branch: 'main' },
      { path: gone, head: main, prunable: true },
      { path: wt, head: main, branch: 'orchard/A' },
    ]);
  });
});
