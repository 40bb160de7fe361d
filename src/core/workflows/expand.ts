// Expansion: a template plus a request (and parameters) → TicketSpec[] with ids prefixed by
// the workflow id, roles, dependencies and gate labels, validated like any import (the
// importer's all-or-nothing checks, errors naming the step and field). Also the review
// views: an indented tree and a mermaid graph of the expansion.
import { ImportError, type ImportIssue } from '../errors';
import { importTickets } from '../importers';
import type { TicketSpec } from '../model';
import { ROLE_DESCRIPTIONS, type BuiltinRole } from '../roles';
import { MAX_ROUNDS, placeholdersIn, type ParamValue, type StepTemplate, type WorkflowTemplate } from './template';
import { LOOP_LABEL, roundLabel, UNTIL_APPROVED_LABEL } from './loops';

export interface ExpandOptions {
  request: string;
  /** Values of declared parameters (strings are parsed per the parameter's type). */
  params?: Record<string, ParamValue>;
  /** Workflow id (ticket id prefix); default: the template id and a free number. */
  workflowId?: string;
  /** Ids already taken (existing tickets): dependencies may not collide. */
  existingIds?: Iterable<string>;
  /** Prefix each prompt with the role's description (default true). */
  rolePreamble?: boolean;
}

export interface Expansion {
  workflowId: string;
  template: string;
  request: string;
  tickets: TicketSpec[];
  /** Which template step each ticket came from. */
  steps: Record<string, { step: string; item?: string; round?: number }>;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 16) || 'x';

/** A free workflow id: "<template>-<n>" (shortened so ticket ids stay short). */
export function nextWorkflowId(template: string, existingIds: Iterable<string>): string {
  const base = template.slice(0, 12).replace(/-+$/, '');
  const taken = new Set<string>();
  for (const id of existingIds) taken.add(id.split('.')[0]!);
  for (let n = 1; ; n++) if (!taken.has(`${base}${n}`)) return `${base}${n}`;
}

function resolveParams(t: WorkflowTemplate, o: ExpandOptions, issues: ImportIssue[], file: string): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = { request: o.request, priority: 'P2' };
  const given = o.params ?? {};
  for (const k of Object.keys(given))
    if (!t.parameters?.[k] && k !== 'priority' && k !== 'request')
      issues.push({
        file,
        field: k,
        message: `is not a parameter of "${t.id}"; its parameters are ${['request', 'priority', ...Object.keys(t.parameters ?? {})].join(', ')}`,
      });
  for (const [name, spec] of Object.entries(t.parameters ?? {})) {
    let v = given[name] ?? spec.default;
    if (v === undefined) {
      if (spec.required && name !== 'request')
        issues.push({ file, field: name, message: `is required${spec.description ? ` (${spec.description})` : ''}; pass --param ${name}=…` });
      continue;
    }
    if (spec.type === 'number') {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) issues.push({ file, field: name, message: `must be a number, got "${String(v)}"` });
      v = n;
    } else if (spec.type === 'list') {
      v = Array.isArray(v)
        ? v
        : String(v)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
      if (v.length === 0) issues.push({ file, field: name, message: 'must list at least one item (comma-separated)' });
      if (v.length > 50) issues.push({ file, field: name, message: `has ${v.length} items (at most 50)` });
    } else v = Array.isArray(v) ? v.join(', ') : String(v);
    out[name] = v;
  }
  if (given.priority !== undefined) out.priority = String(given.priority);
  if (typeof given.request === 'string') out.request = given.request;
  if (typeof out.request !== 'string' || !out.request.trim())
    issues.push({ file, field: 'request', message: 'is empty; describe what the workflow should do' });
  return out;
}

function fill(text: string, vars: Record<string, ParamValue | undefined>): string {
  return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, k: string) => {
    const v = vars[k];
    return v === undefined ? m : Array.isArray(v) ? v.join(', ') : String(v);
  });
}

