// A headless run's output (the run's log): the profile's "needs input" signals become one
// question, and an agent printing without end is stopped as looping.
import { detectSignals } from '../profiles';
import { fileSize, lastLine, tail } from './files';
import type { RunSession } from './runSession';

export class OutputReader {
  /** Log bytes already looked at. */
  private checked = 0;
  private asked = 0;

  constructor(
    private readonly session: RunSession,
    private readonly maxLogBytes: number,
  ) {}

  poll(): void {
    const s = this.session;
    const { host, files, log, runId, profile } = s.ctx;
    if (host.interactive) return;
    const size = fileSize(files.log);
    if (size > this.maxLogBytes && !s.problem) {
      s.problem = 'output-loop';
      log.warn(`${runId}: the agent printed more than ${Math.round(this.maxLogBytes / 1024)} KB; stopping it as looping`);
      s.requestStop('the agent looped printing output');
      return;
    }
    if (!profile || size === this.checked || size - this.checked < 1) return;
    const fresh = tail(files.log, Math.min(size - this.checked, 16_384));
    this.checked = size;
    // Profiles with hooks (Claude Code) say "needs input" through orchard-agent, not the screen.
    if (profile.hooks) return;
    if (detectSignals({ ...profile, rateLimitPatterns: [] }, fresh).needsInput) {
      this.asked++;
      s.fireNotice(`output-${this.asked}`, `${profile.description} is waiting for input: ${lastLine(fresh)}`);
    }
  }
}
