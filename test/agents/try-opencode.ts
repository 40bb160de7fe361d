// Runs the real OpenCode CLI against the scripted server in a scratch repository, the way Orchard
// runs it: a ticket worktree made with `git worktree add`, a run folder in the repository's git
// dir, a stub `orchard-agent` on PATH (it appends its argv to calls.log), and the argv/env that
// src/infra/agents/clis/opencode.ts produces (profile + prepare()).
//
//   node --import tsx test/agents/try-opencode.ts [--tmux] [--raw] [--fault rate-limit:2] [--keep]
//        [--script progress-commit|ask|no-change|approval] [--no-auto] [--answer paste]
//
// --raw: without prepare()'s additions (shows what breaks without them). --tmux: the
// interactive TUI in a tmux session; every new screen is printed; screen rules of the CLI's
// definition are answered. Exits 0 when the expected outcome was seen.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run, Ticket } from '../../src/core/model';
import { opencode } from '../../src/infra/agents/clis/opencode';
import { expandArgv } from '../../src/infra/agents/profiles';
import { startScriptServer, type Fault, type ModelScript } from './scriptServer';
import { OPENCODE_TEST_MODEL, opencodeConformance } from './opencode.config';

const OPENCODE_BIN = join(process.env.HOME ?? '/root', '.cache/orchard-agents/opencode-ai_1.18.33/node_modules/.bin');

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const opt = (f: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};
const tmux = flag('--tmux');
const raw = flag('--raw');
const keep = flag('--keep');
const scriptName = opt('--script') ?? 'progress-commit';
const faults: Fault[] = (opt('--fault') ?? '')
  .split(',')
  .filter(Boolean)
  .map((f) => {
    const [kind, times] = f.split(':');
    return { kind: kind as Fault['kind'], times: Number(times ?? 1) };
  });

const SCRIPTS: Record<string, ModelScript> = {
  'progress-commit': {
    steps: [{ shell: 'orchard-agent progress 40 working' }, { shell: `printf 'hello\\n' > hello.txt && git add hello.txt && git commit -qm "add hello"` }, { text: 'Done.' }],
  },
  // A turn that ends with a question and no change: "waiting for the human".
  ask: { steps: [{ text: 'Which greeting do you want in hello.txt?' }, { shell: `printf 'hello\\n' > hello.txt && git add hello.txt && git commit -qm "add hello"` }, { text: 'Done.' }] },
  // A command on a path outside the worktree: OpenCode's external_directory permission.
  approval: { steps: [{ shell: 'touch /tmp/orchard-opencode-approval-probe' }, { text: 'Done.' }] },
  'no-change': { steps: [{ shell: 'orchard-agent progress 10 looking' }, { text: 'Nothing to do.' }] },
};