/** Expands a template into tickets; throws ImportError listing every problem. */
export function expandTemplate(t: WorkflowTemplate, o: ExpandOptions): Expansion {
  const file = t.source && t.source !== 'built-in' ? `${t.source} (workflow ${t.id})` : `workflow ${t.id}`;
  const issues: ImportIssue[] = [];
  const existing = [...(o.existingIds ?? [])];
  const vars = resolveParams(t, o, issues, file);
  const wf = o.workflowId ?? nextWorkflowId(t.id, existing);
  let rounds = 1;
  if (t.loop) {
    const r = typeof t.loop.rounds === 'number' ? t.loop.rounds : Number(fill(t.loop.rounds, vars));
    if (!Number.isInteger(r) || r < 1 || r > MAX_ROUNDS)
      issues.push({
        file,
        field: typeof t.loop.rounds === 'string' ? (placeholdersIn(t.loop.rounds)[0] ?? 'loop.rounds') : 'loop.rounds',
        message: `must be a whole number of rounds from 1 to ${MAX_ROUNDS}, got "${fill(String(t.loop.rounds), vars)}"`,
      });
    else rounds = r;
  }
  if (issues.length) throw new ImportError(issues);
  vars.workflow = wf;
  vars.rounds = rounds;
  const inLoop = new Set(t.loop?.steps ?? []);
  const loopFirst = t.loop?.steps[0];
  const loopLast = t.loop?.steps[t.loop.steps.length - 1];
  const itemsOf = (s: StepTemplate): string[] | undefined => (s.forEach ? (vars[s.forEach] as string[]) : undefined);
  const stepOf = new Map(t.steps.map((s) => [s.key, s]));
  // Ticket ids of each step instance: key → [{ item?, round?, id }]
  const instances = new Map<string, Array<{ id: string; item?: string; round?: number }>>();
  const idOf = (key: string, item?: string, round?: number) =>
    [wf, key, ...(item !== undefined ? [slug(item)] : []), ...(round !== undefined && rounds > 1 ? [`r${round}`] : [])].join('.');
  for (const s of t.steps) {
    const list: Array<{ id: string; item?: string; round?: number }> = [];
    const items = itemsOf(s);
    if (inLoop.has(s.key)) for (let r = 1; r <= rounds; r++) list.push({ id: idOf(s.key, undefined, r), round: r });
    else if (items) for (const item of items) list.push({ id: idOf(s.key, item), item });
    else list.push({ id: idOf(s.key) });
    instances.set(s.key, list);
  }
  const raws: Record<string, unknown>[] = [];
  const steps: Expansion['steps'] = {};
  for (const s of t.steps) {
    for (const inst of instances.get(s.key)!) {
      const local = { ...vars, ...(inst.item !== undefined && { item: inst.item }), ...(inst.round !== undefined && { round: inst.round }) };
      const deps: string[] = [];
      for (const d of s.dependsOn ?? []) {
        const target = instances.get(d)!;
        const dStep = stepOf.get(d)!;
        if (inLoop.has(d) && inLoop.has(s.key)) {
          // Same round (a later step of the round).
          const same = target.find((x) => x.round === inst.round);
          if (same) deps.push(same.id);
        } else if (inLoop.has(d)) deps.push(target[target.length - 1]!.id);
        else if (dStep.forEach && s.forEach === dStep.forEach && inst.item !== undefined) deps.push(target.find((x) => x.item === inst.item)!.id);
        else deps.push(...target.map((x) => x.id));
      }
      // Each round after the first starts after the previous round ends.
      if (s.key === loopFirst && inst.round !== undefined && inst.round > 1) deps.push(instances.get(loopLast!)!.find((x) => x.round === inst.round! - 1)!.id);
      const preamble = o.rolePreamble !== false && s.role && s.role in ROLE_DESCRIPTIONS ? ROLE_DESCRIPTIONS[s.role as BuiltinRole] + '\n\n' : '';
      const prompt =
        preamble + fill(s.prompt ?? s.title, local) + (inst.round !== undefined && rounds > 1 ? `\n\n(Round ${inst.round} of at most ${rounds}.)` : '');
      const raw: Record<string, unknown> = {
        id: inst.id,
        title: fill(s.title, local).split('\n')[0]!.slice(0, 200),
        prompt,
        priority: fill(s.priority ?? '{priority}', local),
        dependsOn: [...new Set(deps)],
        files: (s.files ?? []).map((f) => fill(f, local)),
        labels: [
          `workflow:${wf}`,
          `template:${t.id}`,
          ...(s.labels ?? []).map((l) => fill(l, local)),
          ...(inst.round !== undefined ? [LOOP_LABEL, roundLabel(inst.round), ...(t.loop?.untilApprovedBy === s.key ? [UNTIL_APPROVED_LABEL] : [])] : []),
        ],
      };
      if (s.role) raw.role = s.role;
      if (s.agent) raw.agent = fill(s.agent, local);
      if (s.estimate !== undefined) {
        raw.estimate = typeof s.estimate === 'number' ? s.estimate : Number(fill(s.estimate, local));
        if (!Number.isFinite(raw.estimate))
          issues.push({
            file,
            step: s.key,
            field: 'estimate',
            message: `${String(s.estimate)} is "${fill(String(s.estimate), local)}", not a number of minutes; pass --param with a number`,
          });
      }
      raws.push(raw);
      steps[inst.id] = { step: s.key, ...(inst.item !== undefined && { item: inst.item }), ...(inst.round !== undefined && { round: inst.round }) };
    }
  }
  if (issues.length) throw new ImportError(issues);
  let tickets: TicketSpec[];
  try {
    tickets = importTickets([{ name: file, text: JSON.stringify({ tickets: raws }) }], { existingIds: existing });
  } catch (e) {
    // The importer names tickets; the user wrote steps: say which step (and field) to fix.
    if (!ImportError.is(e)) throw e;
    throw new ImportError(
      e.issues.map((i) => {
        const id = i.ticketId ?? (i.index !== undefined ? (raws[i.index]?.id as string | undefined) : undefined);
        const at = id !== undefined ? steps[id] : undefined;
        return at ? { ...i, file, step: at.step, ticketId: id } : { ...i, file };
      }),
    );
  }
  return { workflowId: wf, template: t.id, request: String(vars.request), tickets, steps };
}

