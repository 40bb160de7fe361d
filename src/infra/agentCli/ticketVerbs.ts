// orchard-agent verbs that make tickets and report usage (see core/workflows/agentTickets.ts):
//   orchard-agent add-ticket --title T [--id ID] [--prompt P] [--role R] [--files a,b] [--depends x,y] [--estimate MIN] [--priority P2]
//       (planner) proposes a ticket; prints "ok <id>" or the problems to fix (exit 1)
//   orchard-agent subtask <title> [--prompt P] [--role R] [--files a,b] [--depends x,y] [--estimate MIN] [--no-wait]
//       delegates work as a new ticket that this ticket depends on; waits until it is merged,
//       merges it into this worktree and prints "ok <id> <commit>"; exit 1 when refused or it failed
//   orchard-agent usage [--usd X] [--input-tokens N] [--output-tokens N]
//       reports what the run has cost so far (cumulative)
// Requests are files in the run folder carrying the run's token, answered by the launcher.
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGit } from '../git/run';

const VERBS = ['add-ticket', 'subtask', 'usage'];

function flags(args: string[], names: string[], booleans: string[] = []): { values: Record<string, string>; words: string[]; on: Set<string> } {
  const values: Record<string, string> = {};
  const words: string[] = [];
  const on = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const [n, inline] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), undefined];
      if (booleans.includes(n)) on.add(n);
      else if (names.includes(n))
        values[n] =
          values[n] !== undefined && (n === 'files' || n === 'depends') ? `${values[n]},${inline ?? args[i + 1] ?? ''}` : (inline ?? args[i + 1] ?? '');
      else throw new Error(`unknown option --${n}; options are ${[...names, ...booleans].map((x) => `--${x}`).join(', ')}`);
      if (inline === undefined && !booleans.includes(n)) i++;
    } else words.push(a);
  }
  return { values, words, on };
}

const list = (s: string | undefined) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function request(
  runDir: string,
  token: string,
  body: Record<string, unknown>,
  timeoutMs: number,
): Promise<{ ok: boolean; ticketId?: string; commit?: string; problems?: string[] }> {
  const id = `tr-${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const reqFile = join(runDir, `${id}.ticket-request.json`);
  writeFileSync(reqFile + '.tmp', JSON.stringify({ id, at: Date.now(), token, ...body }));
  // Atomic: the launcher never reads half a request.
  renameSync(reqFile + '.tmp', reqFile);
  const answerFile = join(runDir, `${id}.ticket-answer.json`);
  const end = Date.now() + timeoutMs;
  while (!existsSync(answerFile)) {
    if (Date.now() > end) return { ok: false, problems: [`no answer from Orchard within ${Math.round(timeoutMs / 1000)} s`] };
    await sleep(100);
  }
  await sleep(20);
  const a = JSON.parse(readFileSync(answerFile, 'utf8')) as { ok: boolean; ticketId?: string; commit?: string; problems?: string[] };
  // The request first: Orchard adopting this run later must not read it as a new one.
  rmSync(reqFile, { force: true });
  rmSync(answerFile, { force: true });
  return a;
}

/** Runs one of these verbs; false when the verb is not one of them. */
export async function runTicketVerb(verb: string | undefined, args: string[], runDir: string, token: string): Promise<boolean> {
  if (!verb || !VERBS.includes(verb)) return false;
  const out = (s: string) => process.stdout.write(s + '\n');
  const fail = (s: string): never => {
    process.stderr.write(`orchard-agent ${verb}: ${s}\n`);
    process.exit(1);
  };
  let parsed;
  try {
    parsed =
      verb === 'usage'
        ? flags(args, ['usd', 'input-tokens', 'output-tokens'])
        : flags(args, ['id', 'title', 'prompt', 'role', 'files', 'depends', 'estimate', 'priority', 'timeout'], ['no-wait']);
  } catch (e) {
    return fail((e as Error).message);
  }
  const v = parsed.values;
  if (verb === 'usage') {
    const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
    const usage = { usd: num(v.usd), inputTokens: num(v['input-tokens']), outputTokens: num(v['output-tokens']) };
    if (Object.values(usage).every((x) => x === undefined)) fail('give --usd, --input-tokens or --output-tokens');
    if (Object.values(usage).some((x) => x !== undefined && !(Number.isFinite(x) && x >= 0))) fail('values must be numbers ≥ 0');
    appendFileSync(join(runDir, 'progress.jsonl'), JSON.stringify({ at: Date.now(), token, usage }) + '\n');
    return true;
  }
  const title = v.title ?? (parsed.words.join(' ').trim() || undefined);
  if (!title) fail(`needs a title: orchard-agent ${verb} --title "Add the login form"`);
  const estimate = v.estimate !== undefined ? Number(v.estimate) : undefined;
  const ticket = {
    ...(v.id !== undefined && { id: v.id }),
    title,
    ...(v.prompt !== undefined && { prompt: v.prompt }),
    ...(v.role !== undefined && { role: v.role }),
    ...(v.priority !== undefined && { priority: v.priority }),
    ...(list(v.files) && { files: list(v.files) }),
    ...(list(v.depends) && { dependsOn: list(v.depends) }),
    ...(estimate !== undefined && { estimate }),
  };
  const wait = !parsed.on.has('no-wait');
  const timeoutMs = v.timeout !== undefined ? Number(v.timeout) * 1000 : verb === 'add-ticket' ? 60_000 : 7 * 24 * 3600_000;
  const a = await request(runDir, token, { kind: verb, ticket, wait }, timeoutMs);
  if (!a.ok) fail(`refused${a.ticketId ? ` (${a.ticketId})` : ''}:\n  - ${(a.problems ?? ['no reason given']).join('\n  - ')}`);
  if (verb === 'subtask' && wait && a.commit) {
    // Continue on top of the merged subtask.
    // In the agent's worktree, under the user's own identity (as the agent's commits are).
    const merged = await runGit(['merge', '--no-edit', '-q', a.commit], { cwd: process.cwd(), reject: false, asUser: true });
    if (!merged.ok) {
      await runGit(['merge', '--abort'], { cwd: process.cwd(), reject: false, asUser: true }); // nothing to abort is fine
      fail(
        `subtask ${a.ticketId} is merged as ${a.commit}, but merging it into this worktree conflicts; run "git merge ${a.commit}" and resolve: ${merged.stderr.slice(0, 300)}`,
      );
    }
  }
  out(`ok ${a.ticketId ?? ''}${a.commit ? ` ${a.commit}` : ''}`);
  return true;
}
