#!/usr/bin/env node
// Runs the mocha integration suite (test/integration) inside a real extension host:
// code-server with the smoke-test driver, opened by headless Chromium on a temp git repo,
// with extensionDevelopmentPath/extensionTestsPath passed through the URL payload.
//
// Usage: node test/host/runIntegration.mjs [--no-build] [--extension-dir <dir>]
//          [--grep <text>] [--timeout <ms>] [--keep] [--verbose]
// Prints the suite's output live, then `integration: N passing, N failing`; exits with
// the suite's code. Screenshot: test-results/integration.png.
// Env: ORCHARD_HOST_CACHE, ORCHARD_HOST_VERBOSE=1 (code-server output), ORCHARD_TEST_GREP.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTests, indexJs } from './buildTests.mjs';
import { createGitWorkspace, createHost, launchBrowser } from './codeServer.mjs';
import { hostReady, log, repoRoot } from './paths.mjs';
import { setup } from './setup.mjs';

function parseArgs(argv) {
  const o = { build: true, extensionDir: null, grep: null, timeoutMs: 10 * 60_000, keep: false, verbose: !!process.env.ORCHARD_HOST_VERBOSE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') o.build = false;
    else if (a === '--extension-dir') o.extensionDir = resolve(argv[++i]);
    else if (a === '--grep') o.grep = argv[++i];
    else if (a === '--timeout') o.timeoutMs = Number(argv[++i]);
    else if (a === '--keep') o.keep = true;
    else if (a === '--verbose') o.verbose = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** Prints new content of a file as it grows (the suite's live log). */
function tailer(file, write) {
  let pos = 0;
  const poll = () => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size < pos) pos = 0;
    if (size === pos) return;
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - pos);
    readSync(fd, buf, 0, buf.length, pos);
    closeSync(fd);
    pos = size;
    write(buf.toString('utf8'));
  };
  const timer = setInterval(poll, 200);
  return () => {
    clearInterval(timer);
    poll();
  };
}

