// `npm run test:agents [-- claude,codex]`: installs the pinned CLIs (cached outside the clone),
// builds Orchard, then runs the conformance suite with Node's test runner.
// ORCHARD_AGENT_MODES=headless|tmux narrows the modes.
import { spawnSync } from 'node:child_process';

const clis = process.argv[2];
const env = { ...process.env, ...(clis && { ORCHARD_AGENTS: clis }) };
const step = (args) => {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.log('# fail 1');
    process.exit(r.status ?? 1);
  }
};
step(['--import', 'tsx', 'test/agents/install.ts', ...(clis ? clis.split(',') : [])]);
step(['esbuild.config.mjs']);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=900000', 'test/agents/conformance.test.ts'],
  { stdio: 'inherit', env },
);
process.exit(r.status ?? 1);