/** The expansion as an indented tree (each ticket under the tickets it depends on, first parent only). */
export function expansionTree(tickets: readonly TicketSpec[]): string {
  const ids = new Set(tickets.map((t) => t.id));
  const children = new Map<string, TicketSpec[]>();
  const roots: TicketSpec[] = [];
  for (const t of tickets) {
    const parents = t.dependsOn.filter((d) => ids.has(d));
    if (parents.length === 0) roots.push(t);
    else {
      const p = parents[parents.length - 1]!;
      children.set(p, [...(children.get(p) ?? []), t]);
    }
  }
  const lines: string[] = [];
  const walk = (t: TicketSpec, prefix: string, last: boolean, depth: number) => {
    const extra = t.dependsOn.filter((d) => ids.has(d)).slice(0, -1);
    const gates = t.labels.filter((l) => l.startsWith('gate:')).join(' ');
    lines.push(
      `${depth === 0 ? '' : prefix + (last ? '└─ ' : '├─ ')}${t.id} [${t.priority}${t.role ? ` ${t.role}` : ''}${t.estimate ? ` ${t.estimate}m` : ''}] ${t.title}${gates ? ` {${gates}}` : ''}${extra.length ? ` (also after ${extra.join(', ')})` : ''}`,
    );
    const kids = children.get(t.id) ?? [];
    kids.forEach((k, i) => walk(k, depth === 0 ? '' : prefix + (last ? '   ' : '│  '), i === kids.length - 1, depth + 1));
  };
  roots.forEach((r) => walk(r, '', true, 0));
  return lines.join('\n');
}

/** The expansion as a mermaid flowchart (for a markdown preview). */
export function expansionMermaid(tickets: readonly TicketSpec[]): string {
  const node = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
  const esc = (s: string) => s.replace(/"/g, "'");
  const lines = ['flowchart TD'];
  for (const t of tickets) lines.push(`  ${node(t.id)}["${esc(t.id)}<br/>${esc(t.role ?? '')} · ${esc(t.title.slice(0, 40))}"]`);
  const ids = new Set(tickets.map((t) => t.id));
  for (const t of tickets) for (const d of t.dependsOn) if (ids.has(d)) lines.push(`  ${node(d)} --> ${node(t.id)}`);
  return lines.join('\n');
}

/** Placeholders a template uses that the caller must or may set (for prompts in the UI). */
export function templateParameters(t: WorkflowTemplate): Array<{ name: string; required: boolean; default?: ParamValue; description?: string; type?: string }> {
  const out = Object.entries(t.parameters ?? {}).map(([name, p]) => ({
    name,
    required: !!p.required && p.default === undefined,
    ...(p.default !== undefined && { default: p.default }),
    ...(p.description && { description: p.description }),
    ...(p.type && { type: p.type }),
  }));
  void placeholdersIn;
  return out;
}
