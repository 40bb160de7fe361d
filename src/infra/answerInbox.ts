// Answers from another process: `orchard answer` while `orchard run` (or a VS Code window)
// holds the writer lease drops the answer in `<state dir>/inbox/`; the writer takes it, answers
// through the orchestrator, and leaves the outcome next to it (`.done` or `.error`) for the
// command to print. Only the writer changes state, so nothing races.
import { errorText } from '../core/errors';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EscalationAnswer } from '../core/escalations';
import type { Logger } from '../core/ports';

export interface PostedAnswer {
  escalationId: string;
  option?: string;
  guidance?: string;
}

const inboxDir = (stateDir: string) => join(stateDir, 'inbox');

/** Drops an answer for the writer; returns the file whose `.done`/`.error` tells the outcome. */
export function postAnswer(stateDir: string, answer: PostedAnswer): string {
  const dir = inboxDir(stateDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${Date.now().toString(36)}-${process.pid}.answer.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(answer));
  renameSync(`${file}.tmp`, file);
  return file;
}

/** The outcome of a posted answer once the writer has taken it: undefined while it has not. */
export function answerOutcome(file: string): { ok: true } | { ok: false; error: string } | undefined {
  if (existsSync(`${file}.done`)) return { ok: true };
  if (existsSync(`${file}.error`)) return { ok: false, error: readFileSync(`${file}.error`, 'utf8') };
  return undefined;
}

/** The writer's side: takes posted answers every pollMs. */
export function watchInbox(stateDir: string, answer: (id: string, a: EscalationAnswer) => Promise<void>, log: Logger, pollMs = 400): { dispose(): void } {
  const dir = inboxDir(stateDir);
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy || !existsSync(dir)) return;
    busy = true;
    try {
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.answer.json')).sort()) {
        const file = join(dir, name);
        if (existsSync(`${file}.done`) || existsSync(`${file}.error`)) continue;
        try {
          const a = JSON.parse(readFileSync(file, 'utf8')) as PostedAnswer;
          await answer(a.escalationId, { option: a.option, guidance: a.guidance, by: 'human' });
          writeFileSync(`${file}.done`, '');
          log.info(`answered ${a.escalationId} (from orchard answer)`);
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
