// Orchard's own ticket file:
//   { "tickets": [ { "id": "T1", "title": "…", "prompt": "…", "priority": "P1",
//                    "dependsOn": ["T0"], "files": ["src/auth/**"], "labels": [],
//                    "agent": "claude", "estimate": 30, "role": "developer" } ] }
// id and title are required; prompt defaults to the title, priority to P2, lists to [].
// Unknown keys are errors (a typo such as "dependOn" must not silently drop dependencies).
// Text is plain text: quotes, backticks, $(…), unicode are kept verbatim.
import type { ImportIssue } from '../errors';
import type { Priority, TicketSpec } from '../model';
import { roleNameProblem } from '../roles';
import { parseJsonFile } from './json';
import { finishImport } from './finish';
import type { CollectResult, ImportFile, ImportOptions, LocatedTicket, TicketImporter } from './types';
import {
  IMPORT_LIMITS,
  checkEstimateMinutes,
  checkPattern,
  checkPriority,
  describe,
  hasControl,
  isPlainObject,
  profileNameProblem,
  suggestKey,
  ticketIdProblem,
} from './validate';

export const ORCHARD_TOP_KEYS = ['tickets', '$schema', 'version'] as const;
export const ORCHARD_TICKET_KEYS = ['id', 'title', 'prompt', 'priority', 'dependsOn', 'files', 'labels', 'agent', 'estimate', 'role'] as const;

function unknownKey(key: string, known: readonly string[], where: string): string {
  const s = suggestKey(key, known);
  return `unknown ${where} "${key}"${s ? ` — did you mean "${s}"?` : ''}; known ${where}s are ${known.join(', ')}. Remove or rename it.`;
}

/** Validates one ticket object. Pushes issues; returns the spec when the ticket is valid. */
export function readOrchardTicket(raw: unknown, file: string, index: number, issues: ImportIssue[]): TicketSpec | undefined {
  const before = issues.length;
  const r = readOrchardTicketPartial(raw, file, index, issues);
  return issues.length > before ? undefined : r;
}

/**
 * Like readOrchardTicket, but also returns what could be read of an invalid ticket whose id
 * is valid (so graph checks can still see it and report every problem in one go).
 */
function readOrchardTicketPartial(raw: unknown, file: string, index: number, issues: ImportIssue[]): TicketSpec | undefined {
  if (!isPlainObject(raw)) {
    issues.push({ file, index, message: `must be an object like { "id": "T1", "title": "…" }, got ${describe(raw)}` });
    return undefined;
  }
  const idOk = typeof raw.id === 'string' && ticketIdProblem(raw.id) === undefined;
  const ticketId = typeof raw.id === 'string' && raw.id !== '' ? raw.id : undefined;
  const add = (field: string | undefined, message: string) =>
    issues.push({ file, index, ...(ticketId !== undefined ? { ticketId } : {}), ...(field !== undefined ? { field } : {}), message });

  for (const key of Object.keys(raw)) {
    if (!(ORCHARD_TICKET_KEYS as readonly string[]).includes(key)) add(key, unknownKey(key, ORCHARD_TICKET_KEYS, 'ticket field'));
  }

  if (raw.id === undefined || raw.id === null) add('id', 'is required; give the ticket a short unique id such as "T1" or "auth-login"');
  else if (!idOk) add('id', ticketIdProblem(raw.id)!);

  let title = '';
  if (raw.title === undefined || raw.title === null) add('title', 'is required; add a one-line summary of the ticket');
  else if (typeof raw.title !== 'string') add('title', `must be a string (got ${describe(raw.title)})`);
  else if (raw.title.trim() === '') add('title', 'is empty; add a one-line summary of the ticket');
  else if (raw.title.length > IMPORT_LIMITS.maxTitleChars)
    add('title', `is ${raw.title.length} characters long (at most ${IMPORT_LIMITS.maxTitleChars}); shorten it and move details to "prompt"`);
  else if (hasControl(raw.title, false)) add('title', 'contains line breaks or control characters; keep the title on one line and move details to "prompt"');
  else title = raw.title.trim();

  let prompt: string | undefined;
  if (raw.prompt !== undefined && raw.prompt !== null) {
    if (typeof raw.prompt !== 'string') add('prompt', `must be a string (got ${describe(raw.prompt)})`);
    else if (raw.prompt.trim() === '') add('prompt', 'is empty; write the instructions for the agent, or remove "prompt" to use the title');
    else if (raw.prompt.length > IMPORT_LIMITS.maxPromptChars)
      add(
        'prompt',
        `is ${raw.prompt.length} characters long (at most ${IMPORT_LIMITS.maxPromptChars}); shorten it or point the agent to a file in the repository`,
      );
    else if (hasControl(raw.prompt, true)) add('prompt', 'contains NUL or other control characters, which cannot be passed to an agent; remove them');
    else prompt = raw.prompt;
  }

  let priority: Priority = 'P2';
  if (raw.priority !== undefined && raw.priority !== null) {
    const r = checkPriority(raw.priority);
    if ('problem' in r) add('priority', r.problem);
    else priority = r.priority;
  }

  const dependsOn = readIdList(raw.dependsOn, 'dependsOn', add);

  const files = readPatternList(raw.files, 'files', add);

  const labels: string[] = [];
  if (raw.labels !== undefined && raw.labels !== null) {
    if (!Array.isArray(raw.labels)) add('labels', `must be a list of strings such as ["backend"], got ${describe(raw.labels)}`);
    else if (raw.labels.length > IMPORT_LIMITS.maxLabels) add('labels', `has ${raw.labels.length} entries (at most ${IMPORT_LIMITS.maxLabels})`);
    else
      for (const l of raw.labels) {
        if (typeof l !== 'string') add('labels', `entries must be strings, got ${describe(l)}`);
        else if (l.trim() === '') add('labels', 'contains an empty label; remove it');
        else if (l.length > IMPORT_LIMITS.maxLabelChars) add('labels', `label "${l.slice(0, 30)}…" is longer than ${IMPORT_LIMITS.maxLabelChars} characters`);
        else if (hasControl(l, false)) add('labels', 'a label contains control characters; remove them');
        else if (!labels.includes(l.trim())) labels.push(l.trim());
      }
  }

  let agent: string | undefined;
  if (raw.agent !== undefined && raw.agent !== null) {
    const p = profileNameProblem(raw.agent);
    if (p) add('agent', p);
    else agent = raw.agent as string;
  }

  let estimate: number | undefined;
  if (raw.estimate !== undefined && raw.estimate !== null) {
    const r = checkEstimateMinutes(raw.estimate);
    if ('problem' in r) add('estimate', r.problem);
    else estimate = r.minutes;
  }

  let role: string | undefined;
  if (raw.role !== undefined && raw.role !== null) {
    const p = roleNameProblem(raw.role);
    if (p) add('role', p);
    else role = raw.role as string;
  }

  if (!idOk) return undefined;
  const spec: TicketSpec = { id: raw.id as string, title, prompt: prompt ?? title, priority, dependsOn, files, labels };
  if (agent !== undefined) spec.agent = agent;
  if (estimate !== undefined) spec.estimate = estimate;
  if (role !== undefined) spec.role = role;
  return spec;
}