/** Codex (the fastest to start) behind its scripted server; undefined when it is not installed. */
async function startAgentServer(home) {
  const cli = process.env.ORCHARD_TEST_AGENT_CLI ?? 'codex';
  if (cli === 'none') return undefined;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/agents/serve.ts', cli, home], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const line = await new Promise((res) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) res(out.split('\n')[0]);
    });
    child.on('close', () => res(undefined));
  });
  if (!line) {
    log(`no real agent in the integration suite (${err.trim().split('\n').pop()})`);
    return undefined;
  }
  const info = JSON.parse(line);
  log(`real agent for the integration suite: ${cli} from ${info.bin}, model server ${info.url}`);
  return {
    env: { ...info.env, PATH: `${info.bin}:${process.env.PATH}`, ORCHARD_TEST_AGENT: cli },
    bin: info.bin,
    stop: () => child.kill('SIGTERM'),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const extDir = opts.extensionDir ?? repoRoot;

  if (!opts.extensionDir && opts.build) {
    log('building the extension (npm run build)');
    const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('[orchard-host] npm run build failed');
      return 1;
    }
  }
  const pkg = JSON.parse(readFileSync(join(extDir, 'package.json'), 'utf8'));
  const entry = pkg.main ? resolve(extDir, pkg.main) : null;
  if (entry && !existsSync(entry) && !existsSync(`${entry}.js`)) {
    console.error(`[orchard-host] extension entry ${entry} does not exist (build failed?)`);
    return 1;
  }
  await buildTests();
  if (!hostReady()) {
    log('test host missing: running setup');
    await setup();
  }

  const scratch = mkdtempSync(join(tmpdir(), 'orchard-it-'));
  const resultsDir = join(scratch, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const workspace = createGitWorkspace({ root: scratch });
  const shotDir = join(repoRoot, 'test-results');
  mkdirSync(shotDir, { recursive: true });

  const env = { ORCHARD_TEST_RESULTS_DIR: resultsDir, ORCHARD_TEST_WORKSPACE: workspace };
  // A real agent CLI in VS Code's terminal (test/integration/realAgent.test.ts) when the pinned
  // CLI is installed (npm run test:agents:install): its scripted model server runs beside the host.
  const agent = await startAgentServer(join(scratch, 'agent-home'));
  if (agent) Object.assign(env, agent.env);
  const grep = opts.grep ?? process.env.ORCHARD_TEST_GREP;
  if (grep) env.ORCHARD_TEST_GREP = grep;
  // Terminals get their environment from a login shell, which resets PATH as a user's would:
  // the agent's CLI and its settings go through the terminal settings too.
  const settings = agent ? { 'terminal.integrated.env.linux': { ...agent.env, PATH: `${agent.bin}:\${env:PATH}` } } : {};
  const host = await createHost({ env, settings, keep: opts.keep, prefix: 'orchard-it-host-' });
  // As a user who installed the CLI has it: on the PATH of their login shell, from which VS
  // Code takes the extension host's and the terminals' environment.
  if (agent) {
    const lines = Object.entries({ ...agent.env, PATH: `${agent.bin}:$PATH` }).map(
      ([k, v]) => `export ${k}="${String(v).replace(/["\\$`]/g, (c) => (k === 'PATH' && c === '$' ? c : `\\${c}`))}"`,
    );
    for (const f of ['.profile', '.bashrc']) writeFileSync(join(host.root, 'home', f), `${lines.join('\n')}\n`);
  }
  let browser = null;
  let stopTail = () => {};
  let exitCode = 1;
  let timer = null;
  const consoleLines = [];
  try {
    await host.start({ smokeDriver: true });
    browser = await launchBrowser({
      root: host.root,
      onConsole: (m) => {
        // Strip the workbench's %c styling from forwarded extension-host messages.
        const text = m
          .text()
          .replace(/%c\s*/g, '')
          .replace(/\s*color: #[0-9a-f]{3,6}\s*/gi, ' ');
        const line = `[page:${m.type()}] ${text}`;
        consoleLines.push(line);
        if (opts.verbose) console.log(line);
      },
    });
    const { page } = browser;
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    const exited = new Promise((res) => page.exposeFunction('codeAutomationExit', (code) => res(Number(code))));
    stopTail = tailer(join(resultsDir, 'integration.log'), (s) => process.stdout.write(s));
    const url = host.url({
      folder: workspace,
      payload: [
        ['extensionDevelopmentPath', host.remoteUri(extDir)],
        ['extensionTestsPath', host.remoteUri(indexJs)],
      ],
    });
    log(`opening ${url}`);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    const timeout = new Promise((res) => {
      timer = setTimeout(() => res('timeout'), opts.timeoutMs);
    });
    const outcome = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await page.screenshot({ path: join(shotDir, 'integration.png') }).catch((e) => log(`screenshot failed: ${e.message}`));
    stopTail();
    if (outcome === 'timeout') {
      console.error(`[orchard-host] integration suite timed out after ${opts.timeoutMs} ms`);
      exitCode = 1;
    } else {
      exitCode = outcome;
    }
  } catch (e) {
    console.error('[orchard-host] integration run failed:', e instanceof Error ? e.stack : e);
    exitCode = 1;
  } finally {
    agent?.stop();
    stopTail();
    await browser?.close();
    await host.stop();
  }

  const jsonFile = join(resultsDir, 'integration.json');
  let summary = null;
  if (existsSync(jsonFile)) summary = JSON.parse(readFileSync(jsonFile, 'utf8'));
  if (!summary || exitCode !== 0) {
    // Help diagnose: extension-host errors from the page console and the code-server log tail.
    const interesting = consoleLines
      .filter((l) => /^\[page:(error|warning)\]|^\[pageerror\]/.test(l))
      .filter((l) => !/ENOTFOUND open-vsx|Failed to load resource|integration test\(s\) failed/.test(l))
      .map((l) => l.split('\n').slice(0, 6).join('\n'))
      .slice(-25);
    if (interesting.length) console.error(`--- page console (last ${interesting.length} relevant lines) ---\n${interesting.join('\n')}`);
  }
  if (!summary) {
    console.error('[orchard-host] the suite wrote no results (did the extension host load the tests?)');
    summary = { passed: 0, failed: 1, pending: 0 };
    if (exitCode === 0) exitCode = 1;
  }
  if (summary.failed > 0 && exitCode === 0) exitCode = 1;
  if (!opts.keep) rmSync(scratch, { recursive: true, force: true });
  else log(`kept ${scratch}`);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`integration: ${summary.passed} passing, ${summary.failed} failing, ${summary.pending ?? 0} pending (${secs} s, exit ${exitCode})`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
