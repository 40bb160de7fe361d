// The `orchard` command in-process (runCli) on a temp repository: its exit code, everything it
// printed, and the error it threw (a usage error names the field and the fix).
import { loadSrc } from './bundle';
import { DIST } from './repo';

export async function cli(cwd: string, ...argv: string[]): Promise<{ code: number | undefined; out: string; error?: Error }> {
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), cwd, distDir: DIST };
  try {
    // The session is closed (state on disk, writer lease released) when runCli returns.
    const code = await loadSrc().runCli(argv, io);
    return { code, out: out.join('\n') };
  } catch (e) {
    return { code: undefined, out: out.join('\n'), error: e as Error };
  }
}
