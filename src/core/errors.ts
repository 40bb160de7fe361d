// Errors the core throws on purpose. Each carries a stable `reason` code (for the CLI's exit
// code, the UI's choice of message, tests) and a message written for the person who has to
// fix the problem: what is wrong, where, and what to do about it.

export type OrchardErrorReason = 'import-invalid' | 'lock-conflict' | 'lock-lost' | 'escalation-invalid' | 'invalid-argument' | (string & {});

/** The message of anything thrown (an Error's message, or the value as text). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class OrchardError extends Error {
  constructor(
    readonly reason: OrchardErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OrchardError';
  }

  /** Whether e is an OrchardError (optionally: with this reason). */
  static is(e: unknown, reason?: OrchardErrorReason): e is OrchardError {
    return e instanceof OrchardError && (reason === undefined || e.reason === reason);
  }
}

/** A command of the orchestrator that cannot be carried out as asked (the message says why and what to do). */
export class OrchestratorError extends OrchardError {
  constructor(
    override readonly reason: 'unknown-ticket' | 'invalid-graph' | 'duplicate-ticket' | 'not-allowed' | 'bad-input',
    message: string,
  ) {
    super(reason, message);
    this.name = 'OrchestratorError';
  }
  static override is(e: unknown): e is OrchestratorError {
    return e instanceof OrchestratorError;
  }
}

/** One problem found while importing tickets. */
export interface ImportIssue {
  /** The file the problem is in, as the caller named it (e.g. "ws-07.json"). */
  file: string;
  /** The ticket (or workstream) id when known; "#3" style positions are in `index`. */
  ticketId?: string;
  /** 0-based position of the ticket in its file, when the problem is about one ticket. */
  index?: number;
  /** The workflow template step (its key, or "#2") the problem is in; the ticket, if any, was made from it. */
  step?: string;
  /** The field as it is spelled in the file (e.g. "dependsOn", "files_scope", "tickets"). */
  field?: string;
  /** What is wrong and how to fix it. */
  message: string;
  /** For JSON syntax errors: 1-based line and column. */
  line?: number;
  column?: number;
}

/** "tickets.json: ticket T1, field "priority": must be one of …" */
export function formatImportIssue(i: ImportIssue): string {
  let where = i.file;
  if (i.line !== undefined) where += `:${i.line}${i.column !== undefined ? `:${i.column}` : ''}`;
  const parts: string[] = [];
  // A huge bad id must not make a huge message: it is shown cut, with its length.
  const ticket =
    i.ticketId !== undefined
      ? `ticket ${i.ticketId.length > 80 ? `${JSON.stringify(i.ticketId.slice(0, 40))}… (${i.ticketId.length} characters)` : i.ticketId}`
      : undefined;
  if (i.step !== undefined) parts.push(`step ${i.step}${ticket ? ` (${ticket})` : ''}`);
  else if (ticket) parts.push(ticket);
  else if (i.index !== undefined) parts.push(`ticket #${i.index + 1}`);
  if (i.field !== undefined) parts.push(`field "${i.field}"`);
  return `${where}: ${parts.length ? parts.join(', ') + ': ' : ''}${i.message}`;
}

const MAX_LISTED = 50;

/** Thrown when an import has any problem; nothing was imported. Lists every problem found. */
export class ImportError extends OrchardError {
  readonly issues: readonly ImportIssue[];

  constructor(issues: readonly ImportIssue[]) {
    const lines = issues.slice(0, MAX_LISTED).map((i) => `  - ${formatImportIssue(i)}`);
    if (issues.length > MAX_LISTED) lines.push(`  … and ${issues.length - MAX_LISTED} more`);
    const n = issues.length;
    super(
      'import-invalid',
      `Nothing was imported: ${n} problem${n === 1 ? '' : 's'} found. Fix ${n === 1 ? 'it' : 'them'} and import again.\n${lines.join('\n')}`,
    );
    this.name = 'ImportError';
    this.issues = issues;
  }

  static override is(e: unknown): e is ImportError {
    return e instanceof ImportError;
  }
}
