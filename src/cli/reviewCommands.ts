// `orchard review …`: the review desk headless. list and show read the state; approve,
// request-changes and discard are carried out by the writer (this command, or the running
// `orchard run` / VS Code window through the inbox). Registered in commands.ts.
import { parseArgs } from 'node:util';
import { describeGate } from '../core/gates';
import { parseCommentArg, reviewQueue, type ReviewItem } from '../core/review';
import { locateRepo } from '../infra/session';
import { FileStateStore } from '../infra/store';
import type { CliIo } from './cliSupport';
import { asWriterOrInbox } from './writerRequest';

export const REVIEW_HELP = `  orchard review list [--json]                 tickets waiting for your review, oldest first
  orchard review show TICKET [--json]          its summary, gates, files and how to see the diff
  orchard review approve TICKET...             to the merge queue
  orchard review request-changes TICKET [--summary TEXT] [--comment "FILE:LINE: TEXT"]...
                                               back to its agent with your comments as feedback
  orchard review discard TICKET...             cancel it; its branch is kept under refs/orchard/discarded/`;

class ReviewUsage extends Error {
  readonly reason = 'usage';
}

async function queue(io: CliIo): Promise<ReviewItem[]> {
  const paths = await locateRepo(io.cwd);
  return reviewQueue(await new FileStateStore(paths.stateDir, { readOnly: true }).load());
}

const age = (ms: number) =>
  ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;

function showItem(io: CliIo, r: ReviewItem): void {
  io.out(`${r.ticketId}  ${r.title}`);
  io.out(`  waiting ${age(Date.now() - r.since)}: ${r.why}${r.rounds ? ` (reviewed ${r.rounds}× before)` : ''}`);
  if (r.summary) io.out(`  the agent says: ${r.summary}`);
  for (const g of r.gates) io.out(`  gate ${describeGate(g)}`);
  io.out(`  ${r.files.length} file(s) changed: ${r.files.slice(0, 20).join(', ')}${r.files.length > 20 ? ' …' : ''}`);
  io.out(`  the change: git diff ${r.base ? `${r.base.slice(0, 12)}...` : ''}${r.branch}   (worktree ${r.worktree})`);
}

export async function runReviewCli(args: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args;
  switch (verb) {
    case undefined:
    case 'list': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      const items = await queue(io);
      if (values.json) io.out(JSON.stringify(items, null, 2));
      else if (!items.length) io.out('Nothing waits for your review.');
      else for (const r of items) io.out(`${r.ticketId.padEnd(8)} waiting ${age(Date.now() - r.since).padEnd(7)} ${r.files.length} file(s)  ${r.title}`);
      return 0;
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
      const [id] = positionals;
      if (!id) throw new ReviewUsage('review show needs a ticket id (see "orchard review list")');
      const r = (await queue(io)).find((x) => x.ticketId === id);
      if (!r) throw new ReviewUsage(`${id} is not waiting for review; "orchard review list" shows the ones that are`);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else showItem(io, r);
      return 0;
    }
    case 'approve':
    case 'discard': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      if (!positionals.length) throw new ReviewUsage(`review ${verb} needs one or more ticket ids (see "orchard review list")`);
      const done =
        verb === 'approve'
          ? `approved ${positionals.join(', ')}: they go to the merge queue`
          : `discarded ${positionals.join(', ')} (branches kept under refs/orchard/discarded/)`;
      return asWriterOrInbox(io, { kind: 'review', decision: verb, ids: positionals }, (o) => o.review(verb, positionals), done);
    }
    case 'request-changes': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { summary: { type: 'string' }, comment: { type: 'string', multiple: true } },
      });
      const [id, ...extra] = positionals;
      if (!id || extra.length)
        throw new ReviewUsage('review request-changes takes one ticket id: orchard review request-changes T3 --comment "src/app.ts:12: handle the empty list"');
      let comments;
      try {
        comments = (values.comment ?? []).map(parseCommentArg);
      } catch (e) {
        throw new ReviewUsage((e as Error).message);
      }
      if (!comments.length && !values.summary?.trim())
        throw new ReviewUsage('review request-changes needs --summary TEXT or at least one --comment "FILE:LINE: TEXT" saying what should change');
      const feedback = { ...(values.summary && { summary: values.summary }), comments };
      return asWriterOrInbox(
        io,
        { kind: 'review', decision: 'request-changes', ids: [id], ...feedback },
        (o) => o.review('request-changes', [id], feedback),
        `sent ${id} back to its agent with ${comments.length} comment(s)`,
      );
    }
    default:
      throw new ReviewUsage(`unknown review command "${verb}"; use list, show, approve, request-changes or discard`);
  }
}
