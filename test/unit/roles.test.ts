import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { chooseProfile, failuresByProfile, profileChain, validateRoles } from '../../src/core/roles';
import type { Run, Settings } from '../../src/core/model';
import { validateConfig } from '../../src/infra/config';

const settings: Pick<Settings, 'roles' | 'defaultAgent'> = {
  defaultAgent: 'claude',
  roles: {
    developer: { profile: 'claude', model: 'sonnet', fallbacks: [{ profile: 'codex' }, { profile: 'aider', model: 'gpt-4o' }] },
    reviewer: { profile: 'gemini' },
  },
};
const open = () => undefined;

describe('roles: profile chain and fallbacks', () => {
  it('maps a role to its profile, model and fallbacks in order', () => {
    assert.deepEqual(profileChain({ role: 'developer' }, settings), [
      { profile: 'claude', model: 'sonnet' },
      { profile: 'codex' },
      { profile: 'aider', model: 'gpt-4o' },
    ]);
    assert.deepEqual(profileChain({ role: 'reviewer' }, settings), [{ profile: 'gemini' }]);
  });
  it('a ticket without a mapped role uses its agent, else the default agent', () => {
    assert.deepEqual(profileChain({ role: 'poet' }, settings), [{ profile: 'claude' }]);
    assert.deepEqual(profileChain({}, settings), [{ profile: 'claude' }]);
    assert.deepEqual(profileChain({ agent: 'opencode' }, settings), [{ profile: 'opencode' }]);
  });
  it("a ticket's own agent comes first, then the role's chain", () => {
    assert.deepEqual(
      profileChain({ agent: 'codex', role: 'developer' }, settings).map((c) => c.profile),
      ['codex', 'claude', 'aider'],
    );
  });
  it('chooses the first profile that is not paused', () => {
    const d = chooseProfile({ id: 'T1', role: 'developer' }, settings, { pausedUntil: (p) => (p === 'claude' ? 5000 : undefined) });
    assert.ok(d.ok);
    assert.equal(d.profile, 'codex');
    assert.match(d.reason!, /claude is rate limited/);
  });
  it('after a failure with a profile, the next one is tried; when all failed, the one that failed least', () => {
    const f = new Map([['claude', 1]]);
    const d = chooseProfile({ id: 'T1', role: 'developer' }, settings, { pausedUntil: open, failures: f });
    assert.ok(d.ok && d.profile === 'codex');
    const all = new Map([
      ['claude', 2],
      ['codex', 1],
      ['aider', 2],
    ]);
    const d2 = chooseProfile({ id: 'T1', role: 'developer' }, settings, { pausedUntil: open, failures: all });
    assert.ok(d2.ok && d2.profile === 'codex');
  });
  it('waits until the first breaker closes when every profile is paused', () => {
    const d = chooseProfile({ id: 'T1', role: 'developer' }, settings, { pausedUntil: (p) => ({ claude: 9000, codex: 7000, aider: 8000 })[p] });
    assert.equal(d.ok, false);
    assert.equal(!d.ok && d.waitUntil, 7000);
  });
  it('counts failures per profile from the runs of one ticket', () => {
    const run = (id: string, ticketId: string, profile: string, outcome: Run['outcome']): Run => ({
      id,
      ticketId,
      slot: 1,
      attempt: 1,
      branch: '',
      worktree: '',
      startedAt: 0,
      profile,
      outcome,
    });
    const m = failuresByProfile(
      [run('a', 'T1', 'claude', 'failed'), run('b', 'T1', 'claude', 'timeout'), run('c', 'T1', 'codex', 'succeeded'), run('d', 'T2', 'codex', 'failed')],
      'T1',
    );
    assert.deepEqual([...m], [['claude', 2]]);
  });
  it('validates role settings with messages naming the role and field', () => {
    assert.deepEqual(validateRoles(settings.roles), []);
    const p = validateRoles({ Dev: { profile: '' }, tester: { profile: 'codex', fallbacks: [{ model: 'x' }] } });
    assert.ok(p.some((m) => /Dev/.test(m)));
    assert.ok(p.some((m) => /roles\.tester\.fallbacks\[0\]\.profile/.test(m)));
  });
});

describe('roles: config validation', () => {
  it('a bad roles setting in config.json is refused with the role and field', () => {
    assert.throws(
      () => validateConfig({ roles: { developer: { model: 'x' } } }, 'config.json'),
      /config\.json: roles\.developer\.profile must name an agent profile/,
    );
    assert.throws(() => validateConfig({ budgetUsd: -1 }, 'config.json'), /budgetUsd/);
    assert.equal(validateConfig({ roles: { developer: { profile: 'claude' } }, budgetUsd: 3 }, 'config.json').budgetUsd, 3);
  });
});
