// `orchard workflow list|show|expand|add` and the ETA in `orchard status`.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSrc } from '../helpers/bundle';
import { buildDist, cleanupRepos, DIST, makeRepo } from '../helpers/repo';

before(() => buildDist());
after(() => cleanupRepos());

describe('orchard workflow (CLI)', () => {
  it('lists, expands without adding, adds; user templates from .orchard/workflows', async () => {
    const r = makeRepo();
    const { runCli } = loadSrc();
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(`ERR ${s}`), cwd: r.repo, distDir: DIST };
    assert.equal(await runCli(['init', '--agent', 'fake'], io), 0);
    fs.mkdirSync(path.join(r.repo, '.orchard/workflows'), { recursive: true });
    fs.copyFileSync(path.resolve(__dirname, '../fixtures/workflows/docs-review.json'), path.join(r.repo, '.orchard/workflows/docs-review.json'));
    fs.copyFileSync(path.resolve(__dirname, '../fixtures/workflows/broken.json'), path.join(r.repo, '.orchard/workflows/broken.json'));
    out.length = 0;
    assert.equal(await runCli(['workflow', 'list'], io), 0);
    const list = out.join('\n');
    for (const id of ['pipeline', 'spbr', 'bug', 'fanout', 'review', 'refine', 'hotfix', 'docs-review']) assert.match(list, new RegExp(`^${id} `, 'm'));
    assert.match(list, /ERR warning: template left out: .orchard\/workflows\/broken\.json/);
    out.length = 0;
    assert.equal(await runCli(['workflow', 'expand', 'fanout', '--request', 'CSV export', '--param', 'parts=api,ui'], io), 0);
    assert.match(out.join('\n'), /fanout → workflow fanout1: 5 tickets/);
    assert.match(out.join('\n'), /fanout1\.part\.api \[P2 developer 30m\] Build api: CSV export/);
    out.length = 0;
    assert.equal(await runCli(['workflow', 'expand', 'bug', '--request', 'x', '--json'], io), 0);
    assert.equal(JSON.parse(out.filter((l) => !l.startsWith('ERR')).join('\n')).tickets.length, 4);
    out.length = 0;
    await runCli(['status'], io);
    assert.match(out.join('\n'), /No tickets/, 'expand added nothing');
    out.length = 0;
    assert.equal(await runCli(['workflow', 'add', 'docs-review', '--request', 'v2', '--id', 'docs'], io), 0);
    assert.match(out.join('\n'), /added 6 tickets/);
    out.length = 0;
    await runCli(['status'], io);
    assert.match(out.join('\n'), /ETA: about \d+ min left .*from estimates only/);
    out.length = 0;
    await runCli(['status', '--json'], io);
    const st = JSON.parse(out.join('\n'));
    assert.ok(st.prediction.batchEnd > Date.now());
    assert.equal(Object.keys(st.prediction.tickets).length, 6);
    await assert.rejects(runCli(['workflow', 'add', 'nope', '--request', 'x'], io), /no workflow template "nope"/);
    await assert.rejects(runCli(['workflow', 'expand', 'refine', '--request', 'x', '--param', 'rounds=99'], io), /rounds/);
  });
});
