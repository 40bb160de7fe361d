#!/usr/bin/env node
// End-to-end: the packaged extension (.vsix) installed into a fresh code-server, a temp git
// repository seeded with tickets by the headless CLI, driven in headless Chromium.
// Each check is a named step; the run prints `ok`/`FAIL`/`skip` per step and a summary
// `e2e: N passed, N failed, N skipped`. Screenshots: test-results/e2e-*.png.
//
// Usage: node test/host/runE2e.mjs [--no-package] [--vsix <file>] [--only <text>] [--keep] [--verbose]
//   --no-package  use the existing dist/orchard.vsix
//   --vsix FILE   install this .vsix instead of packaging (e.g. a throwaway extension)
//   --only TEXT   run only the steps of steps.mjs whose name contains TEXT (A|B: either), after the setup
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createGitWorkspace, createHost, launchBrowser } from './codeServer.mjs';
import { hostReady, log, repoRoot } from './paths.mjs';
import { setup } from './setup.mjs';
import { steps as e2eSteps } from '../e2e/steps.mjs';

function parseArgs(argv) {
  const o = { pack: true, vsix: null, only: null, keep: false, verbose: !!process.env.ORCHARD_HOST_VERBOSE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-package') o.pack = false;
    else if (a === '--vsix') o.vsix = resolve(argv[++i]);
    else if (a === '--only') o.only = argv[++i];
    else if (a === '--keep') o.keep = true;
    else if (a === '--verbose') o.verbose = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const shotDir = join(repoRoot, 'test-results');
  mkdirSync(shotDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'orchard-e2e-'));
  const results = [];
  let aborted = null;

  /** Runs one named step. `critical` steps abort the rest on failure. */
  async function step(name, fn, { critical = false } = {}) {
    const n = results.length + 1;
    if (aborted) {
      results.push({ name, state: 'failed', ms: 0, error: `not run: "${aborted}" failed` });
      console.log(`FAIL ${n} - ${name}: not run ("${aborted}" failed)`);
      return undefined;
    }
    const s0 = Date.now();
    try {
      const r = await fn();
      const ms = Date.now() - s0;
      if (r && typeof r === 'object' && r.skip) {
        results.push({ name, state: 'skipped', ms, error: r.skip });
        console.log(`skip ${n} - ${name}: ${r.skip}`);
        return r;
      }
      results.push({ name, state: 'passed', ms });
      console.log(`ok   ${n} - ${name} (${ms} ms)${r && r.note ? ` — ${r.note}` : ''}`);
      return r;
    } catch (e) {
      const ms = Date.now() - s0;
      const msg = e instanceof Error ? e.message : String(e);
      results.push({ name, state: 'failed', ms, error: msg });
      console.log(`FAIL ${n} - ${name} (${ms} ms)\n     ${msg.split('\n').slice(0, 12).join('\n     ')}`);
      if (ctx.page) await ctx.shot(`fail-${String(n).padStart(2, '0')}`).catch(() => {});
      if (critical) aborted = name;
      return undefined;
    }
  }

  const ctx = {
    repoRoot,
    shotDir,
    scratch,
    workspace: null,
    seeded: [], // titles the CLI seeded
    host: null,
    browser: null,
    page: null,
    consoleErrors: [],
    shot: async (name) => {
      const file = join(shotDir, `e2e-${name}.png`);
      await ctx.page.screenshot({ path: file });
      return file;
    },
  };

  let vsix = opts.vsix;
  await step(
    'package the extension (npm run package)',
    async () => {
      if (opts.vsix) return { skip: `using ${opts.vsix}` };
      vsix = join(repoRoot, 'dist', 'orchard.vsix');
      if (!opts.pack) {
        if (!existsSync(vsix)) throw new Error(`${vsix} missing (run npm run package)`);
        return { skip: 'using existing dist/orchard.vsix (--no-package)' };
      }
      rmSync(vsix, { force: true });
      const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      if (r.status !== 0 || !existsSync(vsix)) throw new Error(`npm run package failed (exit ${r.status}):\n${r.stdout}${r.stderr}`.slice(-3000));
      return { note: vsix };
    },
    { critical: true },
  );

  await step(
    'test host is installed',
    async () => {
      if (hostReady()) return {};
      await setup();
      return { note: 'installed now' };
    },
    { critical: true },
  );

  await step(
    'install the .vsix into a fresh extensions dir',
    async () => {
      ctx.host = await createHost({ keep: opts.keep, prefix: 'orchard-e2e-host-' });
      ctx.host.installExtension(vsix);
      const r = spawnSync('ls', [ctx.host.dirs.extensions], { encoding: 'utf8' });
      if (!/orchard-dev\.orchard-/.test(r.stdout)) throw new Error(`extension folder not found in ${ctx.host.dirs.extensions}: ${r.stdout}`);
      return {
        note: r.stdout
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('orchard'))
          .join(' '),
      };
    },
    { critical: true },
  );

  await step(
    'create a temp git repository as the workspace',
    async () => {
      ctx.workspace = createGitWorkspace({ root: scratch, name: 'shop' });
      // The ticket file stays outside the repository so the workspace is clean.
      copyFileSync(join(repoRoot, 'test', 'e2e', 'tickets.json'), join(scratch, 'tickets.json'));
      return { note: ctx.workspace };
    },
    { critical: true },
  );

  await step('seed tickets with the headless CLI (orchard init + import)', async () => {
    const cli = join(repoRoot, 'dist', 'cli.js');
    if (!existsSync(cli)) return { skip: 'dist/cli.js does not exist (CLI not built yet); the tree will have no tickets' };
    const ticketsFile = join(scratch, 'tickets.json');
    for (const args of [['init'], ['import', ticketsFile]]) {
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: ctx.workspace, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      if (r.status !== 0) throw new Error(`orchard ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
      log(`orchard ${args.join(' ')}: ${r.stdout.trim()}`);
    }
    const { tickets } = JSON.parse(readFileSync(ticketsFile, 'utf8'));
    ctx.seeded = tickets.map((t) => t.title);
    return { note: `${ctx.seeded.length} tickets` };
  });

  await step(
    'start code-server (extension installed, no smoke driver)',
    async () => {
      await ctx.host.start();
      return { note: ctx.host.baseUrl };
    },
    { critical: true },
  );

  await step(
    'open the workspace in Chromium',
    async () => {
      ctx.browser = await launchBrowser({
        root: ctx.host.root,
        onConsole: (m) => {
          if (opts.verbose) console.log(`[page:${m.type()}] ${m.text()}`);
          if (m.type() === 'error') ctx.consoleErrors.push(m.text());
        },
      });
      ctx.page = ctx.browser.page;
      await ctx.page.goto(ctx.host.url({ folder: ctx.workspace }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
      await ctx.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await ctx.page.locator('.part.activitybar').waitFor({ state: 'visible', timeout: 30_000 });
      // The window title carries the folder name once the workspace is open.
      await ctx.page.waitForFunction(() => document.title.includes('shop'), null, { timeout: 30_000 });
      await ctx.shot('01-workbench');
    },
    { critical: true },
  );

  const only = opts.only?.split('|');
  for (const s of e2eSteps.filter((x) => !only || only.some((o) => x.name.includes(o)))) await step(s.name, () => s.run(ctx), { critical: !!s.critical });

  // Tear down.
  if (ctx.page) await ctx.shot('99-final').catch(() => {});
  await ctx.browser?.close();
  await ctx.host?.stop();
  if (!opts.keep) rmSync(scratch, { recursive: true, force: true });
  else log(`kept ${scratch}`);

  const passed = results.filter((r) => r.state === 'passed').length;
  const failed = results.filter((r) => r.state === 'failed').length;
  const skipped = results.filter((r) => r.state === 'skipped').length;
  if (failed && ctx.consoleErrors.length) {
    console.log(`--- page console errors (last 15) ---\n${ctx.consoleErrors.slice(-15).join('\n')}`);
  }
  console.log(`screenshots: ${shotDir}/e2e-*.png`);
  console.log(`e2e: ${passed} passed, ${failed} failed, ${skipped} skipped (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
