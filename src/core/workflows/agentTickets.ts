// Tickets made by agents: a planner's proposals (`orchard-agent add-ticket`) and a running
// agent's delegated work (`orchard-agent subtask`). Both go through the importer's checks;
// a proposal is pending (not a ticket) until the user accepts it; a subtask becomes a
// ticket at once, within limits on depth and count so agents cannot spawn without end.
import { ImportError, formatImportIssue, type ImportIssue, errorText } from '../errors';
import { importTickets } from '../importers';
import type { OrchardState, Settings, TicketSpec } from '../model';

/** What `orchard-agent add-ticket` / `subtask` send (strings as the agent typed them). */
export interface AgentTicketRequest {
  id?: string;
  title?: string;
  prompt?: string;
  role?: string;
  files?: string[];
  dependsOn?: string[];
  estimate?: number;
  priority?: string;
  labels?: string[];
  agent?: string;
}

export interface Proposal {
  id: string;
  goal: string;
  createdAt: number;
  /** Planner profile. */
  agent: string;
  status: 'pending' | 'accepted' | 'rejected';
  tickets: TicketSpec[];
  /** Requests the planner sent that were refused (with why), for the review. */
  refused: Array<{ request: AgentTicketRequest; problems: string[] }>;
}

const toRaw = (r: AgentTicketRequest, id: string, extraLabels: string[] = []): Record<string, unknown> => ({
  id,
  title: r.title,
  ...(r.prompt !== undefined && { prompt: r.prompt }),
  ...(r.role !== undefined && { role: r.role }),
  ...(r.priority !== undefined && { priority: r.priority }),
  dependsOn: r.dependsOn ?? [],
  files: r.files ?? [],
  labels: [...(r.labels ?? []), ...extraLabels],
  ...(r.agent !== undefined && { agent: r.agent }),
  ...(r.estimate !== undefined && { estimate: r.estimate }),
});

const problemsOf = (e: unknown): string[] => (ImportError.is(e) ? e.issues.map((i: ImportIssue) => formatImportIssue(i)) : [errorText(e)]);

/**
 * Adds one planner request to a proposal: validated with the proposal's tickets so far and
 * the existing tickets (dependencies may name either). Returns the problems (empty: taken).
 * Ids: the planner's own id prefixed by the proposal id, or the next free "<proposal>.<n>";
 * dependencies on the planner's ids are rewritten the same way.
 */
export function proposeTicket(p: Proposal, req: AgentTicketRequest, existingIds: Iterable<string>): string[] {
  const existing = new Set(existingIds);
  const local = (id: string) => `${p.id}.${id}`;
  const n = p.tickets.length + 1;
  const id = req.id ? local(req.id) : local(String(n));
  const deps = (req.dependsOn ?? []).map((d) => (existing.has(d) ? d : local(d.startsWith(`${p.id}.`) ? d.slice(p.id.length + 1) : d)));
  const raw = toRaw({ ...req, dependsOn: deps }, id, [`proposal:${p.id}`]);
  try {
    const [t] = importTickets([{ name: `proposal ${p.id}`, text: JSON.stringify({ tickets: [...p.tickets, raw] }) }], { existingIds: existing }).slice(-1);
    p.tickets.push(t!);
    return [];
  } catch (e) {
    const problems = problemsOf(e);
    p.refused.push({ request: req, problems });
    return problems;
  }
}

/** Re-validates an edited proposal (the user may change anything) before it is accepted. */
export function validateProposal(tickets: unknown, existingIds: Iterable<string>, name = 'proposal'): TicketSpec[] {
  return importTickets([{ name, text: JSON.stringify({ tickets }) }], { existingIds });
}

// ---- subtasks ---------------------------------------------------------------------------

export const DEFAULT_SUBTASK_LIMITS = { maxDepth: 2, maxPerTicket: 3, maxTotal: 20 } as const;
const PARENT_LABEL = 'subtask-of:';