const deadline = (ms: number) => Date.now() + ms;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, ms: number, f: () => T | undefined | false): Promise<T> {
  const end = deadline(ms);
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function main(): Promise<number> {
  const base = mkdtempSync(join(tmpdir(), 'orchard-try-opencode-'));
  const home = join(base, 'home');
  const repo = join(base, 'repo');
  const wt = join(base, 'repo.orchard', 'worktrees', 'T1');
  mkdirSync(home, { recursive: true });
  mkdirSync(repo, { recursive: true });
  const git = (cwd: string, ...a: string[]) => execFileSync('git', a, { cwd, encoding: 'utf8' }).trim();
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 'orchard@example.com');
  git(repo, 'config', 'user.name', 'Orchard Test');
  writeFileSync(join(repo, 'README.md'), '# scratch\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  git(repo, 'worktree', 'add', '-q', '-b', 'orchard/T1', wt);
  const runDir = join(repo, '.git', 'orchard', 'runs', 'T1-r1');
  const bin = join(runDir, 'bin');
  mkdirSync(bin, { recursive: true });
  const calls = join(runDir, 'calls.log');
  const stub = join(bin, 'orchard-agent');
  // The stub records every call; `hook ...` also records its stdin when --stdin is given.
  writeFileSync(
    stub,
    `#!/bin/sh\nprintf '%s\\n' "$(date +%s.%N) $*" >> "${calls}"\ncase "$*" in *--stdin*) cat >> "${calls}"; echo >> "${calls}";; esac\ncase "$1" in escalate) echo "Say hello.";; esac\nexit 0\n`,
  );
  chmodSync(stub, 0o755);

  const server = await startScriptServer({ adapter: opencodeConformance.adapter, script: SCRIPTS[scriptName]!, faults, keepBodies: true });
  const cliEnv = opencodeConformance.configure(home, server.url);
  const env: Record<string, string> = {
    ...(Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OPENCODE|OPENAI_|TMUX)/.test(k))) as Record<string, string>),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_STATE_HOME: join(home, '.local/state'),
    XDG_CACHE_HOME: join(home, '.cache'),
    ...cliEnv,
    PATH: `${bin}:${OPENCODE_BIN}:${process.env.PATH}`,
    PWD: wt,
    ORCHARD_RUN_DIR: runDir,
    ORCHARD_RUN_ID: 'T1-r1',
    ORCHARD_TICKET_ID: 'T1',
  };
  const ticket: Ticket = { id: 'T1', title: 'hello', prompt: 'Add hello.txt', priority: 'P2', dependsOn: [], files: [], labels: [], status: 'running', createdAt: 0, attempts: 1 };
  const run: Run = { id: 'T1-r1', ticketId: 'T1', slot: 1, attempt: 1, branch: 'orchard/T1', worktree: wt, startedAt: 0 };
  const template = tmux ? opencode.profile.interactiveArgv! : opencode.profile.argv;
  let argv = expandArgv(template, ticket, run, 'Create hello.txt containing "hello" and commit it.', OPENCODE_TEST_MODEL, runDir);
  if (!raw && opencode.prepare) {
    const p = opencode.prepare({ worktree: wt, runDir, orchardAgent: stub, interactive: tmux, env, trustWorktrees: true, log: (m) => console.log(`[prepare] ${m}`) });
    argv = [argv[0]!, ...(p.args ?? []), ...argv.slice(1)];
    Object.assign(env, p.env);
  }
  // --no-auto: without --auto, so OpenCode's permission dialog shows (script approval).
  if (flag('--no-auto')) argv = argv.filter((a) => a !== '--auto');
  console.log(`base: ${base}\nargv: ${JSON.stringify(argv)}`);

  let ok = false;
  const started = Date.now();
  try {
    if (!tmux) {
      const log = join(runDir, 'log');
      const out = await new Promise<number | null>((resolve) => {
        const fd = openSync(log, 'a');
        const child = spawn(argv[0]!, argv.slice(1), { cwd: wt, env, stdio: ['ignore', fd, fd] });
        const timer = setTimeout(() => child.kill('SIGTERM'), 120_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      console.log(`exit: ${out} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log('----- log\n' + readFileSync(log, 'utf8'));
      // --save-log <file>: the run log as a fixture, with this run's scratch folder made neutral.
      if (opt('--save-log')) writeFileSync(opt('--save-log')!, readFileSync(log, 'utf8').split(base).join('/tmp/orchard-try-opencode'));
      const u = opencode.parseUsage?.(readFileSync(log, 'utf8'));
      console.log(`parseUsage: ${JSON.stringify(u)}  (server sent ${JSON.stringify(server.usage)})`);
      ok = out === 0;
    } else {
      const sock = `orchard-try-opencode-${process.pid}`;
      // tmux resolves argv[0] with its server's PATH: the server gets the agent's environment.
      const tm = (...a: string[]) => execFileSync('tmux', ['-L', sock, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });
      // A dead pane stays, so its last screen (an error, an exit) can still be read.
      writeFileSync(join(base, 'tmux.conf'), 'set -g remain-on-exit on\nset -g history-limit 5000\n');
      const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      try {
        tm('-f', join(base, 'tmux.conf'), 'new-session', '-d', '-x', '200', '-y', '50', '-c', wt, ...envArgs, '--', ...argv);
        const seen = new Set<string>();
        const answered = new Map<string, number>();
        let last = '';
        const screen = () => {
          try {
            return tm('capture-pane', '-p', '-t', '0');
          } catch {
            return '';
          }
        };
        const end = deadline(Number(opt('--timeout') ?? 90_000));
        while (Date.now() < end) {
          const s = screen();
          if (s !== last) {
            last = s;
            const trimmed = s.replace(/\s+$/g, '');
            if (!seen.has(trimmed)) {
              seen.add(trimmed);
              console.log(`----- screen at ${((Date.now() - started) / 1000).toFixed(1)} s\n${trimmed}`);
            }
          }
          for (const rule of opencode.screens ?? []) {
            if (new RegExp(rule.pattern, 'i').test(s) && rule.keys && (answered.get(rule.name) ?? 0) < 3 && !answered.has(`${rule.name}@${s}`)) {
              console.log(`>>> screen "${rule.name}": sending ${JSON.stringify(rule.keys)}`);
              answered.set(rule.name, (answered.get(rule.name) ?? 0) + 1);
              answered.set(`${rule.name}@${s}`, 1);
              for (const k of rule.keys) tm('send-keys', '-t', '0', k);
            }
          }
          const c = existsSync(calls) ? readFileSync(calls, 'utf8') : '';
          // approval: the permission dialog is answered with --perm-keys (comma-separated tmux
          // keys, default Enter = "Allow once"), then --perm-text typed and Enter, if given.
          if (scriptName === 'approval' && /hook needs-input/.test(c) && !answered.has('perm')) {
            answered.set('perm', 1);
            const keys = (opt('--perm-keys') ?? 'Enter').split(',');
            console.log(`>>> needs-input: sending ${JSON.stringify(keys)}`);
            await sleep(500);
            for (const k of keys) tm('send-keys', '-t', '0', k);
            if (opt('--perm-text')) {
              await sleep(300);
              tm('send-keys', '-t', '0', '-l', opt('--perm-text')!);
              tm('send-keys', '-t', '0', 'Enter');
            }
          }
          if (scriptName === 'ask' && /hook turn-end/.test(c) && !answered.has('answer')) {
            answered.set('answer', 1);
            console.log('>>> turn ended without changes: typing the answer');
            // --answer paste: a two-line answer as a bracketed paste, then Enter; else literal keys
            // and Enter at once (no delay: disable_paste_burst makes that a submit).
            if (opt('--answer') === 'paste') {
              writeFileSync(join(base, 'answer.txt'), 'Just "hello",\nplease.');
              tm('load-buffer', '-b', 'answer', join(base, 'answer.txt'));
              tm('paste-buffer', '-p', '-d', '-b', 'answer', '-t', '0');
            } else tm('send-keys', '-t', '0', '-l', 'Just "hello", please.');
            tm('send-keys', '-t', '0', 'Enter');
          }
          const commits = git(wt, 'rev-list', '--count', 'main..HEAD');
          const turnEnds = (c.match(/hook turn-end/g) ?? []).length;
          if (scriptName === 'approval' && turnEnds >= 1) {
            ok = true;
            break;
          }
          if (commits !== '0' && turnEnds >= (scriptName === 'ask' ? 2 : 1)) {
            ok = true;
            break;
          }
          await sleep(300);
        }
        console.log(`----- final screen\n${screen().replace(/\s+$/g, '')}`);
        if (ok && opencode.endSession) {
          const t0 = Date.now();
          for (const k of opencode.endSession.keys ?? []) tm('send-keys', '-t', '0', k);
          const gone = await until('the session to end', opencode.endSession.graceMs ?? 5000, () => {
            try {
              return tm('list-panes', '-t', '0', '-F', '#{pane_dead}').trim() === '1';
            } catch {
              return true;
            }
          }).catch(() => false);
          console.log(`endSession ${JSON.stringify(opencode.endSession)}: ${gone ? `ended after ${Date.now() - t0} ms` : 'still running after grace'}`);
          console.log(`----- after endSession\n${screen().replace(/\s+$/g, '')}`);
          if (opt('--save-screen')) writeFileSync(opt('--save-screen')!, screen().replace(/\s+$/g, '').split(base).join('/tmp/orchard-try-opencode') + '\n');
        }
      } finally {
        try {
          tm('kill-server');
        } catch {
          /* gone */
        }
      }
    }
    console.log('----- calls.log\n' + (existsSync(calls) ? readFileSync(calls, 'utf8') : '(none)'));
    console.log('----- worktree log\n' + git(wt, 'log', '--oneline', 'main~0..HEAD'));
    console.log('----- worktree status\n' + git(wt, 'status', '--short'));
    console.log('----- requests');
    for (const r of server.requests) console.log(`${new Date(r.at).toISOString().slice(11, 23)} ${r.method} ${r.path} ${r.kind}${r.step !== undefined ? ` step ${r.step}` : ''}${r.action ? ` ${JSON.stringify(r.action).slice(0, 120)}` : ''}`);
    if (flag('--dump')) writeFileSync(join(base, 'requests.json'), JSON.stringify(server.requests, null, 1));
  } finally {
    await server.close();
    if (!keep) rmSync(base, { recursive: true, force: true });
  }
  console.log(ok ? 'OK' : 'FAILED');
  return ok ? 0 : 1;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
