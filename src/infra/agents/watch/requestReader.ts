// The request files an agent writes into its run folder through `orchard-agent`: questions,
// lock requests, ticket requests (add-ticket, subtask), and the CLIs' "waiting for you"
// notices (hooks). Each is read once; one without the run's token is refused, in writing
// where the agent waits for an answer.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentTicketRequestMessage } from '../../../core/ports';
import { readJson, writeJsonAtomic } from './files';
import type { RunSession } from './runSession';

const REQUEST = /\.(question|lock-request|notice|ticket-request)\.json$/;

export class RequestReader {
  /** Request files already handled (or answered before this handle was made). */
  private readonly seen = new Set<string>();

  constructor(private readonly session: RunSession) {}

  poll(): void {
    const s = this.session;
    const { dir, log, host, runId, cli } = s.ctx;
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => REQUEST.test(n) && !this.seen.has(n));
    } catch {
      return;
    }
    for (const name of names) {
      // Already answered (a handle made again after a restart reads the folder afresh): the agent has its answer.
      const answer = name.replace(/\.(question|lock-request|ticket-request)\.json$/, (_, k: string) =>
        k === 'question' ? '.answer.json' : k === 'lock-request' ? '.lock-answer.json' : '.ticket-answer.json',
      );
      if (answer !== name && existsSync(join(dir, answer))) {
        this.seen.add(name);
        continue;
      }
      const req = readJson<Record<string, unknown>>(join(dir, name));
      if (!req) continue; // half-written: next tick
      this.seen.add(name);
      if (!s.tokenOk(req.token)) {
        log.warn(`ignored ${name} in ${dir}: it does not carry this run's token`);
        if (name.endsWith('.lock-request.json'))
          writeJsonAtomic(join(dir, `${String(req.id)}.lock-answer.json`), { granted: false, error: "the request does not carry this run's token" });
        if (name.endsWith('.ticket-request.json'))
          writeJsonAtomic(join(dir, `${String(req.id)}.ticket-answer.json`), { ok: false, problems: ["the request does not carry this run's token"] });
        continue;
      }
      if (name.endsWith('.ticket-request.json')) {
        const kind = req.kind === 'add-ticket' ? 'add-ticket' : 'subtask';
        s.ticketRequests.fire({ id: String(req.id), kind, ticket: (req.ticket ?? {}) as AgentTicketRequestMessage['ticket'], wait: req.wait !== false });
        continue;
      }
      if (name.endsWith('.lock-request.json')) {
        const patterns = Array.isArray(req.patterns) ? req.patterns.map(String) : [];
        s.lockRequests.fire({ id: String(req.id), patterns });
      } else if (name.endsWith('.notice.json')) {
        // A CLI's "waiting for you" (hook): one question until it is answered; a dialog that
        // takes keys (clis/<name>.ts notices) offers its options and gets its keys.
        const rule = host.interactive ? cli?.notices?.find((n) => new RegExp(n.pattern, 'i').test(String(req.question))) : undefined;
        if (rule && !s.openNotice) s.screenAnswers.set(String(req.id), rule.options);
        s.fireNotice(
          String(req.id),
          String(req.question),
          rule ? Object.keys(rule.options) : Array.isArray(req.options) ? req.options.map(String) : [],
          typeof req.context === 'string' ? req.context : undefined,
        );
      } else {
        host.update?.(runId, 'needs-input');
        s.questions.fire({
          id: String(req.id),
          question: String(req.question),
          options: Array.isArray(req.options) ? req.options.map(String) : [],
          trigger: typeof req.trigger === 'string' ? req.trigger : 'input-needed',
          ...(typeof req.context === 'string' && { context: req.context }),
        });
      }
    }
  }
}
