// `orchard review` against a real `orchard run` (a child process holding the writer lease):
// with review: human the finished ticket waits; request-changes (a line comment) reaches the
// agent's next attempt through the writer's inbox; approve merges it; the run then ends.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OrchardState } from '../../src/core/model';
import { cli } from '../helpers/cli';
import { buildDist, cleanupRepos, DIST, makeRepo, waitFor } from '../helpers/repo';
import { seedTickets, spec } from '../helpers/session';

before(() => buildDist());
after(() => cleanupRepos());

describe('orchard review (CLI) while orchard run runs', { timeout: 600_000 }, () => {
  it('review: human — list, show, request-changes with a line comment (the next attempt gets it), approve; the run ends merged', async () => {
    const r = makeRepo();
    const stateDir = path.join(r.repo, '.git', 'orchard');
    await seedTickets(r.repo, [spec('V')]);
    const cfgFile = path.join(stateDir, 'config.json');
    const cfg = fs.existsSync(cfgFile) ? JSON.parse(fs.readFileSync(cfgFile, 'utf8')) : {};
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, defaultAgent: 'fake', review: 'bogus' }));
    const bad = await cli(r.repo, 'run', '--quiet');
    assert.match(bad.error?.message ?? '', /review is "bogus"; use "auto", "human"/, 'a bad policy names the field and the fix');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, defaultAgent: 'fake', review: 'human' }));

    let output = '';
    const run = spawn(process.execPath, [path.join(DIST, 'cli.js'), 'run'], {
      cwd: r.repo,
      env: { ...process.env, ORCHARD_FAKE_MS_PER_MINUTE: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    run.stdout.on('data', (d) => (output += d));
    run.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((res) => run.on('exit', res));
    const state = (): OrchardState => JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
    const status = () => {
      try {
        return state().tickets.V?.status;
      } catch {
        return undefined; // being written
      }
    };
    try {
      await waitFor(() => status() === 'in-review', 60_000, 'V waiting for review');
      assert.match(output, /review it: orchard review show V/);
      const list = await cli(r.repo, 'review', 'list');
      assert.match(list.out, /^V\s+waiting .* 1 file\(s\)\s+ticket V$/m);
      const show = await cli(r.repo, 'review', 'show', 'V');
      assert.match(show.out, /every ticket is reviewed/);
      assert.match(show.out, /the change: git diff [0-9a-f]{12}\.\.\.orchard\/V/);
      const noText = await cli(r.repo, 'review', 'request-changes', 'V');
      assert.match(noText.error?.message ?? '', /needs --summary TEXT or at least one --comment/);
      const badComment = await cli(r.repo, 'review', 'request-changes', 'V', '--comment', 'src/V.txt says hi');
      assert.match(badComment.error?.message ?? '', /is not "file:line: text"/);

      const sent = await cli(r.repo, 'review', 'request-changes', 'V', '--comment', 'src/V.txt:1: greet with hello');
      assert.equal(sent.code, 0, sent.error?.message ?? sent.out);
      assert.match(sent.out, /sent V back to its agent with 1 comment/);
      const ended2 = () => {
        try {
          return !!state().runs['V-r2']?.endedAt;
        } catch {
          return false;
        }
      };
      await waitFor(() => status() === 'in-review' && ended2(), 60_000, 'V back for review after its second attempt');
      // What composePrompt hands the agent after its ticket (the launcher puts it in the prompt).
      assert.match(state().runs['V-r2']!.context ?? '', /- src\/V\.txt:1: greet with hello/, "the comment, with file and line, is the next attempt's feedback");

      const wrong = await cli(r.repo, 'review', 'approve', 'NOPE');
      assert.match(wrong.error?.message ?? '', /NOPE/);
      const ok = await cli(r.repo, 'review', 'approve', 'V');
      assert.equal(ok.code, 0, ok.error?.message ?? ok.out);
      assert.equal(await exited, 0, output);
      assert.equal(status(), 'done');
      assert.match(r.git('log', '--format=%s', 'main'), /V/);
      const decided = fs
        .readFileSync(path.join(stateDir, 'events.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"review-decided"'))
        .map((l) => JSON.parse(l).decision);
      assert.deepEqual(decided, ['request-changes', 'approve']);
    } finally {
      run.kill('SIGKILL');
    }
  });
});
