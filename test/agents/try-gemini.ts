// Runs the real Gemini CLI against the scripted model server, headless and in tmux, in a temp
// git repo with its own HOME/XDG dirs and a stub orchard-agent that appends its argv (and stdin
// for hooks) to a file. Usage:
//   node --import tsx test/agents/try-gemini.ts [headless|tmux|fault-429|fault-503|all] [--keep]
// Prints what happened (run log, requests, stub calls, tmux screens) for the report.
import { spawnSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScriptServer, type ModelScript, type Fault } from './scriptServer';
import { geminiAdapter } from './protocols/gemini';
import { geminiConformance } from './gemini.config';
import { gemini } from '../../src/infra/agents/clis/gemini';
import { expandArgv } from '../../src/infra/agents/profiles';

const PKG = join(process.env.HOME ?? '', '.cache/orchard-agents/_google_gemini-cli_0.61.0/node_modules');
const BIN = join(PKG, '.bin');
const MODEL = 'gemini-2.5-flash';

const script: ModelScript = {
  steps: [{ shell: 'orchard-agent progress 40 working' }, { shell: `printf 'hello\\n' > hello.txt && git add hello.txt && git commit -qm "add hello"` }, { text: 'Done.' }],
};

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor<T>(what: string, f: () => T | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function sandbox(serverUrl: string) {
  const root = mkdtempSync(join(tmpdir(), 'try-gemini-'));
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  const repo = join(root, 'repo');
  mkdirSync(repo);
  sh('git', ['init', '-q', '-b', 'main'], repo);
  sh('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init'], repo);
  // A worktree like Orchard's (its .git is a file; commits go to the main repo's git dir).
  const wt = join(root, 'wt');
  sh('git', ['worktree', 'add', '-q', '-b', 'orchard/T1', wt], repo);
  const runDir = join(repo, '.git', 'orchard', 'runs', 'T1-r1');
  const bin = join(runDir, 'bin');
  mkdirSync(bin, { recursive: true });
  const calls = join(root, 'calls.log');
  const stub = join(bin, 'orchard-agent');
  writeFileSync(
    stub,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\ncase " $* " in *" --stdin "*) printf 'STDIN %s\\n' "$(cat)" >> '${calls}'; printf '{}\\n';; esac\nexit 0\n`,
  );
  chmodSync(stub, 0o755);
  const env: Record<string, string> = {
    PATH: `${bin}:${BIN}:${process.env.PATH}`,
    HOME: home,
    PWD: wt,
    LANG: 'C.UTF-8',
    TERM: 'xterm-256color',
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@t',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@t',
    ...geminiConformance.configure(home, serverUrl),
  };
  return { root, home, repo, wt, runDir, stub, calls, env };
}

function argvFor(interactive: boolean, sb: ReturnType<typeof sandbox>): { argv: string[]; env: Record<string, string> } {
  const tpl = interactive ? gemini.profile.interactiveArgv! : gemini.profile.argv;
  const ticket = { id: 'T1', title: 't', prompt: 'p', priority: 'P2', dependsOn: [], files: [], labels: [], status: 'running', createdAt: 0, attempts: 1 } as any;
  const run = { id: 'T1-r1', ticketId: 'T1', slot: 1, attempt: 1, branch: 'orchard/T1', worktree: sb.wt, startedAt: 0 } as any;
  let argv = expandArgv(tpl, ticket, run, 'Create hello.txt and commit it.', MODEL, sb.runDir);
  const prepared = gemini.prepare?.({ worktree: sb.wt, runDir: sb.runDir, orchardAgent: sb.stub, interactive, env: sb.env, trustWorktrees: false, log: (m) => console.log(`[prepare] ${m}`) }) ?? {};
  argv = [argv[0]!, ...(prepared.args ?? []), ...argv.slice(1)];
  // Without YOLO (to see the approval screen and the Notification hook).
  if (process.env.NOYOLO) argv = argv.filter((a, i) => !(a === '--approval-mode' || argv[i - 1] === '--approval-mode'));
  // Another --output-format to look at (text, stream-json).
  if (process.env.FORMAT) argv = argv.map((a, i) => (argv[i - 1] === '--output-format' ? process.env.FORMAT! : a));
  return { argv, env: { ...sb.env, ...(prepared.env ?? {}) } };
}

function summary(server: { requests: Array<{ at: number; path: string; kind: string; step?: number; action?: unknown }> }) {
  const t0 = server.requests[0]?.at ?? 0;
  return server.requests.map((r) => `+${((r.at - t0) / 1000).toFixed(1)}s ${r.kind} ${r.path}${r.step !== undefined ? ` step=${r.step}` : ''}${r.action ? ` ${JSON.stringify(r.action).slice(0, 100)}` : ''}`).join('\n');
}

async function headless(faults: Fault[] = [], tag = 'headless'): Promise<void> {
  const server = await startScriptServer({ adapter: geminiAdapter, script, faults, keepBodies: !!process.env.KEEP_BODIES });
  const sb = sandbox(server.url);
  const { argv, env } = argvFor(false, sb);
  console.log(`== ${tag}: ${argv.map((a) => JSON.stringify(a)).join(' ')}`);
  const t0 = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: sb.wt, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await new Promise((r) => setTimeout(r, 300));
  console.log(`exit ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log('--- output\n' + out);
  console.log('--- requests\n' + summary(server));
  console.log('--- orchard-agent calls\n' + (existsSync(sb.calls) ? readFileSync(sb.calls, 'utf8') : '(none)'));
  console.log('--- git log\n' + sh('git', ['log', '--oneline', '-3'], sb.wt) + sh('git', ['status', '--short'], sb.wt));
  if (process.env.KEEP_BODIES) writeFileSync(join(sb.root, 'requests.json'), JSON.stringify(server.requests, null, 1));
  if (process.env.SAVE_OUT) writeFileSync(process.env.SAVE_OUT, out);
  console.log(`sandbox: ${sb.root}`);
  await server.close();
  if (!process.argv.includes('--keep')) rmSync(sb.root, { recursive: true, force: true });
}

