// Small library to run a real VS Code (code-server) and a real browser (Chromium through
// playwright-core) for tests. Everything lives in one temp folder per host; stop() kills
// code-server's whole process group and deletes the folder (unless keep is set).
//
//   const host = await createHost({ env: {...}, settings: {...} });
//   host.installExtension('dist/orchard.vsix');        // optional, before start
//   await host.start({ smokeDriver: true });             // waits for /healthz
//   const browser = await launchBrowser({ root: host.root });
//   await browser.page.goto(host.url({ folder, payload }));
//   ...
//   await browser.close(); await host.stop();
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM, hostPaths, hostReady, log } from './paths.mjs';

/** User settings that keep the workbench quiet and deterministic. */
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.editor.restoreViewState': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.secondarySideBar.showLabels': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'terminal.integrated.enablePersistentSessions': false,
  'terminal.integrated.defaultProfile.linux': 'bash',
  'terminal.integrated.shellIntegration.enabled': true,
  'security.workspace.trust.enabled': false,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  'files.autoSave': 'off',
  'git.autofetch': false,
  'git.openRepositoryInParentFolders': 'never',
  'git.showProgress': false,
  'scm.autoReveal': false,
  'search.followSymlinks': false,
  'editor.accessibilitySupport': 'off',
  'accessibility.signalOptions.volume': 0,
  'notifications.experimental.toastBehavior': 'default',
};

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Prepares a code-server instance (temp dirs, config, settings) without starting it.
 * @param {{ settings?: object, env?: object, trust?: boolean, keep?: boolean, prefix?: string }} [opts]
 */
