#!/usr/bin/env node
// Runs the same integration suite (test/integration) in desktop VS Code through
// @vscode/test-electron. Needs internet access to update.code.visualstudio.com (it downloads
// VS Code into .vscode-test/); on machines without it use test/host/runIntegration.mjs
// (code-server). `npm run test:electron` builds the extension first.
//
// Usage: node test/host/runElectron.mjs [--grep <text>] [--keep]
// Env:   VSCODE_VERSION (default "stable"), ORCHARD_TEST_GREP, ORCHARD_TEST_TIMEOUT.
// On Linux without a display, run it under xvfb-run.
import { mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTests, indexJs } from './buildTests.mjs';
import { DEFAULT_SETTINGS, createGitWorkspace } from './codeServer.mjs';
import { repoRoot } from './paths.mjs';

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const gi = args.indexOf('--grep');
const grep = gi >= 0 ? args[gi + 1] : process.env.ORCHARD_TEST_GREP;

async function main() {
  const t0 = Date.now();
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) {
    console.error('dist/extension.js is missing: run `npm run build` first (npm run test:electron does).');
    return 1;
  }
  await buildTests();
  const { runTests } = await import('@vscode/test-electron');
  const scratch = mkdtempSync(join(tmpdir(), 'orchard-electron-'));
  const resultsDir = join(scratch, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const workspace = createGitWorkspace({ root: scratch });
  const userData = join(scratch, 'user-data');
  const extensionsDir = join(scratch, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(DEFAULT_SETTINGS, null, 2));
  const extensionTestsEnv = {
    ORCHARD_TEST_RESULTS_DIR: resultsDir,
    ORCHARD_TEST_WORKSPACE: workspace,
    ...(grep ? { ORCHARD_TEST_GREP: grep } : {}),
  };
  let code = 1;
  try {
    code = await runTests({
      version: process.env.VSCODE_VERSION || 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: indexJs,
      extensionTestsEnv,
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--disable-telemetry',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-updates',
        '--no-sandbox',
        '--disable-gpu',
        '--user-data-dir',
        userData,
        '--extensions-dir',
        extensionsDir,
      ],
    });
  } catch (e) {
    // runTests rejects with the exit code (or an Error, e.g. ENOTFOUND when offline).
    if (typeof e === 'number') code = e;
    else if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'number') code = e.code;
    else {
      console.error('[orchard-electron] could not run VS Code:', e instanceof Error ? e.message : e);
      code = 1;
    }
  }
  const jsonFile = join(resultsDir, 'integration.json');
  const summary = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : { passed: 0, failed: 1, pending: 0 };
  if (!existsSync(jsonFile)) console.error('[orchard-electron] the suite wrote no results');
  else process.stdout.write(readFileSync(join(resultsDir, 'integration.log'), 'utf8'));
  if (summary.failed > 0 && code === 0) code = 1;
  if (!keep) rmSync(scratch, { recursive: true, force: true });
  console.log(
    `integration (electron): ${summary.passed} passing, ${summary.failed} failing, ${summary.pending ?? 0} pending (${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code})`,
  );
  return code;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
