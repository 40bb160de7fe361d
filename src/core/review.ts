// The review desk's rules: which finished tickets wait for a person after their gates (the
// review policy), what the review queue shows, and how a reviewer's comments reach the agent.
import type { GateResult, OrchardState, Ticket } from './model';
import { matchesPath } from './paths';

/**
 * `auto`: every ticket that passes its gates is merged (the default). `human`: every ticket
 * waits for a person. `{ human: { labels, files } }`: only tickets with one of the labels, or
 * whose changed files match one of the globs, wait.
 */
export type ReviewPolicy = 'auto' | 'human' | { human: { labels?: string[]; files?: string[] } };

export const REVIEW_DECISIONS = ['approve', 'request-changes', 'discard'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** A reviewer's remark on one line of a changed file (line 1-based, in the ticket's version). */
export interface ReviewComment {
  file: string;
  line: number;
  body: string;
}

/** Problems with a `review` setting, each naming the field and the fix (empty: fine). */
export function validateReviewPolicy(raw: unknown, field = 'review'): string[] {
  if (raw === undefined || raw === 'auto' || raw === 'human') return [];
  const fix = `use "auto", "human", or {"human": {"labels": ["security"], "files": ["migrations/**"]}}`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [`${field} is ${JSON.stringify(raw)}; ${fix}`];
  const keys = Object.keys(raw);
  if (keys.length !== 1 || keys[0] !== 'human') return [`${field} has ${keys.map((k) => JSON.stringify(k)).join(', ') || 'no key'}; ${fix}`];
  const human = (raw as { human: unknown }).human;
  if (!human || typeof human !== 'object' || Array.isArray(human)) return [`${field}.human must be an object with labels and/or files; ${fix}`];
  const problems: string[] = [];
  for (const k of Object.keys(human)) if (k !== 'labels' && k !== 'files') problems.push(`${field}.human.${k} is not a review field (use labels, files)`);
  for (const k of ['labels', 'files'] as const) {
    const v = (human as Record<string, unknown>)[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)))
      problems.push(`${field}.human.${k} must be an array of non-empty strings`);
  }
  const h = human as { labels?: unknown[]; files?: unknown[] };
  if (!problems.length && !h.labels?.length && !h.files?.length)
    problems.push(`${field}.human names no label and no file glob, so no ticket would wait; ${fix}`);
  return problems;
}

/** Why this ticket waits for a person before merging, or undefined when it merges on its own. */
export function reviewReason(policy: ReviewPolicy | undefined, ticket: Pick<Ticket, 'labels'>, filesChanged: readonly string[]): string | undefined {
  if (!policy || policy === 'auto') return undefined;
  if (policy === 'human') return 'every ticket is reviewed (review: human)';
  const label = policy.human.labels?.find((l) => ticket.labels.includes(l));
  if (label) return `label ${label} is reviewed by a person`;
  for (const glob of policy.human.files ?? []) {
    const file = filesChanged.find((f) => matchesPath(glob, f));
    if (file) return `${file} matches ${glob}, reviewed by a person`;
  }
  return undefined;
}

/** One ticket waiting for review, as the queue shows it. */
export interface ReviewItem {
  ticketId: string;
  title: string;
  runId: string;
  /** When it started waiting. */
  since: number;
  /** Why it waits (the policy's reason). */
  why: string;
  /** What the agent said of its work (its last progress message or done summary). */
  summary?: string;
  gates: GateResult[];
  files: string[];
  branch: string;
  /** The commit the ticket's work is compared with. */
  base?: string;
  worktree: string;
  /** Earlier reviews of this ticket that asked for changes. */
  rounds: number;
}

/** Tickets waiting for review, oldest first. */
export function reviewQueue(state: OrchardState): ReviewItem[] {
  const items: ReviewItem[] = [];
  for (const t of Object.values(state.tickets)) {
    if (t.status !== 'in-review') continue;
    let run;
    for (const r of Object.values(state.runs)) if (r.ticketId === t.id && (!run || r.attempt > run.attempt)) run = r;
    if (!run) continue;
    items.push({
      ticketId: t.id,
      title: t.title,
      runId: run.id,
      since: t.reviewSince ?? run.endedAt ?? run.startedAt,
      why: t.reason ?? '',
      ...(run.message && { summary: run.message }),
      gates: run.gates ?? [],
      files: run.filesChanged ?? [],
      branch: run.branch,
      ...(run.base && { base: run.base }),
      worktree: run.worktree,
      rounds: t.humanReviewRounds ?? 0,
    });
  }
  return items.sort((a, b) => a.since - b.since || (a.ticketId < b.ticketId ? -1 : 1));
}

/** Checks and tidies a reviewer's comments; the message names the comment and the fix. */
export function checkComments(comments: readonly ReviewComment[]): ReviewComment[] {
  return comments.map((c, i) => {
    if (!c || typeof c.file !== 'string' || !c.file.trim()) throw new Error(`comment ${i + 1}: file is missing; name the changed file the comment is on`);
    if (!Number.isInteger(c.line) || c.line < 1) throw new Error(`comment ${i + 1} on ${c.file}: line is ${JSON.stringify(c.line)}; use a line number from 1`);
    if (typeof c.body !== 'string' || !c.body.trim()) throw new Error(`comment ${i + 1} on ${c.file}:${c.line}: the text is empty; say what should change`);
    return { file: c.file.trim(), line: c.line, body: c.body.trim() };
  });
}

/** The next attempt's feedback: what the reviewer asked, with file and line. */
export function reviewFeedbackContext(by: string, round: number, summary: string | undefined, comments: readonly ReviewComment[]): string {
  const lines = [`${by} reviewed your previous attempt (human review ${round}) and asked for changes. Address each point, commit, and finish:`];
  if (summary?.trim()) lines.push(summary.trim());
  for (const c of comments) lines.push(`- ${c.file}:${c.line}: ${c.body}`);
  if (!summary?.trim() && !comments.length) lines.push('(no details given)');
  return lines.join('\n');
}

/**
 * Parses "file:line: text" (the CLI's --comment), the line 1-based. The file may itself hold
 * colons; the first ":<digits>:" splits it.
 */
export function parseCommentArg(arg: string): ReviewComment {
  const m = /^(.+?):(\d+):\s*([\s\S]*)$/.exec(arg);
  if (!m) throw new Error(`--comment "${arg}" is not "file:line: text"; for example --comment "src/app.ts:12: handle the empty list"`);
  return checkComments([{ file: m[1]!, line: Number(m[2]), body: m[3]! }])[0]!;
}
