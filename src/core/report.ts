// The execution report: a markdown summary of a batch, computed from state alone.
import type { OrchardState, Run, Ticket } from './model';
import { etaReportLines } from './predict';
import { costReportLines } from './budget';

export interface BatchSummary {
  tickets: number;
  done: number;
  failed: number;
  other: number;
  /** Wall time of the batch (ms). */
  wallMs: number;
  /** Sum of every run's duration (ms): what one agent working sequentially would have needed. */
  agentMs: number;
  /** agentMs ÷ wallMs. */
  speedup: number;
  runs: number;
  retries: number;
}

export function summarize(state: OrchardState, now: number): BatchSummary {
  const tickets = Object.values(state.tickets);
  const runs = Object.values(state.runs);
  const agentMs = runs.reduce((s, r) => s + ((r.endedAt ?? now) - r.startedAt), 0);
  const start = state.batch?.startedAt ?? Math.min(...runs.map((r) => r.startedAt), now);
  const end = state.batch?.endedAt ?? now;
  const wallMs = Math.max(1, end - start);
  const done = tickets.filter((t) => t.status === 'done').length;
  const failed = tickets.filter((t) => t.status === 'failed').length;
  return {
    tickets: tickets.length,
    done,
    failed,
    other: tickets.length - done - failed,
    wallMs,
    agentMs,
    speedup: agentMs / wallMs,
    runs: runs.length,
    retries: runs.filter((r) => r.attempt > 1).length,
  };
}

export const formatDuration = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

function lastRun(state: OrchardState, t: Ticket): Run | undefined {
  return Object.values(state.runs)
    .filter((r) => r.ticketId === t.id)
    .sort((a, b) => b.attempt - a.attempt)[0];
}

/** Escapes text for a markdown table cell. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function markdownReport(state: OrchardState, now: number, title = 'Orchard execution report'): string {
  const s = summarize(state, now);
  const lines = [
    `# ${title}`,
    '',
    `- Tickets: ${s.tickets} (${s.done} done, ${s.failed} failed, ${s.other} other)`,
    `- Runs: ${s.runs} (${s.retries} retries)`,
    `- Wall time: ${formatDuration(s.wallMs)}; agent time: ${formatDuration(s.agentMs)}`,
    `- Speedup over sequential: ${s.speedup.toFixed(2)}×`,
    ...etaReportLines(state, now),
    ...costReportLines(state),
    '',
    '| ticket | title | priority | status | attempts | slot | duration | merged as |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const t of Object.values(state.tickets).sort((a, b) => a.id.localeCompare(b.id))) {
    const r = lastRun(state, t);
    const dur = r ? formatDuration((r.endedAt ?? now) - r.startedAt) : '';
    lines.push(
      `| ${cell(t.id)} | ${cell(t.title)} | ${t.priority} | ${t.status}${t.reason ? ` (${cell(t.reason)})` : ''} | ${t.attempts} | ${r?.slot ?? ''} | ${dur} | ${t.mergedAs?.slice(0, 8) ?? ''} |`,
    );
  }
  return lines.join('\n') + '\n';
}
