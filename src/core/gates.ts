// Gates: which checks a ticket must pass before it may enter the merge queue, and what their
// results mean. Pure: running a gate is infra's job (src/infra/gates), deciding is here.
//
// - A gate applies to a ticket when it has no filter, or one of its labels is on the ticket,
//   or one of its globs matches a file the ticket was estimated to touch or actually changed.
// - requiredGatesByLabel makes a gate apply to every ticket with that label, whatever its
//   filters say (a security or compliance gate); a required gate that is not configured is a
//   configuration error (validateGates) and, at run time, a reason to stop, never to skip.
// - Command gates run first (cheap, deterministic), reviewers after, each in config order.
// - A reviewer's verdict is read from its output: a line `VERDICT: APPROVE` or
//   `VERDICT: REJECT` (the feedback is the rest of that line and what follows), or JSON
//   `{"verdict": "approve"|"reject", "feedback": "..."}`. No verdict is an error, not a pass.
// - A rejection sends the ticket back to its developer agent with the feedback, at most
//   reviewerRounds times; after that the human decides.
import type { GateResult, GateSpec, Ticket } from './model';

export const DEFAULT_GATE_TIMEOUT_SECONDS = 600;
export const DEFAULT_REVIEWER_ROUNDS = 2;

export interface ApplicableGate extends GateSpec {
  /** Required by a label of the ticket (requiredGatesByLabel). */
  required: boolean;
}

/** Glob matching for repository-relative paths: `**` spans folders, `*` and `?` do not. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function matchesGlob(path: string, glob: string): boolean {
  const p = path.replace(/^\.\//, '');
  const g = glob.replace(/^\.\//, '');
  if (globToRegExp(g).test(p)) return true;
  // A folder glob ("src/auth/") matches everything below it.
  return g.endsWith('/') && p.startsWith(g);
}

/** The gates a ticket must pass, commands first then reviewers, each in config order. */
export function gatesFor(
  ticket: Pick<Ticket, 'labels' | 'files'>,
  changedFiles: readonly string[],
  gates: readonly GateSpec[] = [],
  requiredByLabel: Readonly<Record<string, readonly string[]>> = {},
): ApplicableGate[] {
  const required = new Set<string>();
  for (const label of ticket.labels) for (const g of requiredByLabel[label] ?? []) required.add(g);
  const paths = [...ticket.files, ...changedFiles];
  const out: ApplicableGate[] = [];
  for (const g of gates) {
    const isRequired = required.has(g.name);
    const byLabel = g.labels?.length ? g.labels.some((l) => ticket.labels.includes(l)) : undefined;
    const byFiles = g.files?.length ? paths.some((p) => g.files!.some((glob) => matchesGlob(p, glob) || matchesGlob(glob, p))) : undefined;
    const applies = isRequired || (byLabel === undefined && byFiles === undefined) || byLabel === true || byFiles === true;
    if (applies) out.push({ ...g, required: isRequired });
  }
  return [...out.filter((g) => g.kind === 'command'), ...out.filter((g) => g.kind === 'reviewer')];
}

/** Required gate names (by the ticket's labels) that are not configured at all. */
export function missingRequiredGates(
  ticket: Pick<Ticket, 'labels'>,
  gates: readonly GateSpec[] = [],
  requiredByLabel: Readonly<Record<string, readonly string[]>> = {},
): string[] {
  const names = new Set(gates.map((g) => g.name));
  const missing = new Set<string>();
  for (const label of ticket.labels) for (const g of requiredByLabel[label] ?? []) if (!names.has(g)) missing.add(g);
  return [...missing];
}