export async function createHost(opts = {}) {
  const p = hostPaths();
  if (!hostReady(p)) {
    throw new Error(`test host not installed in ${p.cache}; run: node test/host/setup.mjs`);
  }
  const root = mkdtempSync(join(tmpdir(), opts.prefix ?? 'orchard-host-'));
  const dirs = {
    root,
    home: join(root, 'home'),
    userData: join(root, 'user-data'),
    extensions: join(root, 'extensions'),
    config: join(root, 'config.yaml'),
    log: join(root, 'code-server.log'),
  };
  for (const d of [dirs.home, join(dirs.userData, 'User'), dirs.extensions]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...(opts.settings ?? {}) }, null, 2));

  const env = {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: join(dirs.home, '.config'),
    XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
    XDG_CACHE_HOME: join(dirs.home, '.cache'),
    XDG_STATE_HOME: join(dirs.home, '.local', 'state'),
    // Terminals and git inside the host must not prompt or pick up the user's identity.
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Orchard Test',
    GIT_AUTHOR_EMAIL: 'test@orchard.invalid',
    GIT_COMMITTER_NAME: 'Orchard Test',
    GIT_COMMITTER_EMAIL: 'test@orchard.invalid',
    SHELL: '/bin/bash',
    // The extension host is a child of code-server and inherits this environment.
    ...(opts.env ?? {}),
  };
  // Our own npm/node context must not leak into the host (it runs on Node 24).
  for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
  delete env.NODE_OPTIONS;
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.ELECTRON_RUN_AS_NODE;

  const baseArgs = [
    p.csEntry,
    '--config',
    dirs.config,
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
  ];
  if (opts.trust !== true) baseArgs.push('--disable-workspace-trust');

  let child = null;
  let port = 0;
  let logStream = null;
  let stopped = false;

  const host = {
    root,
    dirs,
    env,
    get port() {
      return port;
    },
    get baseUrl() {
      return `http://127.0.0.1:${port}`;
    },
    get pid() {
      return child?.pid;
    },
    /** Installs a .vsix (or extension id/folder) into this host's extensions dir. */
    installExtension(vsixOrId) {
      const t0 = Date.now();
      const r = spawnSync(p.nodeBin, [...baseArgs, '--install-extension', resolve(vsixOrId), '--force'], {
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      if (r.status !== 0 || /failed|error/i.test(r.stderr ?? '')) {
        throw new Error(`--install-extension ${vsixOrId} failed (exit ${r.status}):\n${out}`);
      }
      log(`installed ${vsixOrId} in ${Date.now() - t0} ms`);
      return out;
    },
    /**
     * Starts code-server on a free port and waits for /healthz.
     * @param {{ smokeDriver?: boolean, extraArgs?: string[], timeoutMs?: number }} [o]
     */
    async start(o = {}) {
      if (child) throw new Error('already started');
      port = await freePort();
      writeFileSync(dirs.config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
      const args = [...baseArgs, '--reconnection-grace-time', '10', '--ignore-last-opened'];
      if (o.smokeDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
      args.push(...(o.extraArgs ?? []));
      logStream = createWriteStream(dirs.log);
      child = spawn(p.nodeBin, args, { env, cwd: dirs.home, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.pipe(logStream, { end: false });
      child.stderr.pipe(logStream, { end: false });
      if (process.env.ORCHARD_HOST_VERBOSE) {
        child.stdout.on('data', (d) => process.stdout.write(`[code-server] ${d}`));
        child.stderr.on('data', (d) => process.stderr.write(`[code-server] ${d}`));
      }
      let exited = null;
      child.on('exit', (code, signal) => (exited = { code, signal }));
      const deadline = Date.now() + (o.timeoutMs ?? 60_000);
      const t0 = Date.now();
      for (;;) {
        if (exited) throw new Error(`code-server exited early (${JSON.stringify(exited)}):\n${host.readLog()}`);
        try {
          const res = await fetch(`${host.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (res.ok) break;
        } catch {}
        if (Date.now() > deadline) {
          await host.stop();
          throw new Error(`code-server did not answer /healthz within ${o.timeoutMs ?? 60_000} ms:\n${host.readLog()}`);
        }
        await sleep(150);
      }
      log(`code-server up on ${host.baseUrl} (pid ${child.pid}) in ${Date.now() - t0} ms`);
      return host;
    },
    /**
     * URL that opens `folder` in the workbench; `payload` is a list of [key, value] pairs
     * (only honoured with the smoke-test driver).
     */
    url({ folder, payload } = {}) {
      const q = [];
      if (folder) q.push(`folder=${encodeURIComponent(folder)}`);
      if (payload) q.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
      return `${host.baseUrl}/${q.length ? `?${q.join('&')}` : ''}`;
    },
    /** vscode-remote URI for an absolute path on this machine. */
    remoteUri(absPath) {
      return `vscode-remote://127.0.0.1:${port}${resolve(absPath)}`;
    },
    readLog() {
      try {
        return readFileSync(dirs.log, 'utf8');
      } catch {
        return '';
      }
    },
    /** Kills code-server's process group (TERM, then KILL) and removes the temp folder. */
    async stop({ keep = opts.keep ?? false } = {}) {
      if (stopped) return;
      stopped = true;
      if (child && child.exitCode === null && child.signalCode === null) {
        const pid = child.pid;
        const gone = new Promise((r) => child.once('exit', r));
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {}
        const timedOut = await Promise.race([gone.then(() => false), sleep(5000).then(() => true)]);
        if (timedOut) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {}
          await Promise.race([gone, sleep(2000)]);
        }
        // Children (extension host, pty hosts, terminals) share the group; make sure.
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
      }
      logStream?.end();
      if (!keep) rmSync(root, { recursive: true, force: true, maxRetries: 3 });
      else log(`kept host folder ${root}`);
    },
  };
  return host;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-features=Translate,MediaRouter',
];

/**
 * Launches Chromium with a temp profile; HOME and XDG dirs point into `root`.
 * @param {{ root?: string, viewport?: {width:number,height:number}, onConsole?: (msg: import('playwright-core').ConsoleMessage) => void }} [opts]
 */
export async function launchBrowser(opts = {}) {
  const { chromium } = await import('playwright-core');
  const ownRoot = !opts.root;
  const root = opts.root ?? mkdtempSync(join(tmpdir(), 'orchard-browser-'));
  const bhome = join(root, 'chromium-home');
  const profile = join(root, 'chromium-profile');
  mkdirSync(bhome, { recursive: true });
  mkdirSync(profile, { recursive: true });
  const env = {
    ...process.env,
    HOME: bhome,
    XDG_CONFIG_HOME: join(bhome, '.config'),
    XDG_CACHE_HOME: join(bhome, '.cache'),
    XDG_DATA_HOME: join(bhome, '.local', 'share'),
    XDG_RUNTIME_DIR: join(bhome, '.run'),
  };
  mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  if (opts.onConsole) page.on('console', opts.onConsole);
  let closed = false;
  return {
    context,
    page,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      if (ownRoot) rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** Creates a temp git repository with one commit on `main`; returns its absolute path. */
export function createGitWorkspace({ root, name = 'workspace', files = { 'README.md': '# Orchard test workspace\n' } } = {}) {
  const base = root ?? mkdtempSync(join(tmpdir(), 'orchard-ws-'));
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const git = (...args) => {
    const r = spawnSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'Orchard Test',
        GIT_AUTHOR_EMAIL: 'test@orchard.invalid',
        GIT_COMMITTER_NAME: 'Orchard Test',
        GIT_COMMITTER_EMAIL: 'test@orchard.invalid',
      },
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Orchard Test');
  git('config', 'user.email', 'test@orchard.invalid');
  git('config', 'commit.gpgsign', 'false');
  for (const [f, content] of Object.entries(files)) {
    const fp = join(dir, f);
    mkdirSync(resolve(fp, '..'), { recursive: true });
    writeFileSync(fp, content);
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'initial commit');
  return dir;
}
