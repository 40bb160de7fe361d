// Field checks shared by the importers. Each check returns a problem message (what is wrong
// and how to fix it) or undefined; the importers attach file, ticket and field.
import { normalizePattern, scopeProblem } from '../paths';
import { PRIORITIES, type Priority } from '../model';

export const IMPORT_LIMITS = {
  maxTickets: 5000,
  maxTitleChars: 200,
  maxPromptChars: 100_000,
  maxFiles: 1000,
  maxPatternChars: 1024,
  maxLabels: 100,
  maxLabelChars: 100,
  maxDependsOn: 1000,
  maxTasks: 1000,
  /** 30 days. */
  maxEstimateMinutes: 43_200,
  /** Per imported file, in UTF-16 code units. */
  maxFileChars: 64 * 1024 * 1024,
} as const;

export const TICKET_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Whether s can be a ticket id: it becomes the branch `orchard/<id>`, a directory name and a
 * path segment, so it must be safe as all three on every platform.
 */
export function ticketIdProblem(id: unknown): string | undefined {
  const fix = 'use letters, digits, ".", "_" and "-" only, starting with a letter or digit, at most 64 characters (e.g. "T12" or "auth-login")';
  if (typeof id !== 'string') return `must be a string (got ${describe(id)}); ${fix}`;
  if (id === '') return `is empty; ${fix}`;
  if (!TICKET_ID_PATTERN.test(id)) {
    if (id.length > 64) return `is ${id.length} characters long (at most 64); use a shorter id`;
    if (id.includes('/') || id.includes('\\')) return `"${id}" contains a path separator; ${fix}`;
    return `"${id}" is not a valid ticket id; ${fix}`;
  }
  if (id.includes('..')) return `"${id}" contains "..", which git does not allow in a branch name; use a single "."`;
  if (id.endsWith('.')) return `"${id}" ends with ".", which git and Windows do not allow; remove the trailing "."`;
  if (id.toLowerCase().endsWith('.lock')) return `"${id}" ends with ".lock", which git reserves; choose another ending`;
  if (WINDOWS_RESERVED.test(id)) return `"${id}" is a reserved device name on Windows; choose another id`;
  return undefined;
}

export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function profileNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string naming an agent profile (got ${describe(name)}), e.g. "claude"`;
  if (!PROFILE_NAME_PATTERN.test(name))
    return `"${clip(name)}" is not an agent profile name; use letters, digits, ".", "_" and "-" (e.g. "claude", "codex", "aider")`;
  return undefined;
}

/** Checks a file/glob of a ticket's scope; returns the normalised pattern or a problem. */
export function checkPattern(p: unknown): { pattern: string } | { problem: string } {
  if (typeof p !== 'string') return { problem: `entries must be strings (paths or globs), got ${describe(p)}` };
  if (p.length > IMPORT_LIMITS.maxPatternChars) return { problem: `an entry is ${p.length} characters long (at most ${IMPORT_LIMITS.maxPatternChars})` };
  const sp = scopeProblem(p);
  if (sp) return { problem: `entry ${sp === 'is empty' ? '"" is empty; remove it' : sp}` };
  if (hasControl(p, false)) return { problem: `entry "${clip(p)}" contains control characters; remove them` };
  const n = normalizePattern(p);
  if (n === '' || n === '.') return { problem: `entry "${p}" names the repository root; use "**" if the ticket may touch everything` };
  if (n.startsWith('-'))
    return { problem: `entry "${clip(p)}" starts with "-", which an agent CLI would read as an option; rename or quote the path differently` };
  if (n.split('/').some((s) => s.toLowerCase() === '.git'))
    return { problem: `entry "${clip(p)}" points into .git; tickets may only touch files in the working tree` };
  return { pattern: n };
}

export function checkPriority(p: unknown): { priority: Priority } | { problem: string } {
  if (typeof p === 'string' && (PRIORITIES as readonly string[]).includes(p)) return { priority: p as Priority };
  const hint = typeof p === 'string' && (PRIORITIES as readonly string[]).includes(p.trim().toUpperCase()) ? ` (write "${p.trim().toUpperCase()}")` : '';
  return { problem: `must be one of ${PRIORITIES.join(', ')} (P0 emergency … P3 low), got ${describe(p)}${hint}` };
}

export function checkEstimateMinutes(v: unknown): { minutes: number } | { problem: string } {
  if (typeof v !== 'number' || !Number.isFinite(v)) return { problem: `must be a number of minutes greater than 0 (got ${describe(v)}), e.g. 30` };
  if (v <= 0) return { problem: `must be greater than 0 minutes (got ${v}); omit it if unknown` };
  if (v > IMPORT_LIMITS.maxEstimateMinutes)
    return { problem: `${v} minutes is more than ${IMPORT_LIMITS.maxEstimateMinutes} (30 days); split the ticket or check the unit (minutes)` };
  return { minutes: v };
}

/** Control characters: NUL always (it cannot be passed in argv); others unless allowed. */
export function hasControl(s: string, allowWhitespace: boolean): boolean {
  // eslint-disable-next-line no-control-regex
  return allowWhitespace ? /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s) : /[\u0000-\u001f\u007f]/.test(s);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `"${clip(v)}"`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

export function clip(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

/** Levenshtein distance, capped work: used to suggest the key the author meant. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > 3) return Math.abs(m - n);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[n]!;
}

/** The known key closest to an unknown one, if it is plausibly a typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = norm(k) === norm(key) ? 0 : editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(1, Math.min(3, Math.floor(key.length / 3))) ? best : undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
