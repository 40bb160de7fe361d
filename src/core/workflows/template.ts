// Workflow templates: a JSON-serialisable recipe that turns one request into a ticket graph
// with roles, dependencies, gate labels and review loops.
//
//   { "id": "bug", "name": "Bug workflow", "description": "…",
//     "parameters": { "request": { "required": true }, "rounds": { "default": 2, "type": "number" } },
//     "steps": [ { "key": "reproduce", "title": "Reproduce: {request}", "prompt": "…", "role": "tester",
//                  "dependsOn": [], "files": [], "labels": ["gate:tests"], "estimate": 15,
//                  "priority": "{priority}", "forEach": "parts" } ],
//     "loop": { "steps": ["review", "revise"], "rounds": "{rounds}" } }
//
// Placeholders in text: {request}, {priority}, {workflow} (the workflow id), {item} (forEach),
// {round} and {rounds} (loop), and any declared parameter. A step with "forEach": "<list
// parameter>" becomes one ticket per item; steps that depend on it depend on every item
// (fan-in), and a forEach step over the same list depends item by item. Loop steps are
// repeated for each round (at most "rounds"), each round after the previous one; with
// "untilApprovedBy": "<loop step>", a round whose step of that key ends with
// `VERDICT: APPROVE` stops the loop: the rest of the loop is skipped (core/workflows/loops.ts).
import { ImportError, type ImportIssue } from '../errors';
import { PRIORITIES } from '../model';
import { parseJsonFile } from '../importers/json';
import { describe, isPlainObject, suggestKey } from '../importers/validate';
import { roleNameProblem } from '../roles';

export type ParamValue = string | number | string[];

export interface ParameterSpec {
  description?: string;
  type?: 'string' | 'number' | 'list';
  default?: ParamValue;
  required?: boolean;
}

export interface StepTemplate {
  key: string;
  title: string;
  prompt?: string;
  role?: string;
  priority?: string;
  dependsOn?: string[];
  files?: string[];
  labels?: string[];
  /** Minutes, or a placeholder such as "{estimate}". */
  estimate?: number | string;
  agent?: string;
  /** Name of a list parameter: one ticket per item. */
  forEach?: string;
}

export interface WorkflowTemplate {
  id: string;
  name: string;
  description: string;
  parameters?: Record<string, ParameterSpec>;
  steps: StepTemplate[];
  /** Steps repeated as one round, at most `rounds` times (a number or a placeholder). */
  loop?: { steps: string[]; rounds: number | string; untilApprovedBy?: string };
  /** Where the template came from (built-in or a file); not part of the file format. */
  source?: string;
}

export const TEMPLATE_KEYS = ['$schema', 'id', 'name', 'description', 'parameters', 'steps', 'loop'] as const;
export const STEP_KEYS = ['key', 'title', 'prompt', 'role', 'priority', 'dependsOn', 'files', 'labels', 'estimate', 'agent', 'forEach'] as const;
const PARAM_KEYS = ['description', 'type', 'default', 'required'] as const;
const LOOP_KEYS = ['steps', 'rounds', 'untilApprovedBy'] as const;
export const BUILTIN_PLACEHOLDERS = ['request', 'priority', 'workflow', 'item', 'round', 'rounds'] as const;
export const STEP_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{0,23}$/;
export const MAX_ROUNDS = 10;
export const MAX_STEPS = 100;

const unknown = (key: string, known: readonly string[], what: string) => {
  const s = suggestKey(key, known);
  return `unknown ${what} "${key}"${s ? ` — did you mean "${s}"?` : ''}; known are ${known.join(', ')}`;
};

