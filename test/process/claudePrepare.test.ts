// clis/claude.ts prepare(): the worktree's .claude/settings.local.json (hooks, allow rules) and
// folder trust in ~/.claude.json only with the user's consent.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { claude, claudeTrustRoot } from '../../src/infra/agents/clis/claude';

const root = mkdtempSync(join(tmpdir(), 'claude-prepare-'));
after(() => rmSync(root, { recursive: true, force: true }));
const repo = join(root, 'repo');
const home = join(root, 'home');
mkdirSync(repo);
mkdirSync(home);
const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, stdio: 'pipe' });
git('init', '-q', '-b', 'main');
git('-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '--allow-empty', '-m', 'init');
const wt = join(root, 'repo.orchard', 'worktrees', 'T1');
git('worktree', 'add', '-q', '-b', 'orchard/T1', wt);

const prepare = (over: { interactive?: boolean; trustWorktrees?: boolean; wrapper?: string } = {}) => {
  const logs: string[] = [];
  const out = claude.prepare!({
    worktree: wt,
    runDir: join(repo, '.git', 'orchard', 'runs', 'T1-r1'),
    orchardAgent: over.wrapper ?? '/runs/T1-r1/bin/orchard-agent',
    interactive: over.interactive ?? false,
    env: { HOME: home },
    trustWorktrees: over.trustWorktrees ?? false,
    log: (m) => logs.push(m),
  });
  return { out, logs, settings: JSON.parse(readFileSync(join(wt, '.claude', 'settings.local.json'), 'utf8')) };
};

describe('Claude Code prepare', () => {
  it('writes Stop and Notification hooks and the allow rules, keeping what the user had', () => {
    mkdirSync(join(wt, '.claude'), { recursive: true });
    writeFileSync(
      join(wt, '.claude', 'settings.local.json'),
      JSON.stringify({ model: 'x', permissions: { allow: ['Read'] }, hooks: { Stop: [{ hooks: [{ type: 'command', command: 'mine' }] }] } }),
    );
    const { settings } = prepare();
    assert.equal(settings.model, 'x');
    assert.deepEqual(
      settings.hooks.Stop.map((h: any) => h.hooks[0].command),
      ['mine', `'/runs/T1-r1/bin/orchard-agent' hook turn-end --stdin`],
    );
    assert.equal(settings.hooks.Notification[0].hooks[0].command, `'/runs/T1-r1/bin/orchard-agent' hook needs-input --stdin`);
    for (const r of ['Read', 'Bash', 'Bash(orchard-agent:*)', 'Bash(git add:*)', 'Bash(git commit:*)']) assert.ok(settings.permissions.allow.includes(r), r);
    assert.deepEqual(settings.permissions.deny, ['Bash(git push:*)']);
  });
  it("a later run replaces the earlier run's hooks and wrapper rule, once", () => {
    const { settings } = prepare({ wrapper: '/runs/T1-r2/bin/orchard-agent' });
    prepare({ wrapper: '/runs/T1-r2/bin/orchard-agent' });
    const again = JSON.parse(readFileSync(join(wt, '.claude', 'settings.local.json'), 'utf8'));
    assert.deepEqual(again, settings);
    assert.equal(settings.hooks.Stop.length, 2);
    assert.ok(!JSON.stringify(settings).includes('T1-r1'));
    assert.equal(settings.permissions.allow.filter((r: string) => r === 'Bash').length, 1);
  });
  it('trust is keyed on the main repository (Claude Code follows a worktree to it)', () => {
    assert.equal(claudeTrustRoot(wt), execFileSync('realpath', [repo]).toString().trim());
  });
  it('marks the repository trusted in ~/.claude.json only for a terminal run with consent, and says so', () => {
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true }));
    prepare({ interactive: true, trustWorktrees: false });
    assert.deepEqual(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')), { hasCompletedOnboarding: true });
    prepare({ interactive: false, trustWorktrees: true });
    assert.deepEqual(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')), { hasCompletedOnboarding: true });
    const { logs } = prepare({ interactive: true, trustWorktrees: true });
    const config = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'));
    assert.equal(config.hasCompletedOnboarding, true);
    assert.equal(config.projects[claudeTrustRoot(wt)!].hasTrustDialogAccepted, true);
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /hasTrustDialogAccepted/);
    // Already trusted: nothing written, nothing said.
    assert.equal(prepare({ interactive: true, trustWorktrees: true }).logs.length, 0);
  });
});
