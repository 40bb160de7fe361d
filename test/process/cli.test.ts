// runCli in-process on temp repositories (the fake agent as the agent), plus the injection canary.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSrc } from '../helpers/bundle';
import { cli } from '../helpers/cli';
import { buildDist, cleanupRepos, makeRepo } from '../helpers/repo';

before(() => buildDist());
after(() => cleanupRepos());

function findNamed(dir: string, names: Set<string>, depth = 0, found: string[] = []): string[] {
  if (depth > 12) return found;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const e of entries) {
    if (names.has(e.name)) found.push(path.join(dir, e.name));
    if (e.isDirectory() && e.name !== 'node_modules') findNamed(path.join(dir, e.name), names, depth + 1, found);
  }
  return found;
}

describe('orchard CLI (runCli)', { timeout: 600_000 }, () => {
  it('init writes the config; status on an empty repo says there are no tickets', async () => {
    const r = makeRepo();
    const init = await cli(r.repo, 'init', '--agents', '2', '--mode', 'isolation', '--agent', 'fake');
    assert.equal(init.code, 0, init.error?.message);
    assert.match(init.out, /2 agents, isolation mode, default agent fake/);
    const cfg = JSON.parse(fs.readFileSync(path.join(r.repo, '.git', 'orchard', 'config.json'), 'utf8'));
    assert.equal(cfg.maxAgents, 2);
    assert.equal(cfg.targetBranch, 'main');
    const bad = await cli(r.repo, 'init', '--agents', '0');
    assert.match(bad.error?.message ?? '', /--agents must be a whole number from 1 to 64, got "0"/);
    const st = await cli(r.repo, 'status');
    assert.match(st.out, /No tickets/);
  });

  it('add with a bad priority is an error naming the field; a good add shows up in status --json', async () => {
    const r = makeRepo();
    const bad = await cli(r.repo, 'add', '--title', 'x', '--priority', 'P9');
    assert.ok(bad.error);
    assert.match(bad.error.message, /priority/);
    assert.match(bad.error.message, /P0, P1, P2, P3/);
    const noTitle = await cli(r.repo, 'add', '--prompt', 'x');
    assert.match(noTitle.error?.message ?? '', /--title/);
    const ok = await cli(r.repo, 'add', '--title', 'first', '--priority', 'P1', '--files', 'src/a.ts,src/b.ts');
    assert.equal(ok.code, 0, ok.error?.message);
    assert.match(ok.out, /added T1: first/);
    const ok2 = await cli(r.repo, 'add', '--title', 'second', '--depends', 'T1');
    assert.equal(ok2.code, 0, ok2.error?.message);
    const badDep = await cli(r.repo, 'add', '--title', 'third', '--depends', 'NOPE');
    assert.ok(badDep.error, 'an unknown dependency is refused');
    assert.match(badDep.error.message, /NOPE/);
    const st = await cli(r.repo, 'status', '--json');
    const parsed = JSON.parse(st.out) as {
      tickets: Array<{ id: string; priority: string; files: string[]; dependsOn: string[]; status: string }>;
      runs: unknown[];
      summary: unknown;
    };
    assert.deepEqual(
      parsed.tickets.map((t) => [t.id, t.priority]),
      [
        ['T1', 'P1'],
        ['T2', 'P2'],
      ],
    );
    assert.ok(['backlog', 'ready'].includes(parsed.tickets[0]!.status));
    assert.equal(parsed.tickets[1]!.status, 'backlog', 'T2 waits for T1');
    assert.deepEqual(parsed.tickets[0]!.files, ['src/a.ts', 'src/b.ts']);
    assert.deepEqual(parsed.tickets[1]!.dependsOn, ['T1']);
    assert.deepEqual(parsed.runs, []);
    assert.ok(parsed.summary);
  });

  it('import of a bad file: ImportError naming file, ticket and field; nothing imported', async () => {
    const r = makeRepo();
    const file = path.join(r.root, 'bad.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        tickets: [
          { id: 'OK1', title: 'fine', prompt: 'p', priority: 'P1' },
          { id: 'BAD1', title: 'broken', prompt: 'p', priority: 'urgent' },
        ],
      }),
    );
    const res = await cli(r.repo, 'import', file);
    assert.ok(res.error, 'import fails');
    assert.ok(loadSrc().ImportError.is(res.error), `an ImportError, got ${res.error.name}`);
    const m = res.error.message;
    assert.match(m, /bad\.json/);
    assert.match(m, /BAD1/);
    assert.match(m, /priority/);
    assert.match(m, /Nothing was imported/);
    const st = JSON.parse((await cli(r.repo, 'status', '--json')).out) as { tickets: unknown[] };
    assert.deepEqual(st.tickets, [], 'OK1 was not imported either');
    const missing = await cli(r.repo, 'import', path.join(r.root, 'nope.json'));
    assert.match(missing.error?.message ?? '', /nope\.json: no such file/);
  });

  it('simulate --json prints makespan, lowerBound, criticalPath, totalWork and a schedule', async () => {
    const r = makeRepo();
    const file = path.join(r.root, 'sim.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        tickets: [
          { id: 'A', title: 'a', prompt: 'a', priority: 'P1', estimate: 30 },
          { id: 'B', title: 'b', prompt: 'b', priority: 'P2', estimate: 20, dependsOn: ['A'] },
          { id: 'C', title: 'c', prompt: 'c', priority: 'P2', estimate: 40 },
          { id: 'D', title: 'd', prompt: 'd', priority: 'P2', estimate: 10, dependsOn: ['B', 'C'] },
        ],
      }),
    );
    const res = await cli(r.root, 'simulate', 'sim.json', '--agents', '2', '--json');
    assert.equal(res.code, 0, res.error?.message);
    const s = JSON.parse(res.out) as {
      makespan: number;
      lowerBound: number;
      criticalPath: unknown;
      totalWork: number;
      tickets: Array<{ id: string; start: number; end: number; slot: number }>;
    };
    assert.equal(s.totalWork, 100);
    assert.ok(s.criticalPath !== undefined);
    assert.ok(s.lowerBound >= 60, `critical path A→B→D is 60 min, lowerBound ${s.lowerBound}`);
    assert.ok(s.makespan >= s.lowerBound);
    assert.equal(s.makespan, 60, 'A‖C then B then D fits in 60 min on two agents');
    const byId = Object.fromEntries(s.tickets.map((t) => [t.id, t]));
    assert.deepEqual(Object.keys(byId).sort(), ['A', 'B', 'C', 'D']);
    for (const t of s.tickets) {
      assert.ok(Number.isInteger(t.slot) && t.slot >= 0 && t.slot <= 2, `slot ${t.slot}`);
      assert.ok(t.end > t.start);
    }
    assert.ok(byId.B!.start >= byId.A!.end);
    assert.ok(byId.D!.start >= Math.max(byId.B!.end, byId.C!.end));
  });

  it('injection canary: hostile ticket text goes through import + run with the fake agent and nothing gets executed', async () => {
    const r = makeRepo('orchard-canary-');
    const before = new Set(fs.readdirSync(os.tmpdir()));
    const nasty = [
      '$(touch PWNED1)',
      '; touch PWNED2',
      '`touch PWNED3`',
      `"quoted" 'single' \\"escaped\\" && touch PWNED4 | tee PWNED5`,
      'ünïcödé — 🚀 日本語',
    ];
    const file = path.join(r.root, 'tickets.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        tickets: nasty.map((n, i) => ({
          id: `N${i + 1}`,
          title: `title ${n}`,
          prompt: `prompt ${n}\nmore ${n}`,
          priority: 'P2',
          estimate: 1,
          files: [`notes/n${i + 1}.md`, `odd/${n.replace(/[\\"]/g, '').replace(/^[-\s]+/, '')}.txt`],
        })),
      }),
    );
    assert.equal((await cli(r.repo, 'init', '--agent', 'fake', '--agents', '2')).code, 0);
    const imp = await cli(r.repo, 'import', file);
    assert.equal(imp.code, 0, imp.error?.message);
    const run = await cli(r.repo, 'run', '--quiet');
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /5\/5 tickets done/);
    // the text arrived intact, as data: the fake agent wrote the titles into the files on main
    for (let i = 0; i < nasty.length; i++) assert.ok(r.git('show', `main:notes/n${i + 1}.md`).includes(`title ${nasty[i]}`), `N${i + 1} text intact`);
    // …and nothing ran it
    const pwned = new Set(['PWNED1', 'PWNED2', 'PWNED3', 'PWNED4', 'PWNED5']);
    const hits = [...findNamed(r.root, pwned), ...findNamed(process.cwd(), pwned, 10)];
    for (const n of fs.readdirSync(os.tmpdir())) if (!before.has(n) && pwned.has(n)) hits.push(path.join(os.tmpdir(), n));
    for (const n of pwned) if (fs.existsSync(path.join(os.tmpdir(), n)) || fs.existsSync(path.join(os.homedir(), n))) hits.push(n);
    assert.deepEqual(hits, []);
  });
});
