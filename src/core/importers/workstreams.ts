// Workstream files: one `ws-*.json` per workstream, e.g.
//   { "id": "ws-07", "name": "Section refactor", "depends_on": ["ws-03"],
//     "files_scope": ["src/sections/**"], "tasks": ["Split …", { "title": "…", "description": "…" }],
//     "tool": "aider", "effort": "2h", "priority": "high" }
// Mapping to a ticket: id → id; name/title → title (default: the id); description and tasks →
// prompt (plain text, numbered); files_scope → files; tool → agent; depends_on → dependsOn;
// priority → priority (P0..P3, or critical/high/medium/low, or 0..3); labels/tags/track → labels;
// effort/estimate → estimate in minutes (see parseEffort).
// A file may also hold a list of workstreams, or { "workstreams": [ … ] }.
// Other keys are free-form metadata and are ignored, except ones that look like a misspelt
// known key (e.g. "dependsOn", "file_scope"), which are errors.
import type { ImportIssue } from '../errors';
import type { Priority, TicketSpec } from '../model';
import { finishImport } from './finish';
import { parseJsonFile } from './json';
import { readIdList, readPatternList } from './orchard';
import type { CollectResult, ImportFile, ImportOptions, LocatedTicket, TicketImporter } from './types';
import { IMPORT_LIMITS, checkEstimateMinutes, describe, hasControl, isPlainObject, profileNameProblem, suggestKey, ticketIdProblem } from './validate';

export const WORKSTREAM_KEYS = [
  'id',
  'name',
  'title',
  'description',
  'summary',
  'goal',
  'depends_on',
  'files_scope',
  'tasks',
  'tool',
  'effort',
  'estimate',
  'estimate_minutes',
  'estimated_hours',
  'priority',
  'labels',
  'tags',
  'track',
] as const;

const PRIORITY_WORDS: Record<string, Priority> = {
  p0: 'P0',
  p1: 'P1',
  p2: 'P2',
  p3: 'P3',
  '0': 'P0',
  '1': 'P1',
  '2': 'P2',
  '3': 'P3',
  critical: 'P0',
  urgent: 'P0',
  emergency: 'P0',
  high: 'P1',
  medium: 'P2',
  normal: 'P2',
  low: 'P3',
};

export function workstreamPriority(v: unknown): Priority | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  return PRIORITY_WORDS[String(v).trim().toLowerCase()];
}

const UNIT_MINUTES: Record<string, number> = {
  m: 1,
  min: 1,
  mins: 1,
  minute: 1,
  minutes: 1,
  h: 60,
  hr: 60,
  hrs: 60,
  hour: 60,
  hours: 60,
  d: 480,
  day: 480,
  days: 480,
};

/**
 * Effort as minutes. Numbers are in `defaultUnit` ('h' for effort/estimated_hours, 'm' for
 * estimate/estimate_minutes). Strings carry a unit: "30m", "2h", "1.5 hours", "1d" (a day is
 * 8 working hours); a range "2-3h" counts as its upper end.
 */
