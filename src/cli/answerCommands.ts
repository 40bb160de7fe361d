// A person's decisions from the command line: `answer` an escalation (also while `orchard run`
// runs, through the inbox), `resolve` a stopped merge by one of its ways out, `worktrees`.
import { parseArgs } from 'node:util';
import { wayOutOf } from '../core/waysOut';
import { formatStale } from '../infra/git/worktrees';
import { readStateReadOnly, UsageError, withSession, type CliIo } from './cliSupport';
import { asWriterOrInbox } from './writerRequest';

/** orchard answer: answers one escalation. */
export async function answerCommand(rest: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { option: { type: 'string' }, text: { type: 'string' } } });
  const [id] = positionals;
  if (!id || (values.option === undefined && values.text === undefined))
    throw new UsageError('answer needs an escalation id and --option or --text: orchard answer T3-r1-esc-1 --option Postgres (see "orchard escalations")');
  const state = await readStateReadOnly(io);
  const e = state.escalations[id];
  if (!e) throw new UsageError(`there is no escalation "${id}"; "orchard escalations" lists the open ones`);
  if (e.answer) throw new UsageError(`${id} was already answered by ${e.answer.by}`);
  if (values.option !== undefined && e.options.length && !e.options.includes(values.option))
    throw new UsageError(`--option must be one of ${e.options.map((x) => JSON.stringify(x)).join(', ')} for ${id}; or answer in words with --text`);
  const answer = { option: values.option, guidance: values.text };
  if (wayOutOf(e, values.option) === 'later') {
    io.out(`${id} stays open: ${e.ticketId} waits until you choose another way out (orchard resolve ${e.ticketId} merge-now|stash-and-update|…)`);
    return 0;
  }
  return asWriterOrInbox(io, { kind: 'answer', escalationId: id, ...answer }, (o) => o.answer(id, { ...answer, by: 'human' }), `answered ${id}`);
}

/** orchard resolve: takes a way out of a conflict or a dirty checkout. */
export async function resolveCommand(rest: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { yes: { type: 'boolean' } } });
  const [id, action] = positionals;
  const actions = ['open', 'continue', 'send-back', 'keep', 'discard', 'merge-now', 'stash-and-update'];
  if (!id || !action || !actions.includes(action)) throw new UsageError(`resolve needs a ticket and one of ${actions.join(', ')}: orchard resolve T3 open`);
  return withSession(io, {}, async (s) => {
    const o = s.orchestrator;
    if (action === 'open') {
      const r = await o.openConflict(id);
      io.out(
        r.files.length
          ? `Resolve these files in ${r.dir}, then run "orchard resolve ${id} continue":\n${r.files.map((f) => `  ${f}`).join('\n')}`
          : `${id} merges cleanly now.`,
      );
    } else if (action === 'continue') {
      const r = await o.continueMerge(id);
      io.out(r.kind === 'conflict' ? `Still conflicted: ${r.files.join(', ')}` : `${id}: ${r.kind}${r.kind === 'merged' ? ` as ${r.commit.slice(0, 8)}` : ''}`);
    } else if (action === 'send-back') {
      await o.sendBack(id);
      io.out(`${id} goes back to its agent with the conflict; "orchard run" starts it.`);
    } else if (action === 'keep') {
      await o.keepForLater(id);
      io.out(`${id} is kept for later on its branch.`);
    } else if (action === 'discard') {
      if (!values.yes) throw new UsageError(`discarding ${id} needs --yes (its branch is kept under refs/orchard/discarded/${id}/)`);
      const r = await o.discard(id, true);
      io.out(`${id} discarded${r.ref ? `; its work is kept at ${r.ref}` : ''}.`);
    } else {
      if (action === 'stash-and-update') await o.stashAndUpdate(id);
      else await o.mergeNow(id);
      const t = o.snapshot.tickets[id]!;
      io.out(`${id}: ${t.status}${t.reason ? ` — ${t.reason}` : ''}`);
    }
    return 0;
  });
}

/** orchard worktrees: lists worktrees and branches; reclaims merged ones. */
export async function worktreesCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { reclaim: { type: 'boolean' }, confirm: { type: 'boolean' } } });
  return withSession(io, {}, async (s) => {
    const live = new Set(
      Object.values(s.orchestrator.snapshot.runs)
        .filter((r) => r.endedAt === undefined)
        .map((r) => r.ticketId),
    );
    const wt = s.workspace.worktrees;
    const items = await wt.listStale(live);
    io.out(formatStale(items));
    if (!values.reclaim) return 0;
    const res = await wt.reclaim(items, { confirm: values.confirm });
    for (const r of res.removed) io.out(`removed ${r}`);
    for (const k of res.kept) io.out(`kept ${k.what}: ${k.why}`);
    for (const a of res.archived) io.out(`commits kept on ${a}`);
    return 0;
  });
}
