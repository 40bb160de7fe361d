import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Run, Ticket } from '../../src/core/model';
import { BUILTIN_PROFILES, expandArgv, resolveProfile, ProfileError } from '../../src/infra/agents/profiles';

const ticket = (over: Partial<Ticket> = {}): Ticket => ({
  id: 'T1',
  title: 't',
  prompt: 'p',
  priority: 'P2',
  dependsOn: [],
  files: ['src/a b.ts', 'lib/$(touch PWNED).js'],
  labels: [],
  status: 'running',
  createdAt: 0,
  attempts: 1,
  ...over,
});
const run: Run = { id: 'T1-r1', ticketId: 'T1', slot: 1, attempt: 1, branch: 'orchard/T1', worktree: '/tmp/wt dir/T1', startedAt: 0 };

describe('expandArgv', () => {
  const nasty = 'fix it; rm -rf / && echo "quoted" \'single\' `touch PWNED3` $(touch PWNED1)\nsecond line\n\ttab — ünïcödé 🚀 {ticketId}';
  it('keeps {prompt} as one element, byte for byte, whatever it holds', () => {
    const argv = expandArgv(['agent', '-p', '{prompt}', '--x'], ticket(), run, nasty);
    assert.deepEqual(argv, ['agent', '-p', nasty, '--x']);
  });
  it('does not re-expand placeholders that come from ticket text', () => {
    const argv = expandArgv(['a', '{prompt}'], ticket(), run, 'see {worktree} and {files}');
    assert.deepEqual(argv, ['a', 'see {worktree} and {files}']);
  });
  it('{files} alone expands to one element per file; inside text it is joined', () => {
    assert.deepEqual(expandArgv(['aider', '--message', '{prompt}', '{files}'], ticket(), run, 'p'), ['aider', '--message', 'p', 'src/a b.ts', 'lib/$(touch PWNED).js']);
    assert.deepEqual(expandArgv(['x', '--files={files}'], ticket(), run, 'p'), ['x', '--files=src/a b.ts lib/$(touch PWNED).js']);
    assert.deepEqual(expandArgv(['x', '{files}', 'y'], ticket({ files: [] }), run, 'p'), ['x', 'y']);
  });
  it('expands {ticketId} {worktree} {branch} in place', () => {
    assert.deepEqual(expandArgv(['x', '--id={ticketId}', '{worktree}', '{branch}'], ticket(), run, 'p'), ['x', '--id=T1', '/tmp/wt dir/T1', 'orchard/T1']);
  });
  it('every built-in profile keeps the prompt as exactly one element', () => {
    for (const p of Object.values(BUILTIN_PROFILES)) {
      for (const tpl of [p.argv, p.interactiveArgv].filter(Boolean) as string[][]) {
        const argv = expandArgv(tpl, ticket(), run, nasty);
        assert.equal(argv.filter((a) => a === nasty).length, 1, `${p.name}: ${JSON.stringify(tpl)}`);
        assert.ok(!argv.some((a) => a !== nasty && a.includes('PWNED1')), `${p.name}: prompt leaked into another element`);
      }
    }
  });
});

describe('resolveProfile', () => {
  it('returns built-ins and custom profiles (custom wins)', () => {
    assert.equal(resolveProfile('claude').argv[0], 'claude');
    const mine = { name: 'claude', description: 'mine', argv: ['my-claude', '{prompt}'] };
    assert.equal(resolveProfile('claude', { claude: mine }), mine);
  });
  it('an unknown profile is an error naming the known profiles', () => {
    assert.throws(
      () => resolveProfile('nope', { mine: { name: 'mine', description: '', argv: ['x'] } }),
      (e: unknown) => {
        assert.ok(ProfileError.is(e));
        const m = (e as Error).message;
        assert.match(m, /"nope"/);
        for (const k of [...Object.keys(BUILTIN_PROFILES), 'mine']) assert.ok(m.includes(k), `message names ${k}: ${m}`);
        return true;
      },
    );
  });
});