export function parseEffort(v: unknown, defaultUnit: 'm' | 'h'): { minutes: number } | { problem: string } {
  const fix = `write a number of ${defaultUnit === 'h' ? 'hours' : 'minutes'} or a string with a unit such as "30m", "2h" or "1d"`;
  let minutes: number;
  if (typeof v === 'number') minutes = v * (defaultUnit === 'h' ? 60 : 1);
  else if (typeof v === 'string') {
    const m = /^\s*(?:(\d+(?:\.\d+)?)\s*-\s*)?(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(v);
    if (!m) return { problem: `${describe(v)} is not a duration; ${fix}` };
    const unit = m[3]?.toLowerCase();
    const per = unit === undefined ? (defaultUnit === 'h' ? 60 : 1) : UNIT_MINUTES[unit];
    if (per === undefined) return { problem: `unknown unit "${m[3]}" in ${describe(v)}; ${fix}` };
    minutes = Number(m[2]) * per;
  } else return { problem: `must be a duration, got ${describe(v)}; ${fix}` };
  const r = checkEstimateMinutes(Math.round(minutes * 100) / 100);
  return 'problem' in r ? { problem: r.problem.replace('must be a number of minutes', 'must be a duration') } : r;
}

const TASK_TITLE_KEYS = ['title', 'name', 'task', 'summary'] as const;
const TASK_BODY_KEYS = ['description', 'details', 'prompt', 'text', 'instructions'] as const;

/** One task as plain text, or a problem. */
function renderTask(t: unknown): { text: string } | { problem: string } {
  if (typeof t === 'string') {
    if (t.trim() === '') return { problem: 'is an empty string; remove it' };
    return { text: t.trim() };
  }
  if (!isPlainObject(t)) return { problem: `must be a string or an object with "title"/"description", got ${describe(t)}` };
  const pick = (keys: readonly string[]) => {
    for (const k of keys) {
      const v = t[k];
      if (typeof v === 'string' && v.trim() !== '') return v.trim();
    }
    return undefined;
  };
  const title = pick(TASK_TITLE_KEYS);
  const body = pick(TASK_BODY_KEYS);
  if (title === undefined && body === undefined)
    return { problem: `has no text; give it a "title" (or ${[...TASK_TITLE_KEYS.slice(1), ...TASK_BODY_KEYS].map((k) => `"${k}"`).join(', ')})` };
  let text = title !== undefined && body !== undefined ? `${title}: ${body}` : (title ?? body)!;
  if (typeof t.id === 'string' || typeof t.id === 'number') text = `[${t.id}] ${text}`;
  const done = t.done === true || (typeof t.status === 'string' && /^(done|complete|completed)$/i.test(t.status));
  if (done) text += ' (already done; verify only)';
  const acc = t.acceptance ?? t.acceptance_criteria;
  if (Array.isArray(acc)) {
    const items = acc.filter((a): a is string => typeof a === 'string' && a.trim() !== '');
    if (items.length) text += '\n   Acceptance: ' + items.map((a) => a.trim()).join('; ');
  } else if (typeof acc === 'string' && acc.trim() !== '') text += '\n   Acceptance: ' + acc.trim();
  return { text };
}

/** Reads one workstream; returns what could be read whenever its id is valid (issues say whether it is usable). */
function readWorkstream(raw: unknown, file: string, index: number, issues: ImportIssue[]): TicketSpec | undefined {
  if (!isPlainObject(raw)) {
    issues.push({ file, index, message: `a workstream must be an object like { "id": "ws-01", "tasks": [ … ] }, got ${describe(raw)}` });
    return undefined;
  }
  const rawId = typeof raw.id === 'number' && Number.isInteger(raw.id) ? String(raw.id) : raw.id;
  const ticketId = typeof rawId === 'string' && rawId !== '' ? rawId : undefined;
  const add = (field: string | undefined, message: string) =>
    issues.push({ file, index, ...(ticketId !== undefined ? { ticketId } : {}), ...(field !== undefined ? { field } : {}), message });

  for (const key of Object.keys(raw)) {
    if ((WORKSTREAM_KEYS as readonly string[]).includes(key)) continue;
    const s = suggestKey(key, WORKSTREAM_KEYS);
    if (s) add(key, `unknown field "${key}" — did you mean "${s}"? Rename it (otherwise it would be silently ignored).`);
  }

  if (rawId === undefined || rawId === null)
    add('id', `is required; use the workstream's id, e.g. "${/^(ws-[^/\\]+)\.json$/i.exec(file.split(/[\\/]/).pop() ?? '')?.[1] ?? 'ws-01'}"`);
  else if (ticketIdProblem(rawId)) add('id', ticketIdProblem(rawId)!);

  let title: string | undefined;
  for (const key of ['name', 'title'] as const) {
    const v = raw[key];
    if (v === undefined || v === null || title !== undefined) continue;
    if (typeof v !== 'string') add(key, `must be a string (got ${describe(v)})`);
    else if (v.trim() === '') continue;
    else if (v.length > IMPORT_LIMITS.maxTitleChars)
      add(key, `is ${v.length} characters long (at most ${IMPORT_LIMITS.maxTitleChars}); shorten it and move details to "description"`);
    else if (hasControl(v, false)) add(key, 'contains line breaks or control characters; keep it on one line');
    else title = v.trim();
  }

  let description: string | undefined;
  for (const key of ['description', 'summary', 'goal'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') add(key, `must be a string (got ${describe(v)})`);
    else if (hasControl(v, true)) add(key, 'contains NUL or other control characters; remove them');
    else if (v.trim() !== '' && description === undefined) description = v.trim();
  }

  const tasks: string[] = [];
  if (raw.tasks !== undefined && raw.tasks !== null) {
    if (!Array.isArray(raw.tasks)) add('tasks', `must be a list of tasks (strings or objects), got ${describe(raw.tasks)}`);
    else if (raw.tasks.length > IMPORT_LIMITS.maxTasks)
      add('tasks', `has ${raw.tasks.length} entries (at most ${IMPORT_LIMITS.maxTasks}); split the workstream`);
    else
      raw.tasks.forEach((t, i) => {
        const r = renderTask(t);
        if ('problem' in r) add('tasks', `task ${i + 1} ${r.problem}`);
        else if (hasControl(r.text, true)) add('tasks', `task ${i + 1} contains NUL or other control characters; remove them`);
        else tasks.push(r.text);
      });
  }

  const dependsOn = readIdList(raw.depends_on, 'depends_on', add);

  const files = readPatternList(raw.files_scope, 'files_scope', add);

  let agent: string | undefined;
  if (raw.tool !== undefined && raw.tool !== null) {
    const p = profileNameProblem(raw.tool);
    if (p) add('tool', p);
    else agent = raw.tool as string;
  }

  let priority: Priority = 'P2';
  if (raw.priority !== undefined && raw.priority !== null) {
    const p = workstreamPriority(raw.priority);
    if (p) priority = p;
    else add('priority', `must be P0..P3, critical, high, medium or low (or 0..3), got ${describe(raw.priority)}`);
  }

  const labels: string[] = [];
  for (const key of ['labels', 'tags', 'track'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    const list = key === 'track' && typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list)) {
      add(key, `must be ${key === 'track' ? 'a string or ' : ''}a list of strings, got ${describe(v)}`);
      continue;
    }
    for (const l of list) {
      if (typeof l !== 'string' || l.trim() === '' || l.length > IMPORT_LIMITS.maxLabelChars || hasControl(l, false))
        add(key, `entries must be non-empty one-line strings of at most ${IMPORT_LIMITS.maxLabelChars} characters, got ${describe(l)}`);
      else if (!labels.includes(l.trim())) labels.push(l.trim());
    }
  }
  if (labels.length > IMPORT_LIMITS.maxLabels) add('labels', `has ${labels.length} labels (at most ${IMPORT_LIMITS.maxLabels})`);

  let estimate: number | undefined;
  for (const [key, unit] of [
    ['estimate_minutes', 'm'],
    ['estimate', 'm'],
    ['estimated_hours', 'h'],
    ['effort', 'h'],
  ] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    const r = parseEffort(v, unit);
    if ('problem' in r) add(key, r.problem);
    else if (estimate === undefined) estimate = r.minutes;
  }

  if (ticketIdProblem(rawId) !== undefined) return undefined;
  const id = rawId as string;
  const t = title ?? id;
  const parts: string[] = [title !== undefined ? `Workstream ${id}: ${title}` : `Workstream ${id}`];
  if (description !== undefined) parts.push(description);
  if (tasks.length) parts.push('Tasks:\n' + tasks.map((x, i) => `${i + 1}. ${x}`).join('\n'));
  const prompt = description === undefined && tasks.length === 0 ? t : parts.join('\n\n');
  if (prompt.length > IMPORT_LIMITS.maxPromptChars) {
    add('tasks', `the prompt built from the tasks is ${prompt.length} characters long (at most ${IMPORT_LIMITS.maxPromptChars}); split the workstream`);
  }
  const spec: TicketSpec = { id, title: t, prompt, priority, dependsOn, files, labels };
  if (agent !== undefined) spec.agent = agent;
  if (estimate !== undefined) spec.estimate = estimate;
  return spec;
}

export function looksLikeWorkstream(v: unknown): boolean {
  return isPlainObject(v) && 'id' in v && ('depends_on' in v || 'files_scope' in v || 'tasks' in v || 'tool' in v);
}

export const workstreamImporter: TicketImporter = {
  name: 'workstreams',

  canImport(fileName: string, parsed: unknown): boolean {
    const base = fileName.split(/[\\/]/).pop() ?? fileName;
    if (/^ws-.*\.json$/i.test(base)) return true;
    if (looksLikeWorkstream(parsed)) return true;
    if (isPlainObject(parsed) && Array.isArray(parsed.workstreams)) return true;
    return Array.isArray(parsed) && parsed.length > 0 && parsed.every(looksLikeWorkstream);
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
      const doc = parsed.value;
      let list: unknown[];
      if (Array.isArray(doc)) list = doc;
      else if (isPlainObject(doc) && Array.isArray(doc.workstreams) && !('id' in doc)) list = doc.workstreams;
      else if (isPlainObject(doc)) list = [doc];
      else {
        issues.push({ file: f.name, message: `must be a JSON object describing one workstream ({ "id": "ws-01", … }), got ${describe(doc)}` });
        continue;
      }
      total += list.length;
      if (total > IMPORT_LIMITS.maxTickets) {
        issues.push({ file: f.name, message: `too many workstreams (${total} so far; at most ${IMPORT_LIMITS.maxTickets} per import); split the import` });
        continue;
      }
      list.forEach((raw, index) => {
        const spec = readWorkstream(raw, f.name, index, issues);
        if (spec) tickets.push({ spec, file: f.name, index, dependsField: 'depends_on', idField: 'id' });
      });
    }
    return { tickets, issues };
  },

  import(files: readonly ImportFile[], options?: ImportOptions): TicketSpec[] {
    return finishImport(this.collect(files), options);
  },
};
