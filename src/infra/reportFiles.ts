// The execution report on disk: markdown plus a static HTML snapshot of the dashboard
// (no scripts), written side by side. Used by `orchard report --out` and Generate Report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildDashboardView } from '../core/dashboardModel';
import type { Mode, OrchardState } from '../core/model';
import { batchRunning } from '../core/etaView';
import { predict } from '../core/predict';
import { markdownReport } from '../core/report';
import { dashboardSnapshotHtml } from '../shared/snapshot';

export interface ReportFiles {
  markdown: string;
  html: string;
}

export function writeReportFiles(state: Readonly<OrchardState>, now: number, agents: number, markdownPath: string, mode: Mode = 'locking'): ReportFiles {
  const html = markdownPath.replace(/\.md$/i, '') + '.html';
  mkdirSync(dirname(markdownPath), { recursive: true });
  writeFileSync(markdownPath, markdownReport(state as OrchardState, now));
  // The snapshot shows the same prediction as the markdown's "Predicted completion" line.
  const prediction = { prediction: predict(state as OrchardState, now, { agents, mode }), live: batchRunning(state) };
  writeFileSync(html, dashboardSnapshotHtml(buildDashboardView({ state, now, agents, prediction }), { title: 'Orchard — dashboard snapshot' }));
  return { markdown: markdownPath, html };
}