export function parentOf(t: Pick<TicketSpec, 'labels'>): string | undefined {
  return t.labels.find((l) => l.startsWith(PARENT_LABEL))?.slice(PARENT_LABEL.length);
}

/** How many subtask levels above a ticket (0: not a subtask). */
export function subtaskDepth(state: Pick<OrchardState, 'tickets'>, id: string): number {
  let d = 0;
  const seen = new Set<string>();
  for (let p = state.tickets[id] && parentOf(state.tickets[id]!); p && !seen.has(p); p = state.tickets[p] && parentOf(state.tickets[p]!)) {
    seen.add(p);
    d++;
  }
  return d;
}

export type SubtaskPlan = { ok: true; ticket: TicketSpec; dependent: boolean } | { ok: false; problems: string[] };

/**
 * The ticket for a subtask asked by a running ticket, or why not. The subtask is
 * "<parent>.s<n>", labelled subtask-of:<parent>, with the parent's priority unless given;
 * by default (dependent) the parent will depend on it.
 */
export function planSubtask(
  state: Pick<OrchardState, 'tickets'>,
  settings: Pick<Settings, 'subtasks'>,
  parentId: string,
  req: AgentTicketRequest,
): SubtaskPlan {
  const parent = state.tickets[parentId];
  if (!parent) return { ok: false, problems: [`there is no ticket "${parentId}"`] };
  const lim = { ...DEFAULT_SUBTASK_LIMITS, ...settings.subtasks };
  const depth = subtaskDepth(state, parentId) + 1;
  if (depth > lim.maxDepth)
    return { ok: false, problems: [`subtasks may nest ${lim.maxDepth} deep; ${parentId} is already at depth ${depth - 1}. Do the work yourself.`] };
  const all = Object.values(state.tickets).filter((t) => parentOf(t) !== undefined);
  const mine = all.filter((t) => parentOf(t) === parentId);
  if (mine.length >= lim.maxPerTicket)
    return { ok: false, problems: [`${parentId} already delegated ${mine.length} subtasks (at most ${lim.maxPerTicket}). Do the rest yourself.`] };
  if (all.length >= lim.maxTotal)
    return { ok: false, problems: [`the batch already has ${all.length} subtasks (at most ${lim.maxTotal}). Do the work yourself.`] };
  let n = mine.length + 1;
  while (state.tickets[`${parentId}.s${n}`]) n++;
  const id = `${parentId}.s${n}`;
  const raw = toRaw({ priority: parent.priority, ...req, dependsOn: req.dependsOn ?? [] }, id, [`${PARENT_LABEL}${parentId}`]);
  try {
    const [ticket] = importTickets([{ name: `subtask of ${parentId}`, text: JSON.stringify({ tickets: [raw] }) }], { existingIds: Object.keys(state.tickets) });
    if (ticket!.dependsOn.includes(parentId)) return { ok: false, problems: [`a subtask cannot depend on ${parentId}, which waits for it`] };
    return { ok: true, ticket: ticket!, dependent: true };
  } catch (e) {
    return { ok: false, problems: problemsOf(e) };
  }
}

/** The prompt given to the planner agent. */
export function plannerPrompt(goal: string, existing: ReadonlyArray<Pick<TicketSpec, 'id' | 'title'>>): string {
  return [
    'You are the planner. Do not change any file. Read the repository and split this goal into tickets that agents can do in parallel:',
    '',
    goal,
    '',
    'Propose each ticket with:',
    '  orchard-agent add-ticket --id <short-id> --title "<one line>" --prompt "<instructions>" --role <architect|developer|tester|reviewer|security> --files "<glob>,<glob>" --depends <id>,<id> --estimate <minutes>',
    'It prints "ok <id>" or the problems to fix (then send it again). Dependencies name your own ids (or existing tickets). Keep tickets small, with the files each will touch, so they can run in parallel.',
    ...(existing.length
      ? [
          '',
          `Existing tickets you may depend on: ${existing
            .slice(0, 50)
            .map((t) => `${t.id} (${t.title})`)
            .join('; ')}`,
        ]
      : []),
  ].join('\n');
}