/** A list of repository paths or globs (a ticket's scope). Duplicates are dropped. */
export function readPatternList(v: unknown, field: string, add: (field: string, message: string) => void): string[] {
  const out: string[] = [];
  if (v === undefined || v === null) return out;
  if (!Array.isArray(v)) add(field, `must be a list of paths or globs such as ["src/auth/**"], got ${describe(v)}`);
  else if (v.length > IMPORT_LIMITS.maxFiles) add(field, `has ${v.length} entries (at most ${IMPORT_LIMITS.maxFiles}); use globs such as "src/auth/**"`);
  else
    for (const f of v) {
      const r = checkPattern(f);
      if ('problem' in r) add(field, r.problem);
      else if (!out.includes(r.pattern)) out.push(r.pattern);
    }
  return out;
}

/** A list of ticket ids (dependencies). Duplicates are dropped. */
export function readIdList(v: unknown, field: string, add: (field: string, message: string) => void): string[] {
  const out: string[] = [];
  if (v === undefined || v === null) return out;
  if (!Array.isArray(v)) {
    add(field, `must be a list of ticket ids such as ["T1"], got ${describe(v)}`);
    return out;
  }
  if (v.length > IMPORT_LIMITS.maxDependsOn) {
    add(field, `has ${v.length} entries (at most ${IMPORT_LIMITS.maxDependsOn})`);
    return out;
  }
  for (const d of v) {
    const p = ticketIdProblem(d);
    if (p) add(field, `entry ${p}`);
    else if (!out.includes(d as string)) out.push(d as string);
  }
  return out;
}

export const orchardImporter: TicketImporter = {
  name: 'orchard',

  canImport(_fileName: string, parsed: unknown): boolean {
    return (isPlainObject(parsed) && 'tickets' in parsed) || (Array.isArray(parsed) && parsed.every((t) => isPlainObject(t) && 'title' in t));
  },

  collect(files: readonly ImportFile[]): CollectResult {
    const issues: ImportIssue[] = [];
    const tickets: LocatedTicket[] = [];
    let total = 0;
    for (const f of files) {
      const parsed = parseJsonFile(f.name, f.text);
      if (!parsed.ok) {
        issues.push(parsed.issue);
        continue;
      }
      let list: unknown;
      const doc = parsed.value;
      if (Array.isArray(doc)) list = doc;
      else if (isPlainObject(doc)) {
        for (const key of Object.keys(doc)) {
          if (!(ORCHARD_TOP_KEYS as readonly string[]).includes(key))
            issues.push({ file: f.name, field: key, message: unknownKey(key, ORCHARD_TOP_KEYS, 'top-level field') });
        }
        if (doc.version !== undefined && doc.version !== 1)
          issues.push({ file: f.name, field: 'version', message: `${describe(doc.version)} is not a supported version; use 1 or remove "version"` });
        if (!('tickets' in doc)) {
          issues.push({ file: f.name, field: 'tickets', message: 'is missing; expected { "tickets": [ { "id": "T1", "title": "…" } ] }' });
          continue;
        }
        list = doc.tickets;
      } else {
        issues.push({ file: f.name, message: `must be a JSON object { "tickets": [ … ] }, got ${describe(doc)}` });
        continue;
      }
      if (!Array.isArray(list)) {
        issues.push({ file: f.name, field: 'tickets', message: `must be a list of tickets, got ${describe(list)}` });
        continue;
      }
      total += list.length;
      if (total > IMPORT_LIMITS.maxTickets) {
        issues.push({
          file: f.name,
          field: 'tickets',
          message: `too many tickets (${total} so far; at most ${IMPORT_LIMITS.maxTickets} per import); split the import`,
        });
        continue;
      }
      list.forEach((raw, index) => {
        const spec = readOrchardTicketPartial(raw, f.name, index, issues);
        if (spec) tickets.push({ spec, file: f.name, index, dependsField: 'dependsOn', idField: 'id' });
      });
    }
    return { tickets, issues };
  },

  import(files: readonly ImportFile[], options?: ImportOptions): TicketSpec[] {
    return finishImport(this.collect(files), options);
  },
};
