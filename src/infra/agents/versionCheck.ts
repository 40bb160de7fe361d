// Which version of an agent CLI is installed, against the one Orchard is tested with
// (clis/<name>.ts testedVersion): a different version gets a warning, once, naming both.
import { execFile } from 'node:child_process';
import { BUILTIN_CLIS } from './clis';

export interface VersionCheck {
  profile: string;
  tested?: string;
  /** undefined: not installed (or its version could not be read). */
  installed?: string;
  /** A sentence for the user when something is off; undefined when the versions match. */
  warning?: string;
}

const cache = new Map<string, Promise<VersionCheck>>();

/** The installed version of a built-in CLI profile; undefined for custom profiles. */
export function checkCliVersion(profile: string, env: NodeJS.ProcessEnv = process.env): Promise<VersionCheck> | undefined {
  const def = BUILTIN_CLIS[profile];
  if (!def?.versionArgv) return undefined;
  const key = `${profile}\u0000${env.PATH ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = new Promise<VersionCheck>((resolve) => {
      const [cmd, ...args] = def.versionArgv!;
      execFile(cmd!, args, { env, timeout: 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        const installed = /(\d+\.\d+\.\d+)/.exec(`${stdout}\n${stderr}`)?.[1];
        const name = def.profile.description;
        if (err && !installed) {
          resolve({
            profile,
            tested: def.testedVersion,
            warning: `${name} (${cmd}) is not installed or does not start: ${(err as Error).message.split('\n')[0]}`,
          });
        } else if (def.testedVersion && installed !== def.testedVersion) {
          resolve({
            profile,
            tested: def.testedVersion,
            installed,
            warning: `${name} ${installed ?? '(unknown version)'} is installed; Orchard is tested with ${def.testedVersion}. It will likely work; if a run stalls or a first-run screen blocks it, say which version in your report.`,
          });
        } else resolve({ profile, tested: def.testedVersion, installed });
      });
    });
    cache.set(key, p);
  }
  return p;
}
