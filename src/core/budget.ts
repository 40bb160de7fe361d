// Cost accounting: what runs cost, per ticket and per role, where the agent CLI reports it
// (through `orchard-agent usage`, or in its output), and the budget check that pauses new
// starts once a batch has spent its budget. Pure: computed from state.
import type { OrchardState, Run, Settings, Usage } from './model';

export function addUsage(a: Usage | undefined, b: Usage | undefined): Usage {
  const sum = (x?: number, y?: number) => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0));
  const out: Usage = {};
  const usd = sum(a?.usd, b?.usd);
  const i = sum(a?.inputTokens, b?.inputTokens);
  const o = sum(a?.outputTokens, b?.outputTokens);
  if (usd !== undefined) out.usd = usd;
  if (i !== undefined) out.inputTokens = i;
  if (o !== undefined) out.outputTokens = o;
  const t = sum(a?.tokens, b?.tokens);
  if (t !== undefined) out.tokens = t;
  return out;
}

/** A usage report is cumulative for its run: the larger of old and new per field. */
export function mergeRunUsage(old: Usage | undefined, next: Usage): Usage {
  const max = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : Math.max(x, y));
  const out: Usage = {};
  const usd = max(old?.usd, next.usd);
  const i = max(old?.inputTokens, next.inputTokens);
  const o = max(old?.outputTokens, next.outputTokens);
  if (usd !== undefined) out.usd = usd;
  if (i !== undefined) out.inputTokens = i;
  if (o !== undefined) out.outputTokens = o;
  const t = max(old?.tokens, next.tokens);
  if (t !== undefined) out.tokens = t;
  return out;
}

/** Checks a usage object from an agent; undefined when nothing valid is in it. */
export function readUsage(raw: unknown): Usage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1e12 ? v : undefined);
  const u: Usage = {};
  const usd = num(r.usd);
  const i = num(r.inputTokens);
  const o = num(r.outputTokens);
  if (usd !== undefined) u.usd = usd;
  if (i !== undefined) u.inputTokens = i;
  if (o !== undefined) u.outputTokens = o;
  const t = num(r.tokens);
  if (t !== undefined) u.tokens = t;
  return Object.keys(u).length ? u : undefined;
}

/**
 * Usage in an agent CLI's output, for the CLIs that print it: Claude Code's JSON result
 * ("total_cost_usd"), Aider ("Cost: $0.01 message, $0.05 session"), "Tokens: 1.2k sent,
 * 300 received", and `input_tokens` / `output_tokens` fields. The last match wins.
 */
export function parseUsage(text: string): Usage | undefined {
  const u: Usage = {};
  const last = (re: RegExp): RegExpExecArray | undefined => {
    let m: RegExpExecArray | null;
    let out: RegExpExecArray | undefined;
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
    while ((m = g.exec(text))) out = m;
    return out;
  };
  const k = (s: string) => (/k$/i.test(s) ? Number(s.slice(0, -1)) * 1000 : Number(s.replace(/,/g, '')));
  const claude = last(/"total_cost_usd"\s*:\s*([0-9.]+)/);
  const aider = last(/\$([0-9.]+)\s+session/);
  const generic = last(/\bcost[:=]\s*\$([0-9.]+)/i);
  const usd = claude?.[1] ?? aider?.[1] ?? generic?.[1];
  if (usd !== undefined && Number.isFinite(Number(usd))) u.usd = Number(usd);
  const tin = last(/"input_tokens"\s*:\s*(\d+)/) ?? last(/Tokens:\s*([0-9.,]+k?)\s+sent/i);
  const tout = last(/"output_tokens"\s*:\s*(\d+)/) ?? last(/([0-9.,]+k?)\s+received/i);
  if (tin?.[1]) u.inputTokens = k(tin[1]);
  if (tout?.[1]) u.outputTokens = k(tout[1]);
  return Object.keys(u).length ? u : undefined;
}

export interface CostSummary {
  total: Usage;
  byTicket: Record<string, Usage>;
  byRole: Record<string, Usage>;
  byProfile: Record<string, Usage>;
  /** Runs that reported any usage / all runs. */
  reported: number;
  runs: number;
}

/** Cost per ticket, role and profile over the runs selected (default: all). */
export function costSummary(state: OrchardState, filter: (r: Run) => boolean = () => true): CostSummary {
  const s: CostSummary = { total: {}, byTicket: {}, byRole: {}, byProfile: {}, reported: 0, runs: 0 };
  for (const r of Object.values(state.runs)) {
    if (!filter(r)) continue;
    s.runs++;
    if (!r.usage) continue;
    s.reported++;
    const role = state.tickets[r.ticketId]?.role ?? '(none)';
    s.total = addUsage(s.total, r.usage);
    s.byTicket[r.ticketId] = addUsage(s.byTicket[r.ticketId], r.usage);
    s.byRole[role] = addUsage(s.byRole[role], r.usage);
    const p = r.profile ?? '(default)';
    s.byProfile[p] = addUsage(s.byProfile[p], r.usage);
  }
  return s;
}

/** What the current batch has cost: runs started since the batch started. */
export function batchCost(state: OrchardState): number {
  const since = state.batch?.startedAt ?? -Infinity;
  return costSummary(state, (r) => r.startedAt >= since).total.usd ?? 0;
}

export type BudgetCheck = { ok: true; spent: number; budget?: number } | { ok: false; spent: number; budget: number; reason: string };

/** Whether new runs may start under Settings.budgetUsd. */
export function checkBudget(state: OrchardState, settings: Pick<Settings, 'budgetUsd'>): BudgetCheck {
  const spent = batchCost(state);
  const budget = settings.budgetUsd;
  if (budget === undefined || !(budget > 0)) return { ok: true, spent };
  if (spent < budget) return { ok: true, spent, budget };
  return {
    ok: false,
    spent,
    budget,
    reason: `budget reached: this batch has cost ${formatUsd(spent)} of its ${formatUsd(budget)} budget; no new runs start (running ones finish). Raise budgetUsd to go on.`,
  };
}

export const formatUsd = (usd: number): string => `$${usd < 1 ? usd.toFixed(3) : usd.toFixed(2)}`;

export function formatUsage(u: Usage | undefined): string {
  if (!u) return '';
  const parts: string[] = [];
  if (u.usd !== undefined) parts.push(formatUsd(u.usd));
  if (u.inputTokens !== undefined || u.outputTokens !== undefined) parts.push(`${u.inputTokens ?? 0} in / ${u.outputTokens ?? 0} out tokens`);
  else if (u.tokens !== undefined) parts.push(`${u.tokens} tokens`);
  return parts.join(', ');
}

/** Report lines: cost per role and the budget, where usage was reported. */
export function costReportLines(state: OrchardState, settings: Pick<Settings, 'budgetUsd'> = {}): string[] {
  const c = costSummary(state);
  if (c.reported === 0) return settings.budgetUsd ? [`- Budget: ${formatUsd(settings.budgetUsd)} (no run reported its cost yet)`] : [];
  const roles = Object.entries(c.byRole)
    .sort((a, b) => (b[1].usd ?? 0) - (a[1].usd ?? 0))
    .map(([r, u]) => `${r} ${formatUsage(u)}`)
    .join('; ');
  const lines = [`- Cost: ${formatUsage(c.total)} over ${c.reported} of ${c.runs} runs that reported usage; by role: ${roles}`];
  if (settings.budgetUsd)
    lines.push(
      `- Budget: ${formatUsd(batchCost(state))} of ${formatUsd(settings.budgetUsd)} spent this batch${state.startsPaused ? ' — new starts paused' : ''}`,
    );
  return lines;
}
