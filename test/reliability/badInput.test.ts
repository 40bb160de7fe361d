// Bad input: the corpus in test/fixtures/bad-input/ (≥100 malformed ticket and workstream
// files, see generate.mjs). Each is rejected with a message naming the file, the ticket and the
// field, and nothing is half-imported — checked in-process for every file and through the real
// CLI process for a sample and for the symlink escape. Text full of shell metacharacters is
// legitimate and is accepted as plain text (the canary lives in security.test.ts).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importTickets, ImportError, formatImportIssue, type ImportIssue } from '../../src/core/importers/index';
import { buildDist, cleanupRepos, makeRepo, ROOT } from '../helpers/repo';
import { cliSync, count, printFigures, stateDir } from './helpers';

const DIR = path.join(ROOT, 'test/fixtures/bad-input');
interface Case {
  files: string[];
  ticket: string | null;
  field: string | null;
  match: string;
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Case[];
const SCENARIO = 'bad input (malformed files)';

before(() => buildDist());
after(() => {
  printFigures(SCENARIO);
  cleanupRepos();
});

function load(c: Case) {
  return c.files.map((f) => ({ name: f.includes('/') ? path.basename(f) : f, text: fs.readFileSync(path.join(DIR, f), 'utf8') }));
}

function rejection(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    assert.ok(ImportError.is(e), `expected an ImportError, got ${String(e)}`);
    return e;
  }
  assert.fail('the file was accepted');
}

describe('bad input corpus: every file rejected, naming file, ticket and field', () => {
  it('the corpus holds at least 100 files', () => {
    assert.ok(manifest.reduce((n, c) => n + c.files.length, 0) >= 100);
    for (const c of manifest) for (const f of c.files) assert.ok(fs.existsSync(path.join(DIR, f)), f);
  });

  for (const c of manifest) {
    it(c.files.join(' + '), () => {
      const files = load(c);
      const e = rejection(() => importTickets(files));
      const re = new RegExp(c.match);
      const names = new Set(files.map((f) => f.name));
      const matches = (i: ImportIssue) => {
        if (!names.has(i.file)) return false;
        if (c.field !== null && i.field !== c.field) return false;
        if (c.ticket === null) return re.test(i.message);
        if (c.ticket.startsWith('#')) return i.ticketId === undefined && i.index === Number(c.ticket.slice(1)) - 1 && re.test(i.message);
        return i.ticketId === c.ticket && re.test(i.message);
      };
      const hit = e.issues.find(matches);
      count(SCENARIO, Boolean(hit));
      assert.ok(hit, `no issue naming ${c.ticket ?? '(file)'} / ${c.field ?? '-'} / ${c.match} among:\n${e.message.slice(0, 2000)}`);
      const line = formatImportIssue(hit);
      assert.ok(line.startsWith(`${hit.file}: `) || line.startsWith(`${hit.file}:${hit.line}:`), `the message names the file: ${line.slice(0, 300)}`);
      if (c.ticket && !c.ticket.startsWith('#')) assert.ok(line.includes(`ticket ${c.ticket.length > 80 ? '' : c.ticket}`), line.slice(0, 300));
      if (c.field) assert.ok(line.includes(`field "${c.field}"`), line.slice(0, 300));
      // the message stays readable even for huge input
      assert.ok(e.message.length < 20_000, `message is ${e.message.length} characters`);
    });
  }
});

describe('bad input through the real CLI: nothing half-imported', { timeout: 600_000 }, () => {
  it('a sample of the corpus: exit 2, the file named on stderr, no event written', () => {
    const r = makeRepo('orchard-badinput-');
    assert.equal(cliSync(r.repo, ['init', '--agent', 'fake']).code, 0);
    const good = path.join(r.root, 'good.json');
    fs.writeFileSync(good, JSON.stringify({ tickets: [{ id: 'OK1', title: 'fine' }] }));
    assert.equal(cliSync(r.repo, ['import', good]).code, 0);
    const eventsFile = path.join(stateDir(r.repo), 'events.jsonl');
    const before = fs.readFileSync(eventsFile, 'utf8');
    const sample = manifest.filter((_, i) => i % 12 === 0);
    for (const c of sample) {
      const args = c.files.map((f) => path.join(DIR, f));
      const res = cliSync(r.repo, ['import', ...args]);
      assert.equal(res.code, 2, `${c.files.join(' ')}: exit ${res.code}\n${res.out}`);
      assert.ok(res.err.includes(path.basename(c.files[0]!)), `${c.files[0]}: stderr names the file:\n${res.err.slice(0, 500)}`);
      assert.equal(fs.readFileSync(eventsFile, 'utf8'), before, `${c.files.join(' ')}: the log changed`);
    }
    // a good file together with a bad one: all or nothing
    const mixed = manifest.find((c) => c.files.some((f) => f.includes('cross-good-and-bad')))!;
    const res = cliSync(r.repo, ['import', ...mixed.files.map((f) => path.join(DIR, f))]);
    assert.equal(res.code, 2);
    const status = JSON.parse(cliSync(r.repo, ['status', '--json']).out) as { tickets: { id: string }[] };
    assert.deepEqual(
      status.tickets.map((t) => t.id),
      ['OK1'],
      'only the ticket imported before the bad files',
    );
  });

  it('file scopes through a symlink that leaves the repository are rejected, naming file, ticket and field', async () => {
    const r = makeRepo('orchard-symlink-');
    const outside = path.join(r.root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
    fs.symlinkSync(outside, path.join(r.repo, 'escape'));
    r.commitAll('a symlink out of the repository');
    assert.equal(cliSync(r.repo, ['init', '--agent', 'fake']).code, 0);
    const res = cliSync(r.repo, ['import', path.join(DIR, 'symlink/tickets.json')]);
    assert.equal(res.code, 2, res.out + res.err);
    assert.match(res.err, /tickets\.json: ticket S1, field "files": .*symlink/);
    assert.match(res.err, /tickets\.json: ticket S2, field "files": .*symlink/);
    assert.doesNotMatch(res.err, /ticket S3/);
    const status = JSON.parse(cliSync(r.repo, ['status', '--json']).out) as { tickets: unknown[] };
    assert.equal(status.tickets.length, 0);
  });

  it('text fields full of shell metacharacters, quotes, backticks and unicode are accepted verbatim', () => {
    const nasty = [
      '$(rm -rf ~)',
      '`reboot`',
      "'; DROP TABLE tickets; --",
      '"\\"$HOME\\""',
      '| tee /etc/passwd &',
      'ünïcödé 🚀 日本語 \u202e',
      '%s%n%x {{7*7}} ${{ secrets }}',
    ];
    const doc = {
      tickets: nasty.map((n, i) => ({ id: `N${i + 1}`, title: `t ${n}`, prompt: `p ${n}\n${n}`, labels: [n.replace(/\s/g, '').slice(0, 20) || 'x'] })),
    };
    const got = importTickets([{ name: 'nasty.json', text: JSON.stringify(doc) }]);
    assert.deepEqual(
      got.map((t) => [t.title, t.prompt]),
      nasty.map((n) => [`t ${n}`, `p ${n}\n${n}`]),
    );
  });
});
