// Installs the pinned agent CLIs (src/infra/agents/clis/<name>.ts: npmPackage@testedVersion)
// into a cache outside the clone ($ORCHARD_AGENTS_CACHE, default ~/.cache/orchard-agents), one
// folder per package and version, so CI and later runs reuse them. Install scripts are not
// run: none of the five needs one to start (checked on these versions).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_CLIS } from '../../src/infra/agents/clis';
import { AGENTS_CACHE, packageDir } from './harness';

const only = process.argv.slice(2);
for (const [name, def] of Object.entries(BUILTIN_CLIS)) {
  if (!def.npmPackage || !def.testedVersion || (only.length && !only.includes(name))) continue;
  const dir = packageDir(name);
  const bin = join(dir, 'node_modules', '.bin', name);
  if (existsSync(bin)) {
    console.log(`${name} ${def.testedVersion}: cached in ${dir}`);
    continue;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  const t0 = Date.now();
  console.log(`${name}: npm install ${def.npmPackage}@${def.testedVersion} into ${dir}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `${def.npmPackage}@${def.testedVersion}`], { cwd: dir, stdio: 'inherit' });
  console.log(`${name}: installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`agent CLIs in ${AGENTS_CACHE}`);
