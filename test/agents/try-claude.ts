// Tries the real Claude Code against the scripted server, outside Orchard:
//   node --import tsx test/agents/try-claude.ts [headless|tmux] [--orchard] [--fault rate-limit|overloaded]
// A temp git repo, its own HOME/XDG dirs, a stub orchard-agent on PATH that appends its argv
// (and stdin for `hook`) to a file. Headless prints the CLI's output; tmux prints the screens.
// --orchard applies clis/claude.ts prepare() (hooks, permissions) as Orchard would.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScriptServer, type FaultKind } from './scriptServer';
import { anthropicAdapter } from './protocols/anthropic';
import { claudeConformance } from './claude.config';
import { claude } from '../../src/infra/agents/clis/claude';

const BIN = join(process.env.HOME!, '.cache/orchard-agents/_anthropic-ai_claude-code_2.1.197/node_modules/.bin');
const mode = process.argv[2] ?? 'headless';
const withOrchard = process.argv.includes('--orchard');
const faultArg = process.argv.indexOf('--fault');
const fault = faultArg > 0 ? (process.argv[faultArg + 1] as FaultKind) : undefined;

const waitFor = async (what: string, ok: () => boolean, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'try-claude-'));
  const home = join(root, 'home');
  const repo = join(root, 'repo');
  const bin = join(root, 'bin');
  for (const d of [home, repo, bin]) mkdirSync(d, { recursive: true });
  const calls = join(root, 'orchard-agent.calls');
  const stub = join(bin, 'orchard-agent');
  writeFileSync(stub, `#!/bin/sh\nprintf '%s\\n' "$*" >> "${calls}"\ncase "$1" in hook) printf 'stdin: %s\\n' "$(cat)" >> "${calls}";; esac\necho ok\n`);
  chmodSync(stub, 0o755);
  const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, stdio: 'pipe' }).toString();
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 'T');
  writeFileSync(join(repo, 'README.md'), '# r\n');
  git('add', '.');
  git('commit', '-qm', 'init');
  // WORKTREE=1: work in a linked worktree outside the repository, as Orchard does.
  let cwd = repo;
  if (process.env.WORKTREE) {
    cwd = join(root, 'repo.orchard', 'worktrees', 'T1');
    git('worktree', 'add', '-q', '-b', 'orchard/T1', cwd);
  }

  const server = await startScriptServer({
    adapter: anthropicAdapter,
    keepBodies: true,
    script: {
      // STEPS='[{"shell":"…"},…]': another script.
      steps: process.env.STEPS ? (JSON.parse(process.env.STEPS) as Array<{ shell: string } | { text: string }>) : [
        { shell: 'orchard-agent progress 40 working' },
        // ASK=1: a command nothing allows, so a terminal session shows its permission dialog.
        ...(process.env.ASK ? [{ shell: 'node -e "console.log(6*7)"' }] : []),
        { shell: `printf 'hello\\n' > hello.txt && git add hello.txt && git commit -qm "add hello"` },
        { text: 'Done.' },
      ],
    },
    faults: fault ? [{ kind: fault, times: Number(process.env.FAULT_TIMES ?? 1) }] : [],
  });
  const env: Record<string, string> = {
    PATH: `${bin}:${BIN}:${process.env.PATH}`,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    PWD: cwd,
    ...claudeConformance.configure(home, server.url),
    ...(process.env.CLAUDE_CODE_MAX_RETRIES && { CLAUDE_CODE_MAX_RETRIES: process.env.CLAUDE_CODE_MAX_RETRIES }),
  };
  // NO_KEY_APPROVAL=1: a user who never answered Claude Code's custom-API-key question.
  if (process.env.NO_KEY_APPROVAL) {
    const f = join(home, '.claude.json');
    const c = JSON.parse(readFileSync(f, 'utf8'));
    delete c.customApiKeyResponses;
    writeFileSync(f, JSON.stringify(c, null, 2));
  }
  let extra: string[] = [];
  if (withOrchard) {
    const runDir = join(root, 'run');
    mkdirSync(runDir, { recursive: true });
    const p = claude.prepare!({ worktree: cwd, runDir, orchardAgent: stub, interactive: mode === 'tmux', env, trustWorktrees: true, log: (m) => console.log('[prepare]', m) });
    extra = p.args ?? [];
    Object.assign(env, p.env);
  }
  const prompt = 'Add hello.txt and commit it.';
  console.log('root', root, 'server', server.url);
  try {
    if (mode === 'headless') {
      const argv = [...extra, '-p', prompt, '--permission-mode', 'acceptEdits', '--output-format', 'json'];
      if (!withOrchard) argv.push('--allowedTools', 'Bash(orchard-agent:*)', 'Bash(git:*)', 'Bash(printf:*)');
      const t0 = Date.now();
      const child = spawn(join(BIN, 'claude'), argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      console.log(`exit ${code} after ${Date.now() - t0} ms`);
      console.log(out);
      writeFileSync(join(root, 'output.txt'), out);
    } else {
      const sock = `try-claude-${process.pid}`;
      const tmux = (...a: string[]) => execFileSync('tmux', ['-L', sock, ...a], { stdio: 'pipe', env }).toString();
      const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      const argv = claude.profile.interactiveArgv!.filter((a) => a !== '--model' && a !== '{model}').map((a) => (a === '{prompt}' ? prompt : a));
      const cmd = [join(BIN, 'claude'), ...extra, ...argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      // A timeout or Ctrl-C must not leave the TUI running.
      for (const sig of ['SIGINT', 'SIGTERM'] as const)
        process.once(sig, () => {
          try {
            tmux('kill-server');
          } catch {
            /* gone */
          }
          process.exit(1);
        });
      tmux('new-session', '-d', '-x', '200', '-y', '50', '-c', cwd, ...envArgs, cmd);
      const screens: string[] = [];
      const snap = (label: string) => {
        const s = tmux('capture-pane', '-p');
        screens.push(`=== ${label}\n${s}`);
        console.log(`=== ${label}\n${s.replace(/\n+$/, '').split('\n').filter((l) => l.trim()).slice(-14).join('\n')}`);
        return s;
      };
      try {
        const end = Date.now() + 90_000;
        let last = '';
        let answered = false;
        while (Date.now() < end) {
          await new Promise((r) => setTimeout(r, 1000));
          const s = tmux('capture-pane', '-p');
          if (s !== last) {
            last = s;
            snap(`t+${Math.round((Date.now() - end + 90_000) / 1000)}s`);
          }
          // ANSWER_DIALOG='["1"]' (JSON list of send-keys arguments): how a permission dialog is answered.
          if (process.env.ANSWER_DIALOG && /Do you want to proceed\?/.test(s) && !answered) {
            answered = true;
            const keys = JSON.parse(process.env.ANSWER_DIALOG) as string[][];
            for (const k of keys) {
              console.log(`--> dialog: send-keys ${JSON.stringify(k)}`);
              tmux('send-keys', ...k);
              await new Promise((r) => setTimeout(r, 300));
            }
            continue;
          }
          const rule = claude.screens?.find((r) => new RegExp(r.pattern, 'i').test(s));
          if (rule?.keys && process.env.ANSWER !== '0') {
            console.log(`--> screen "${rule.name}": sending ${JSON.stringify(rule.keys)}`);
            for (const k of rule.keys) tmux('send-keys', k);
            continue;
          }
          if (existsSync(join(cwd, 'hello.txt')) && server.requests.some((r) => r.action?.kind === 'text')) break;
        }
        await new Promise((r) => setTimeout(r, 3000));
        snap('after the turn');
        // AFTER_KEYS='[["-l","text"],["Enter"]]': typed after the turn (how an answer reaches the TUI).
        if (process.env.AFTER_KEYS) {
          const before = server.requests.length;
          for (const k of JSON.parse(process.env.AFTER_KEYS) as string[][]) {
            tmux('send-keys', ...k);
            await new Promise((r) => setTimeout(r, Number(process.env.AFTER_DELAY_MS ?? 300)));
          }
          await waitFor('a request after the typed answer', () => server.requests.slice(before).some((r) => r.kind === 'main'), 15_000).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 2000));
          snap('after typing');
          const last = server.requests.slice(before).filter((r) => r.kind === 'main').pop();
          console.log('--- the model got as the newest user text:', JSON.stringify(last && anthropicAdapter.inspect(last.body, last.path).lastUserText));
        }
        if (process.env.EXIT_KEYS !== '0') {
          for (const k of claude.endSession?.keys ?? []) tmux('send-keys', k);
          await waitFor('the TUI to exit', () => {
            try {
              tmux('has-session');
              return false;
            } catch {
              return true;
            }
          }, claude.endSession?.graceMs ?? 5000).then(() => console.log('session ended by endSession keys'), () => snap('still there after endSession keys'));
        }
      } finally {
        writeFileSync(join(root, 'screens.txt'), screens.join('\n'));
        try {
          tmux('kill-server');
        } catch {
          /* gone */
        }
      }
    }
  } finally {
    console.log('--- orchard-agent calls');
    console.log(existsSync(calls) ? readFileSync(calls, 'utf8') : '(none)');
    console.log('--- git log', git('log', '--oneline', '--all'));
    console.log('--- requests', server.requests.map((r) => `${r.method} ${r.path} ${r.kind}${r.step !== undefined ? ` step ${r.step}` : ''}${r.action ? ` ${r.action.kind}` : ''}`).join('\n'));
    writeFileSync(join(root, 'requests.json'), JSON.stringify(server.requests, null, 1));
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