/** Placeholders named in a string. */
export function placeholdersIn(s: string): string[] {
  return [...s.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
}

/** Checks a parsed template; issues name the file, the step and the field, and say how to fix it. */
export function checkTemplate(raw: unknown, file: string): { template?: WorkflowTemplate; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const add = (message: string, field?: string, step?: string) =>
    issues.push({ file, ...(step !== undefined && { step }), ...(field !== undefined && { field }), message });
  if (!isPlainObject(raw)) {
    add(`must be a JSON object { "id", "name", "description", "steps": [ … ] }, got ${describe(raw)}`);
    return { issues };
  }
  for (const k of Object.keys(raw)) if (!(TEMPLATE_KEYS as readonly string[]).includes(k)) add(unknown(k, TEMPLATE_KEYS, 'template field'), k);
  if (typeof raw.id !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(raw.id))
    add('must be a short lower-case name such as "bug" or "my-review" (letters, digits, "-")', 'id');
  if (typeof raw.name !== 'string' || !raw.name.trim()) add('is required: a one-line name', 'name');
  if (raw.description !== undefined && typeof raw.description !== 'string') add('must be a string', 'description');
  const params: Record<string, ParameterSpec> = {};
  if (raw.parameters !== undefined) {
    if (!isPlainObject(raw.parameters)) add('must be an object { "name": { "default": …, "required": true } }', 'parameters');
    else
      for (const [name, p] of Object.entries(raw.parameters)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) add(`"${name}" is not a parameter name (letters, digits, "_")`, 'parameters');
        if (!isPlainObject(p)) {
          add(`parameter "${name}" must be an object such as { "default": 2 }`, 'parameters');
          continue;
        }
        for (const k of Object.keys(p))
          if (!(PARAM_KEYS as readonly string[]).includes(k)) add(unknown(k, PARAM_KEYS, `key of parameter "${name}"`), 'parameters');
        if (p.type !== undefined && !['string', 'number', 'list'].includes(p.type as string))
          add(`parameter "${name}": type must be string, number or list`, 'parameters');
        params[name] = p as ParameterSpec;
      }
  }
  const steps: StepTemplate[] = [];
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) add('must be a non-empty list of steps', 'steps');
  else if (raw.steps.length > MAX_STEPS) add(`has ${raw.steps.length} steps (at most ${MAX_STEPS})`, 'steps');
  else {
    const keys = new Set<string>();
    for (const [i, s] of raw.steps.entries()) {
      if (!isPlainObject(s)) {
        add(`must be an object such as { "key": "build", "title": "Build: {request}" }, got ${describe(s)}`, undefined, `#${i + 1}`);
        continue;
      }
      const key = typeof s.key === 'string' ? s.key : `#${i + 1}`;
      const at = (m: string, f: string) => add(m, f, key);
      for (const k of Object.keys(s)) if (!(STEP_KEYS as readonly string[]).includes(k)) at(unknown(k, STEP_KEYS, 'step field'), k);
      if (typeof s.key !== 'string' || !STEP_KEY_PATTERN.test(s.key))
        at(`must be a short lower-case key such as "build" (letters, digits, "-", at most 24), got ${describe(s.key)}`, 'key');
      else if (keys.has(s.key)) at(`"${s.key}" is used by two steps; give this step another key (keys must be unique)`, 'key');
      keys.add(key);
      if (typeof s.title !== 'string' || !s.title.trim()) at('is required: a one-line title such as "Build: {request}"', 'title');
      if (s.prompt !== undefined && typeof s.prompt !== 'string') at('must be a string', 'prompt');
      if (s.role !== undefined) {
        const p = roleNameProblem(s.role);
        if (p) at(p, 'role');
      }
      if (
        s.priority !== undefined &&
        (typeof s.priority !== 'string' || (!(PRIORITIES as readonly string[]).includes(s.priority) && !/^\{[A-Za-z_]\w*\}$/.test(s.priority)))
      )
        at(`must be one of ${PRIORITIES.join(', ')} or a placeholder such as "{priority}"`, 'priority');
      for (const f of ['dependsOn', 'files', 'labels'] as const)
        if (s[f] !== undefined && (!Array.isArray(s[f]) || (s[f] as unknown[]).some((x) => typeof x !== 'string'))) at('must be a list of strings', f);
      if (
        s.estimate !== undefined &&
        !(typeof s.estimate === 'number' && s.estimate > 0) &&
        !(typeof s.estimate === 'string' && /^\{[A-Za-z_]\w*\}$/.test(s.estimate))
      )
        at('must be a number of minutes > 0 or a placeholder such as "{estimate}"', 'estimate');
      if (s.forEach !== undefined) {
        if (typeof s.forEach !== 'string' || !params[s.forEach])
          at(`must name a list parameter declared in "parameters" (got ${describe(s.forEach)})`, 'forEach');
        else if (params[s.forEach]!.type !== 'list') at(`parameter "${s.forEach}" must have "type": "list"`, 'forEach');
      }
      steps.push(s as unknown as StepTemplate);
    }
    for (const s of steps)
      for (const d of s.dependsOn ?? []) {
        if (!keys.has(d)) add(`"${d}" is not a step of this template; name one of ${[...keys].join(', ')}`, 'dependsOn', s.key);
        if (d === s.key) add(`a step cannot depend on itself; remove "${d}"`, 'dependsOn', s.key);
      }
    // Placeholders must be known.
    const known = new Set<string>([...BUILTIN_PLACEHOLDERS, ...Object.keys(params)]);
    for (const s of steps) {
      const texts: Array<[string, unknown]> = [
        ['title', s.title],
        ['prompt', s.prompt],
        ['priority', s.priority],
        ['estimate', s.estimate],
        ['files', s.files],
        ['labels', s.labels],
        ['agent', s.agent],
      ];
      for (const [field, v] of texts) {
        const strings = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
        for (const p of new Set(strings.flatMap(placeholdersIn)))
          if (!known.has(p))
            add(`uses {${p}}, which is not a parameter; declare it in "parameters" or use one of ${[...known].map((k) => `{${k}}`).join(', ')}`, field, s.key);
      }
    }
  }
  let loop: WorkflowTemplate['loop'];
  if (raw.loop !== undefined) {
    const l = raw.loop;
    if (!isPlainObject(l) || !Array.isArray(l.steps) || l.steps.length === 0) add('must be { "steps": ["review", "revise"], "rounds": 2 }', 'loop');
    else {
      for (const k of Object.keys(l)) if (!(LOOP_KEYS as readonly string[]).includes(k)) add(unknown(k, LOOP_KEYS, 'loop field'), `loop.${k}`);
      const stepKeys = steps.map((s) => s.key);
      for (const k of l.steps)
        if (!stepKeys.includes(k as string)) add(`"${String(k)}" is not a step of this template; name one of ${stepKeys.join(', ')}`, 'loop.steps');
      if (
        !(typeof l.rounds === 'number' && Number.isInteger(l.rounds) && l.rounds >= 1 && l.rounds <= MAX_ROUNDS) &&
        !(typeof l.rounds === 'string' && /^\{[A-Za-z_]\w*\}$/.test(l.rounds))
      )
        add(`must be a whole number from 1 to ${MAX_ROUNDS} or a placeholder such as "{rounds}", got ${describe(l.rounds)}`, 'loop.rounds');
      for (const s of steps)
        if (s.forEach && (l.steps as string[]).includes(s.key))
          add(`step "${s.key}" uses forEach, which a loop step cannot; take it out of loop.steps or drop its forEach`, 'loop.steps', s.key);
      if (l.untilApprovedBy !== undefined && (typeof l.untilApprovedBy !== 'string' || !(l.steps as unknown[]).includes(l.untilApprovedBy)))
        add(
          `must name one of the loop's steps (${(l.steps as unknown[]).map(String).join(', ')}), the one whose "VERDICT: APPROVE" ends the loop; got ${describe(l.untilApprovedBy)}`,
          'loop.untilApprovedBy',
        );
      loop = {
        steps: l.steps as string[],
        rounds: l.rounds as number | string,
        ...(typeof l.untilApprovedBy === 'string' && { untilApprovedBy: l.untilApprovedBy }),
      };
    }
  }
  if (issues.length) return { issues };
  return {
    template: {
      id: raw.id as string,
      name: (raw.name as string).trim(),
      description: (raw.description as string | undefined) ?? '',
      ...(Object.keys(params).length && { parameters: params }),
      steps,
      ...(loop && { loop }),
    },
    issues,
  };
}

/** Reads a template file; throws ImportError listing every problem. */
export function readTemplate(name: string, text: string): WorkflowTemplate {
  const parsed = parseJsonFile(name, text);
  if (!parsed.ok) throw new ImportError([parsed.issue]);
  const { template, issues } = checkTemplate(parsed.value, name);
  if (!template) throw new ImportError(issues);
  return { ...template, source: name };
}
