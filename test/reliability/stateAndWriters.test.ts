// Damaged state through the real CLI (recovered with the damaged file kept aside, or a clear
// error and nothing touched), two writer processes on one repository (exactly one writer at a
// time, no lost update), and secrets that must never reach logs or reports.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDist, cleanupRepos, makeRepo, sleep } from '../helpers/repo';
import { cli, cliSync, count, invariantProblems, printFigures, readEvents, SETTINGS, stateDir } from './helpers';

before(() => buildDist());
after(() => {
  printFigures('damaged state');
  printFigures('two writers');
  cleanupRepos();
});

function seeded(n = 3) {
  const r = makeRepo('orchard-state-');
  assert.equal(cliSync(r.repo, ['init', '--agent', 'fake']).code, 0);
  const file = path.join(r.root, 't.json');
  fs.writeFileSync(file, JSON.stringify({ tickets: Array.from({ length: n }, (_, i) => ({ id: `T${i + 1}`, title: `t${i + 1}` })) }));
  assert.equal(cliSync(r.repo, ['import', file]).code, 0);
  return r;
}

describe('damaged state files through the CLI', { timeout: 600_000 }, () => {
  const damage: Array<[string, (dir: string) => void, 'recovered' | 'error', RegExp?]> = [
    ['truncated snapshot', (d) => fs.writeFileSync(path.join(d, 'state.json'), fs.readFileSync(path.join(d, 'state.json'), 'utf8').slice(0, 40)), 'recovered'],
    ['invalid JSON snapshot', (d) => fs.writeFileSync(path.join(d, 'state.json'), '{ this is not json'), 'recovered'],
    ['empty snapshot', (d) => fs.writeFileSync(path.join(d, 'state.json'), ''), 'recovered'],
    [
      'hand-edited snapshot (tickets is a list)',
      (d) => fs.writeFileSync(path.join(d, 'state.json'), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(d, 'state.json'), 'utf8')), tickets: [] })),
      'recovered',
    ],
    ['missing snapshot, intact log', (d) => fs.rmSync(path.join(d, 'state.json')), 'recovered'],
    ['torn last line in the log', (d) => fs.appendFileSync(path.join(d, 'events.jsonl'), '{"type":"ticket-added","tick'), 'recovered'],
    [
      'future-schema snapshot',
      (d) => fs.writeFileSync(path.join(d, 'state.json'), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(d, 'state.json'), 'utf8')), schema: 999 })),
      'error',
      /newer Orchard \(schema 999\)/,
    ],
    [
      'bad line in the middle of the log',
      (d) => {
        const lines = fs.readFileSync(path.join(d, 'events.jsonl'), 'utf8').split('\n');
        lines.splice(1, 0, '{garbage');
        fs.writeFileSync(path.join(d, 'events.jsonl'), lines.join('\n'));
      },
      'error',
      /events\.jsonl:2: unreadable event/,
    ],
    ['invalid config.json', (d) => fs.writeFileSync(path.join(d, 'config.json'), '{ "maxAgents": '), 'error', /config\.json is not valid JSON/],
    [
      'negative agents in config.json',
      (d) => fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ maxAgents: -2 })),
      'error',
      /maxAgents is -2; use a whole number from 1 to 64/,
    ],
  ];
  for (const [what, harm, outcome, msg] of damage) {
    it(`${what}: ${outcome === 'recovered' ? 'recovered, the damaged file kept aside, no ticket lost' : 'a clear error naming the file, nothing changed'}`, () => {
      const r = seeded();
      const dir = stateDir(r.repo);
      harm(dir);
      const before = new Map(
        fs
          .readdirSync(dir)
          .filter((f) => fs.statSync(path.join(dir, f)).isFile())
          .map((f) => [f, fs.readFileSync(path.join(dir, f))]),
      );
      // a writer command (add) loads, repairs and writes
      const res = cliSync(r.repo, ['add', '--title', 'after the damage', '--id', 'A1']);
      if (outcome === 'recovered') {
        assert.equal(res.code, 0, res.err);
        const st = JSON.parse(cliSync(r.repo, ['status', '--json']).out) as { tickets: { id: string }[] };
        assert.deepEqual(st.tickets.map((t) => t.id).sort(), ['A1', 'T1', 'T2', 'T3'], 'no ticket lost');
        const aside = fs.readdirSync(dir).filter((f) => !before.has(f) && /state\.json\.|events\.jsonl\./.test(f));
        if (what !== 'missing snapshot, intact log') assert.ok(aside.length >= 1, `the damaged file is kept aside: ${fs.readdirSync(dir).join(', ')}`);
        assert.deepEqual(invariantProblems(r.repo, r.git), []);
        count('damaged state', true);
      } else {
        assert.equal(res.code, 2, res.out + res.err);
        assert.match(res.err, msg!);
        for (const [f, data] of before) assert.ok(fs.readFileSync(path.join(dir, f)).equals(data), `${f} was changed`);
        count('damaged state', true);
      }
    });
  }
});