/** Problems in a gate configuration, each naming the field (empty when valid). */
export function validateGates(gates: unknown, requiredByLabel: unknown, field = 'gates'): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  if (gates !== undefined && !Array.isArray(gates)) return [`${field} must be an array of gates`];
  for (const [i, g] of ((gates as unknown[]) ?? []).entries()) {
    const at = `${field}[${i}]`;
    if (!g || typeof g !== 'object') {
      problems.push(`${at} must be an object with name and kind`);
      continue;
    }
    const x = g as Record<string, unknown>;
    const known = ['name', 'kind', 'argv', 'agent', 'prompt', 'timeoutSeconds', 'labels', 'files'];
    for (const k of Object.keys(x)) if (!known.includes(k)) problems.push(`${at}.${k} is not a gate field (use ${known.join(', ')})`);
    if (typeof x.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(x.name)) problems.push(`${at}.name must be a name of letters, digits, '.', '_' or '-'`);
    else if (names.has(x.name)) problems.push(`${at}.name "${x.name}" is used twice`);
    else names.add(x.name);
    if (x.kind !== 'command' && x.kind !== 'reviewer') problems.push(`${at}.kind must be "command" or "reviewer"`);
    if (x.kind === 'command' && (!Array.isArray(x.argv) || x.argv.length === 0 || x.argv.some((a) => typeof a !== 'string'))) {
      problems.push(`${at}.argv must be a non-empty argv array such as ["npm", "test"] (no shell string)`);
    }
    if (x.kind === 'reviewer' && x.argv !== undefined) problems.push(`${at}.argv is for command gates; a reviewer names an agent profile in "agent"`);
    if (x.agent !== undefined && (typeof x.agent !== 'string' || !x.agent)) problems.push(`${at}.agent must name an agent profile`);
    if (x.prompt !== undefined && typeof x.prompt !== 'string') problems.push(`${at}.prompt must be text`);
    if (x.timeoutSeconds !== undefined && !(typeof x.timeoutSeconds === 'number' && x.timeoutSeconds > 0))
      problems.push(`${at}.timeoutSeconds must be a positive number`);
    for (const k of ['labels', 'files'] as const) {
      if (x[k] !== undefined && (!Array.isArray(x[k]) || (x[k] as unknown[]).some((v) => typeof v !== 'string')))
        problems.push(`${at}.${k} must be an array of strings`);
    }
  }
  if (requiredByLabel !== undefined) {
    if (!requiredByLabel || typeof requiredByLabel !== 'object' || Array.isArray(requiredByLabel)) {
      problems.push('requiredGatesByLabel must be an object such as {"security": ["secret-scan"]}');
    } else {
      for (const [label, list] of Object.entries(requiredByLabel as Record<string, unknown>)) {
        if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
          problems.push(`requiredGatesByLabel.${label} must be an array of gate names`);
          continue;
        }
        for (const n of list as string[]) if (!names.has(n)) problems.push(`requiredGatesByLabel.${label} names gate "${n}", which is not in ${field}`);
      }
    }
  }
  return problems;
}

export type Verdict = { verdict: 'approve' | 'reject'; feedback: string } | { verdict: 'none'; feedback: '' };

