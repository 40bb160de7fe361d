// progress.jsonl: the lines `orchard-agent progress|done|usage` and the CLIs' end-of-turn hooks
// append; each carries the run's token. Read from where the last poll stopped, whole lines only.
import { readFileSync } from 'node:fs';
import { readUsage } from '../../../core/budget';
import type { AgentReport } from '../../../core/ports';
import type { RunSession } from './runSession';

export class ProgressReader {
  /** Characters of the file already read (always up to a line end). */
  private read = 0;

  constructor(private readonly session: RunSession) {}

  poll(): void {
    const s = this.session;
    const { files, dir, log, host, runId } = s.ctx;
    let text: string;
    try {
      text = readFileSync(files.progress, 'utf8');
    } catch {
      return;
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of complete.slice(this.read).split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as AgentReport & { token?: string; turnEnded?: boolean; at?: number };
        if (!s.tokenOk(r.token)) {
          log.warn(`ignored a progress line in ${dir}: it does not carry this run's token`);
          continue;
        }
        if (r.turnEnded) {
          s.onTurnEnded(r.message);
          continue;
        }
        if (r.done && (typeof r.at === 'number' ? r.at >= s.stoppedAt : s.stoppedBy !== undefined)) {
          log.info(`${runId}: said done after Orchard stopped it (${s.stoppedBy}); the run stays stopped`);
          continue;
        }
        if (r.done) s.saidDoneMidTurn();
        const u = readUsage((r as { usage?: unknown }).usage);
        if (u) s.usageReports.fire(u);
        else s.reports.fire({ progress: r.progress, message: r.message, ...(r.done && { done: true }) });
        if (r.done) host.update?.(runId, 'done');
      } catch {
        // a malformed line from an agent is ignored; the run goes on
      }
    }
    this.read = complete.length;
  }
}