async function tmux(faults: Fault[] = []): Promise<void> {
  const server = await startScriptServer({ adapter: geminiAdapter, script, faults, keepBodies: !!process.env.KEEP_BODIES });
  const sb = sandbox(server.url);
  const { argv, env } = argvFor(true, sb);
  const sock = `try-gemini-${process.pid}`;
  const envFile = join(sb.root, 'env.sh');
  writeFileSync(envFile, Object.entries(env).map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`).join('\n') + `\ncd '${sb.wt}'\nexec ${argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}\n`);
  console.log(`== tmux: ${argv.map((a) => JSON.stringify(a)).join(' ')}`);
  const t = (...a: string[]) => spawnSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
  const screen = () => t('capture-pane', '-p', '-t', 'g').stdout ?? '';
  const seen: string[] = [];
  const snap = (label: string) => {
    const s = screen();
    seen.push(`--- screen: ${label}\n${s.replace(/\n+$/, '')}`);
    return s;
  };
  try {
    t('new-session', '-d', '-s', 'g', '-x', '200', '-y', '50', `sh ${envFile}`);
    // Screens answered by the CLI definition's rules, until the script has run.
    const rules = (gemini.screens ?? []).map((r) => ({ ...r, re: new RegExp(r.pattern, 'i') }));
    const answered = new Set<string>();
    const end = Date.now() + 90_000;
    let faultSeenAt = 0;
    while (Date.now() < end) {
      const s = screen();
      const rule = rules.find((r) => r.re.test(s) && !answered.has(r.name + s.length));
      if (rule) {
        snap(`rule "${rule.name}"`);
        if (rule.keys) for (const k of rule.keys) t('send-keys', '-t', 'g', k);
        answered.add(rule.name + s.length);
      }
      if (existsSync(sb.calls) && /hook turn-end/.test(readFileSync(sb.calls, 'utf8'))) break;
      if (faults.length && server.requests.filter((r) => r.kind === 'fault').length >= 2 && Date.now() > (faultSeenAt ||= Date.now()) + Number(process.env.FAULT_WAIT ?? 40_000)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    snap('after first turn');
    // The answer to an escalation is typed, then Enter.
    if (process.argv.includes('--answer')) {
      t('send-keys', '-t', 'g', '-l', process.env.ANSWER ?? 'Please also say thanks.');
      await new Promise((r) => setTimeout(r, 300));
      t('send-keys', '-t', 'g', 'Enter');
      await waitFor('second turn end', () => existsSync(sb.calls) && readFileSync(sb.calls, 'utf8').split('hook turn-end').length > 2, 60_000).catch((e) => console.log(String(e)));
      snap('after answer');
    }
    // End the session as Orchard would.
    const es = gemini.endSession;
    // Gemini turns an Enter that comes within 30 ms of a typed character into a newline: keys go one by one, 300 ms apart.
    for (const k of es?.keys ?? []) {
      t('send-keys', '-t', 'g', ...(k === 'Enter' || k === 'Escape' || k.startsWith('C-') ? [k] : ['-l', k]));
      await new Promise((r) => setTimeout(r, 300));
    }
    await waitFor('session end', () => t('has-session', '-t', 'g').status !== 0 || undefined, es?.graceMs ?? 5000).then(
      () => console.log('session ended by endSession keys'),
      () => snap('endSession did not end it'),
    );
  } finally {
    t('kill-server');
  }
  console.log(seen.join('\n'));
  console.log('--- requests\n' + summary(server));
  console.log('--- orchard-agent calls\n' + (existsSync(sb.calls) ? readFileSync(sb.calls, 'utf8') : '(none)'));
  console.log('--- git log\n' + sh('git', ['log', '--oneline', '-3'], sb.wt) + sh('git', ['status', '--short'], sb.wt));
  if (process.env.KEEP_BODIES) writeFileSync(join(sb.root, 'requests.json'), JSON.stringify(server.requests, null, 1));
  console.log(`sandbox: ${sb.root}`);
  await server.close();
  if (!process.argv.includes('--keep')) rmSync(sb.root, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const what = process.argv[2] ?? 'headless';
  if (what === 'headless' || what === 'all') await headless();
  if (what === 'fault-429' || what === 'all') await headless([{ kind: 'rate-limit', times: Number(process.env.TIMES ?? 100) }], 'fault-429');
  if (what === 'fault-503' || what === 'all') await headless([{ kind: 'overloaded', times: Number(process.env.TIMES ?? 100) }], 'fault-503');
  if (what === 'tmux' || what === 'all') await tmux();
  if (what === 'tmux-429') await tmux([{ kind: 'rate-limit', times: 100 }]);
  if (what === 'tmux-503') await tmux([{ kind: 'overloaded', times: 100 }]);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