/** Reads a reviewer's verdict from its output; the last verdict wins. */
export function parseVerdict(text: string): Verdict {
  let found: Verdict = { verdict: 'none', feedback: '' };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^\s*(?:[*_`>#-]\s*)*VERDICT\s*[:=]\s*(APPROVE[SD]?|REJECT(?:ED|S)?)\b[\s:.,—-]*(.*)$/i.exec(line);
    if (m) {
      const verdict = m[1]!.toUpperCase().startsWith('APPROVE') ? 'approve' : 'reject';
      const following: string[] = [];
      for (const l of lines.slice(i + 1)) {
        if (!l.trim() || /VERDICT\s*[:=]/i.test(l)) break;
        following.push(l);
      }
      const rest = [m[2]!.trim(), ...following].join('\n').trim();
      found = { verdict, feedback: verdict === 'reject' ? rest.slice(0, 4000) : rest.slice(0, 1000) };
      continue;
    }
    const j = /\{[^{}]*"verdict"\s*:\s*"(approve|reject)"[^{}]*\}/i.exec(line);
    if (j) {
      try {
        const o = JSON.parse(j[0]) as { verdict: string; feedback?: unknown };
        found = { verdict: o.verdict.toLowerCase() === 'approve' ? 'approve' : 'reject', feedback: typeof o.feedback === 'string' ? o.feedback : '' };
      } catch {
        /* not JSON after all */
      }
    }
  }
  return found;
}

/** The prompt of a reviewer agent. */
export function reviewPrompt(
  ticket: Pick<Ticket, 'id' | 'title' | 'prompt'>,
  opts: { branch: string; base?: string; round: number; extra?: string; files?: readonly string[] },
): string {
  return [
    `ORCHARD REVIEW of ticket ${ticket.id} "${ticket.title}" (round ${opts.round}).`,
    `You are a reviewer. Review the changes on branch ${opts.branch}${opts.base ? ` since ${opts.base.slice(0, 12)}` : ''} in this worktree (git diff ${opts.base ? `${opts.base.slice(0, 12)}..HEAD` : 'HEAD~1..HEAD'}). Do not modify any file.`,
    opts.files?.length ? `Files changed: ${opts.files.join(', ')}` : '',
    opts.extra ?? '',
    'The task the developer was given:',
    '-----',
    ticket.prompt,
    '-----',
    'End with exactly one line `VERDICT: APPROVE` or `VERDICT: REJECT: <what must change>` (or run `orchard-agent done "VERDICT: ..."`).',
  ]
    .filter(Boolean)
    .join('\n');
}

export type GateDecision =
  | { kind: 'pass' }
  /** A command gate failed (or timed out): a failure of the run, retried like one. */
  | { kind: 'failed'; gate: string; output: string }
  /** A reviewer rejected and rounds remain: back to the developer with the feedback. */
  | { kind: 'send-back'; gate: string; round: number; feedback: string }
  /** Rounds are used up, a reviewer gave no verdict, or a required gate is missing: the human decides. */
  | { kind: 'escalate'; reason: string; context: string };

/** What the results of one gating pass mean. roundsSoFar: rejections already sent back. */
export function decideGates(results: readonly GateResult[], roundsSoFar: number, maxRounds = DEFAULT_REVIEWER_ROUNDS): GateDecision {
  for (const r of results) {
    if (r.kind === 'command' && !r.passed) {
      return {
        kind: 'failed',
        gate: r.name,
        output: `${r.status === 'timeout' ? 'timed out' : r.status === 'error' ? 'could not run' : `exited with ${r.exitCode ?? '?'}`}\n${r.output ?? ''}`,
      };
    }
  }
  for (const r of results) {
    if (r.kind !== 'reviewer' || r.passed) continue;
    if (r.status === 'rejected') {
      if (roundsSoFar < maxRounds) return { kind: 'send-back', gate: r.name, round: roundsSoFar + 1, feedback: r.feedback ?? '' };
      return {
        kind: 'escalate',
        reason: `reviewer ${r.name} rejected the work ${roundsSoFar + 1} times (${maxRounds} round${maxRounds === 1 ? '' : 's'} allowed)`,
        context: `Last feedback from ${r.name}:\n${r.feedback ?? ''}`,
      };
    }
    return { kind: 'escalate', reason: `reviewer ${r.name} gave no verdict (${r.status})`, context: r.output ?? '' };
  }
  return { kind: 'pass' };
}

/** The text handed to the developer agent after a rejection. */
export function feedbackContext(gate: string, round: number, maxRounds: number, feedback: string): string {
  return `Reviewer ${gate} rejected your previous attempt (round ${round} of ${maxRounds}). Address this feedback, commit, and finish:\n${feedback.trim() || '(no details given)'}`;
}

/** One line for logs and the report. */
export function describeGate(r: GateResult): string {
  const secs = (r.durationMs / 1000).toFixed(1);
  const what =
    r.kind === 'reviewer' ? `${r.status}${r.round ? ` (round ${r.round})` : ''}` : r.status === 'failed' ? `failed (exit ${r.exitCode ?? '?'})` : r.status;
  return `${r.name}${r.required ? ' [required]' : ''}: ${what} in ${secs} s`;
}
