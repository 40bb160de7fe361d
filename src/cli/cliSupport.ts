// What every `orchard` subcommand shares: its I/O, usage errors, the writer session it opens
// (and always closes), read-only state, and the parsing of numbers, modes and lists.
import type { Mode, OrchardState } from '../core/model';
import { MODES } from '../core/model';
import type { OrchardConfig } from '../infra/config';
import type { RunnerHost } from '../infra/agents/launcher';
import { consoleLogger, locateRepo, openSession, type Session } from '../infra/session';
import { FileStateStore } from '../infra/store';

export class UsageError extends Error {
  readonly reason = 'usage';
}

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
  distDir: string;
}

export function requireWriter(s: Session): asserts s is Extract<Session, { role: 'writer' }> {
  if (s.role !== 'writer') throw new UsageError(s.message);
}

export async function withSession<T>(
  io: CliIo,
  config: Partial<OrchardConfig>,
  fn: (s: Extract<Session, { role: 'writer' }>) => Promise<T>,
  host?: RunnerHost,
): Promise<T> {
  const s = await openSession({ cwd: io.cwd, owner: 'orchard CLI', distDir: io.distDir, config, log: consoleLogger(true), ...(host && { host }) });
  try {
    requireWriter(s);
    return await fn(s);
  } finally {
    await s.close();
  }
}

export function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
}

export function mode(v: string | undefined): Mode | undefined {
  if (v === undefined) return undefined;
  if (!MODES.includes(v as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${v}"`);
  return v as Mode;
}

export const list = (v: string | undefined): string[] =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

export async function readStateReadOnly(io: CliIo): Promise<OrchardState> {
  const paths = await locateRepo(io.cwd);
  return new FileStateStore(paths.stateDir, { readOnly: true }).load();
}
