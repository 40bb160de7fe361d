// Requests from another process: `orchard answer` or `orchard review` while `orchard run` (or a
// VS Code window) holds the writer lease drop the request in `<state dir>/inbox/`; the writer
// takes it, carries it out through the orchestrator, and leaves the outcome next to it
// (`.done` or `.error`) for the command to print. Only the writer changes state, so nothing races.
import { errorText } from '../core/errors';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EscalationAnswer } from '../core/escalations';
import type { Logger } from '../core/ports';
import type { ReviewComment, ReviewDecision } from '../core/review';

export interface PostedAnswer {
  kind: 'answer';
  escalationId: string;
  option?: string;
  guidance?: string;
}

export interface PostedReview {
  kind: 'review';
  decision: ReviewDecision;
  ids: string[];
  summary?: string;
  comments?: ReviewComment[];
}

export type PostedRequest = PostedAnswer | PostedReview;

/** What the writer does with each kind of request. */
export interface InboxHandlers {
  answer(escalationId: string, a: EscalationAnswer): Promise<void>;
  review(r: PostedReview): Promise<void>;
}

const inboxDir = (stateDir: string) => join(stateDir, 'inbox');
const KINDS = ['answer', 'review'] as const;

/** Drops a request for the writer; returns the file whose `.done`/`.error` tells the outcome. */
export function postRequest(stateDir: string, request: PostedRequest): string {
  const dir = inboxDir(stateDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${Date.now().toString(36)}-${process.pid}.${request.kind}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(request));
  renameSync(`${file}.tmp`, file);
  return file;
}

/** The outcome of a posted request once the writer has taken it: undefined while it has not. */
export function requestOutcome(file: string): { ok: true } | { ok: false; error: string } | undefined {
  if (existsSync(`${file}.done`)) return { ok: true };
  if (existsSync(`${file}.error`)) return { ok: false, error: readFileSync(`${file}.error`, 'utf8') };
  return undefined;
}

/** The writer's side: takes posted requests, oldest first, every pollMs. */
export function watchInbox(stateDir: string, handlers: InboxHandlers, log: Logger, pollMs = 400): { dispose(): void } {
  const dir = inboxDir(stateDir);
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy || !existsSync(dir)) return;
    busy = true;
    try {
      for (const name of readdirSync(dir)
        .filter((n) => KINDS.some((k) => n.endsWith(`.${k}.json`)))
        .sort()) {
        const file = join(dir, name);
        if (existsSync(`${file}.done`) || existsSync(`${file}.error`)) continue;
        try {
          // Files of older versions carry no kind: they were answers.
          const r = { kind: name.endsWith('.review.json') ? 'review' : 'answer', ...JSON.parse(readFileSync(file, 'utf8')) } as PostedRequest;
          if (r.kind === 'answer') {
            await handlers.answer(r.escalationId, { option: r.option, guidance: r.guidance, by: 'human' });
            log.info(`answered ${r.escalationId} (from orchard answer)`);
          } else {
            await handlers.review(r);
            log.info(`review: ${r.decision} ${r.ids.join(', ')} (from orchard review)`);
          }
          writeFileSync(`${file}.done`, '');
        } catch (e) {
          writeFileSync(`${file}.error`, errorText(e));
        }
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), pollMs);
  timer.unref?.();
  return { dispose: () => clearInterval(timer) };
}
