// A command that changes state (an answer, a review decision) from the CLI: carried out here
// when no other Orchard holds the writer lease, else handed to the writer through the inbox
// (infra/inbox.ts) and its outcome awaited.
import type { Orchestrator } from '../core/orchestrator';
import { postRequest, requestOutcome, type PostedRequest } from '../infra/inbox';
import { consoleLogger, locateRepo, openSession } from '../infra/session';
import type { CliIo } from './cliSupport';

/** How long the command waits for a running writer to take the request. */
const WRITER_WAIT_MS = 15_000;

export class RequestRefused extends Error {
  readonly reason = 'usage';
}

/** Returns the exit code: 0 done, 1 still waiting in the inbox; a refusal throws RequestRefused. */
export async function asWriterOrInbox(io: CliIo, request: PostedRequest, direct: (o: Orchestrator) => Promise<void>, doneText: string): Promise<number> {
  const paths = await locateRepo(io.cwd);
  const s = await openSession({ cwd: io.cwd, owner: 'orchard CLI', distDir: io.distDir, log: consoleLogger(true) });
  try {
    if (s.role === 'writer') {
      await direct(s.orchestrator);
      io.out(doneText);
      return 0;
    }
  } finally {
    await s.close();
  }
  // Another process is the writer (orchard run, a VS Code window): it carries the request out.
  const file = postRequest(paths.stateDir, request);
  for (const deadline = Date.now() + WRITER_WAIT_MS; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const got = requestOutcome(file);
    if (got?.ok) {
      io.out(doneText);
      return 0;
    }
    if (got) throw new RequestRefused(got.error);
  }
  io.err(`the request is waiting in ${file}; the Orchard that runs the batch takes it when it next looks`);
  return 1;
}
