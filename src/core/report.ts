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
  lines.push(...gatesAndMergesReportLines(state));
  return lines.join('\n') + '\n';
}

/** Gate results, merge attempts and escalations (sections of the execution report). */
export function gatesAndMergesReportLines(state: OrchardState): string[] {
  const runs = Object.values(state.runs).sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  const gates = runs.flatMap((r) => (r.gates ?? []).map((g) => ({ r, g })));
  const merges = runs.flatMap((r) => (r.merges ?? []).map((m) => ({ r, m })));
  const escalations = Object.values(state.escalations ?? {});
  const out: string[] = [];
  if (gates.length) {
    const failed = gates.filter((x) => !x.g.passed).length;
    const rounds = Object.values(state.tickets).reduce((n, t) => n + (t.reviewRounds ?? 0), 0);
    out.push('', '## Gates', '', `${gates.length} gate runs, ${failed} not passed; ${rounds} reviewer rejection${rounds === 1 ? '' : 's'} sent back.`, '');
    out.push('| run | gate | kind | result | duration | output |', '|---|---|---|---|---|---|');
    for (const { r, g } of gates) {
      const detail = g.feedback ?? g.output?.trim().split('\n').slice(-1)[0] ?? '';
      out.push(
        `| ${cell(r.id)} | ${cell(g.name)}${g.required ? ' (required)' : ''} | ${g.kind} | ${g.status}${g.round ? ` (round ${g.round})` : ''} | ${formatDuration(g.durationMs)} | ${cell(detail.slice(0, 160))}${g.outputFile ? ` — \`${cell(g.outputFile)}\`` : ''} |`,
      );
    }
  }
  if (merges.length) {
    const by = (k: string) => merges.filter((x) => x.m.result === k).length;
    const batches = new Set(merges.filter((x) => (x.m.batch?.length ?? 0) > 1).map((x) => x.m.batch!.join(','))).size;
    out.push(
      '',
      '## Merges',
      '',
      `${by('merged')} merged, ${by('conflict')} conflicts, ${by('test-failed')} test failures after merge, ${by('target-dirty')} waits on a dirty checkout, ${by('nothing-to-merge')} with nothing to merge${batches ? `; ${batches} batch${batches === 1 ? '' : 'es'}` : ''}.`,
      '',
    );
    out.push('| ticket | run | strategy | result | commit | duration | batch | detail |', '|---|---|---|---|---|---|---|---|');
    for (const { r, m } of merges) {
      const detail = m.files?.length ? m.files.join(', ') : ((m.output ?? '').trim().split('\n').slice(-1)[0] ?? '');
      out.push(
        `| ${cell(r.ticketId)} | ${cell(r.id)} | ${m.strategy} | ${m.result} | ${m.commit?.slice(0, 8) ?? ''} | ${formatDuration(m.durationMs)} | ${m.batch && m.batch.length > 1 ? cell(m.batch.join(' ')) : ''} | ${cell(detail.slice(0, 160))} |`,
      );
    }
  }
  const reviewed = Object.values(state.tickets).filter((t) => t.reviews?.length || t.status === 'in-review');
  if (reviewed.length) {
    const waiting = reviewed.filter((t) => t.status === 'in-review').length;
    const asked = reviewed.reduce((n, t) => n + (t.humanReviewRounds ?? 0), 0);
    out.push(
      '',
      '## Reviews',
      '',
      `${reviewed.length} ticket${reviewed.length === 1 ? '' : 's'} reviewed by a person, ${waiting} waiting; changes asked ${asked} time${asked === 1 ? '' : 's'}.`,
      '',
    );
    out.push('| ticket | decisions | status |', '|---|---|---|');
    for (const t of reviewed.sort((a, b) => a.id.localeCompare(b.id))) {
      const decisions = (t.reviews ?? [])
        .map((r) => `${r.decision} by ${r.by}${r.comments ? ` (${r.comments} comment${r.comments === 1 ? '' : 's'})` : ''}`)
        .join('; ');
      out.push(`| ${cell(t.id)} | ${cell(decisions || '—')} | ${t.status} |`);
    }
  }
  if (escalations.length) {
    const open = escalations.filter((e) => !e.answer);
    out.push('', '## Escalations', '', `${escalations.length} raised, ${open.length} open.`, '');
    out.push('| ticket | trigger | question | answer |', '|---|---|---|---|');
    for (const e of escalations.sort((a, b) => a.createdAt - b.createdAt)) {
      out.push(
        `| ${cell(e.ticketId)} | ${e.trigger} | ${cell(e.question.slice(0, 160))} | ${e.answer ? cell([e.answer.option, e.answer.guidance].filter(Boolean).join(' — ').slice(0, 120) || e.answer.by) : '(open)'} |`,
      );
    }
  }
  return out;
}
