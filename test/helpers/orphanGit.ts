// A real git process left running by "a killed Orchard": an orphan (not this process's child),
// alive for `seconds` (a shell alias that sleeps), in cwd, with `args` on its command line.
import { execFileSync } from 'node:child_process';
import { strayGitProcesses } from '../../src/infra/git/strayGit';

export async function orphanGit(cwd: string, seconds: number, args: string[] = []): Promise<number> {
  const marker = `orchard-stray-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // The subshell exits at once: git is reparented, as a killed Orchard's git is.
  execFileSync('sh', ['-c', `(git -c "alias.stray=!sleep ${seconds}; :" stray "$@" >/dev/null 2>&1 &)`, 'sh', marker, ...args], { cwd });
  for (let i = 0; i < 400; i++) {
    const p = (await strayGitProcesses()).find((g) => g.argv.includes(marker));
    if (p) return p.pid;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the orphan git did not start');
}
