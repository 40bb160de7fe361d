// First-run screens on a terminal the host can read (tmux): a trust or setup dialog is
// answered by the CLI's rule, or becomes one question whose options are sent as keys.
import type { RunSession } from './runSession';
import { lastLines } from './files';

export class ScreenReader {
  /** When each screen rule last matched: a dialog still closing is not answered twice. */
  private readonly answered = new Map<string, number>();
  private busy = false;
  private lastAt = 0;

  constructor(private readonly session: RunSession) {}

  poll(): void {
    const s = this.session;
    const { host, cli, runId, log, profile } = s.ctx;
    if (!host.interactive || !host.readScreen || !cli?.screens?.length || this.busy || s.ending || Date.now() - this.lastAt < 700) return;
    this.lastAt = Date.now();
    this.busy = true;
    void host
      .readScreen(runId)
      .then(async (screen) => {
        if (!screen) return;
        for (const rule of cli.screens ?? []) {
          if (!new RegExp(rule.pattern, 'im').test(screen)) continue;
          const last = this.answered.get(rule.name) ?? 0;
          if (Date.now() - last < 3000) return;
          this.answered.set(rule.name, Date.now());
          if (rule.keys && host.sendKeys) {
            log.info(`${runId}: answered ${profile?.description ?? 'the agent'}'s "${rule.name}" screen (${rule.keys.join(' ')})`);
            await host.sendKeys(runId, { keys: rule.keys });
          } else {
            const id = `screen-${this.answered.size}-${Date.now().toString(36)}`;
            const options = rule.options ?? { Yes: ['Enter'], No: ['Escape'] };
            if (!s.openNotice) s.screenAnswers.set(id, options);
            s.fireNotice(id, `${profile?.description ?? 'The agent'} shows "${rule.name}"`, Object.keys(options), lastLines(screen, 12));
          }
          return;
        }
      })
      .catch(() => undefined)
      .finally(() => (this.busy = false));
  }
}