describe('two writer processes on one repository', { timeout: 60 * 60_000 }, () => {
  it(`${SETTINGS.commands} interleaved commands from two processes: one writer at a time, no lost update, no corrupt file`, async () => {
    const r = seeded(0);
    const per = Math.ceil(SETTINGS.commands / 2);
    let refused = 0;
    const worker = async (name: string) => {
      for (let i = 0; i < per; i++) {
        for (let tries = 0; ; tries++) {
          const { done } = cli(r.repo, ['add', '--id', `${name}${i}`, '--title', `${name} ${i}`]);
          const res = await done;
          if (res.code === 0) break;
          // the other process holds the lease: a follower is refused with a message naming it
          assert.match(res.err, /already running in pid \d+/, res.err);
          refused++;
          assert.ok(tries < 200, `${name}${i}: never got the lease`);
          await sleep(5 + Math.random() * 30);
        }
        count('two writers', true);
      }
    };
    await Promise.all([worker('A'), worker('B')]);
    const st = JSON.parse(cliSync(r.repo, ['status', '--json']).out) as { tickets: { id: string }[] };
    assert.equal(st.tickets.length, per * 2, 'every add is there');
    const added = readEvents(r.repo).filter((e) => e.type === 'ticket-added');
    assert.equal(added.length, per * 2, 'each add is in the log once');
    assert.deepEqual(invariantProblems(r.repo, r.git), []);
    assert.equal(fs.existsSync(path.join(stateDir(r.repo), 'writer.lock')), false);
    console.log(`[reliability] two writers: ${per * 2} commands, ${refused} refused while the other wrote`);
  });
});

describe('secrets in the environment never reach logs or reports', { timeout: 600_000 }, () => {
  it('a fake key in the environment is nowhere in the state folder, run logs, status or report', () => {
    const canary = 'sk-orchard-canary-7f3a9c1e0b5d4e2f';
    const env = { OPENAI_API_KEY: canary, ANTHROPIC_API_KEY: canary, GITHUB_TOKEN: canary };
    const r = makeRepo('orchard-secret-');
    assert.equal(cliSync(r.repo, ['init', '--agent', 'fake'], env).code, 0);
    const file = path.join(r.root, 't.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        tickets: [
          { id: 'S1', title: 'one', prompt: 'x\n@sleep 50' },
          { id: 'S2', title: 'two', prompt: 'x\n@fail-once' },
        ],
      }),
    );
    assert.equal(cliSync(r.repo, ['import', file], env).code, 0);
    const run = cliSync(r.repo, ['run'], env);
    assert.equal(run.code, 0, run.out + run.err);
    const report = cliSync(r.repo, ['report'], env);
    const status = cliSync(r.repo, ['status', '--json'], env);
    const hits: string[] = [];
    for (const [n, text] of [
      ['run output', run.out + run.err],
      ['report', report.out],
      ['status', status.out],
    ] as const)
      if (text.includes(canary)) hits.push(n);
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && fs.readFileSync(p).includes(canary)) hits.push(p);
      }
    };
    walk(stateDir(r.repo));
    assert.deepEqual(hits, []);
  });
});
