// Nodes of the Agents view: one per slot, with its profile, its ticket, its state, elapsed
// time and progress.
import * as vscode from 'vscode';
import type { OrchardState, Run } from '../../core/model';
import { formatDuration } from '../../core/report';
import { icon } from './nodes';

export type AgentState = 'idle' | 'working' | 'waiting for input' | 'paused' | 'rate limited';

export interface AgentNode {
  kind: 'agent';
  slot: number;
  ticketId?: string;
  runId?: string;
}

export interface SlotView {
  slot: number;
  state: AgentState;
  profile?: string;
  run?: Run;
  /** Why the slot is in this state (rate limit until …). */
  detail?: string;
}

const STATE_ICON: Record<AgentState, [string, string?]> = {
  idle: ['circle-outline'],
  working: ['sync~spin', 'charts.blue'],
  'waiting for input': ['bell-dot', 'charts.yellow'],
  paused: ['debug-pause'],
  'rate limited': ['watch', 'charts.orange'],
};

/** What each slot is doing, from state alone. `active`: whether the batch assigns work. */
export function slotViews(s: OrchardState, maxAgents: number, active: boolean, defaultAgent?: string): SlotView[] {
  const live = new Map<number, Run>();
  const last = new Map<number, Run>();
  for (const r of Object.values(s.runs)) {
    if (r.endedAt === undefined) live.set(r.slot, r);
    const l = last.get(r.slot);
    if (!l || (l.endedAt ?? 0) < (r.endedAt ?? Infinity)) last.set(r.slot, r);
  }
  const slots = Math.max(maxAgents, ...[...live.keys()]);
  const out: SlotView[] = [];
  for (let slot = 1; slot <= slots; slot++) {
    const run = live.get(slot);
    if (run) {
      const t = s.tickets[run.ticketId];
      const profile = t?.agent ?? defaultAgent;
      out.push({ slot, run, profile, state: t?.status === 'escalated' ? 'waiting for input' : 'working' });
      continue;
    }
    const prev = last.get(slot);
    const pt = prev && s.tickets[prev.ticketId];
    const limited = pt && pt.status === 'ready' && pt.notBefore !== undefined && pt.notBefore > Date.now() && /rate limited/.test(pt.reason ?? '');
    if (limited) out.push({ slot, state: 'rate limited', profile: pt.agent ?? defaultAgent, detail: pt.reason });
    // Paused: a batch was started and then paused; before any batch a slot is simply idle.
    else out.push({ slot, state: !active && s.batch && !s.batch.endedAt ? 'paused' : 'idle' });
  }
  return out;
}

export function agentItem(v: SlotView, s: OrchardState, now: number): vscode.TreeItem {
  const t = v.run ? s.tickets[v.run.ticketId] : undefined;
  const item = new vscode.TreeItem(`Agent ${v.slot}${v.profile ? ` · ${v.profile}` : ''}`);
  item.id = `agent:${v.slot}`;
  const parts: string[] = [v.state];
  if (t) parts.unshift(`${t.id} ${t.title}`);
  if (v.run) {
    parts.push(formatDuration(now - v.run.startedAt));
    if (v.run.progress !== undefined) parts.push(`${v.run.progress}%`);
  }
  item.description = parts.join(' · ');
  const md = new vscode.MarkdownString(`**Agent ${v.slot}** — ${v.state}`);
  if (v.profile) md.appendMarkdown(`\n\nProfile: `).appendText(v.profile);
  if (t && v.run) {
    md.appendMarkdown('\n\nTicket: ').appendText(`${t.id} ${t.title} (attempt ${v.run.attempt})`);
    md.appendMarkdown('\n\nWorktree: ').appendText(v.run.worktree || '(being prepared)');
    if (v.run.message) md.appendMarkdown('\n\nLast report: ').appendText(v.run.message);
  }
  if (v.detail) md.appendMarkdown('\n\n').appendText(v.detail);
  item.tooltip = md;
  item.iconPath = icon(STATE_ICON[v.state]);
  item.contextValue = `agent agent-${v.state.replace(/ /g, '-')}${v.run ? ' run-live has-worktree' : ''}`;
  if (v.run)
    item.command = {
      command: 'orchard.openTerminal',
      title: 'Open Agent Terminal',
      arguments: [{ kind: 'agent', slot: v.slot, ticketId: v.run.ticketId, runId: v.run.id }],
    };
  return item;
}
