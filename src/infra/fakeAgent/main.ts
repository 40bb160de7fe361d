// The scripted agent used by the demo and the tests. It reads its ticket from the run folder,
// edits files in its worktree, reports progress through orchard-agent and commits. Lines of
// the ticket prompt starting with '@' steer it (they are data: nothing in them is executed):
//   @fail            exit 1 without changes        @fail-once   fail on attempt 1 only
//   @hang            never finish                  @ask <q>     escalate and wait for the answer
//   @sleep <ms>      how long to work              @no-commit   leave the changes uncommitted
//   @write <path>    also append to this file       @rate-limit(-once)  exit like a rate-limited CLI
// As a reviewer (prompt starting "ORCHARD REVIEW", see core/gates.ts) it approves unless told:
//   @review-reject [why]   always reject             @review-reject-once [why]  reject in round 1
//   @review-silent         give no verdict
// A ticket whose prompt asks for a verdict (a review step of a workflow loop) does its work and
// then reports one the same way, round 1 being its loop round (label round:<n>);
//   @verdict-only          as such a step: give the verdict, write and commit nothing
//   @plan            planner: propose 3 tickets     @propose id | title | role | deps | files  (one each)
//   @subtask <title> delegate and wait for the merge   @cost <usd>  report usage
//   @wait-for <path>  start working only once this file exists (a test's gate, not a clock)
//   @flood <MB>  print that much output   @rewrite  reset below its base   @commit-in-checkout  commit in the user's checkout
//   @work-in-checkout  write a file and run a command in the user's checkout (caught and stopped)
//   @tui  end with a turn-end hook and wait at the prompt (an interactive CLI)   @tui-ask <q>  ask in words, read the answer typed in
//   @exit0-on-term  exit 0 on SIGTERM   @done-on-term  on SIGTERM say done, then exit 0 (a CLI whose
//                   cut wait for an answer lets its turn go on to `orchard-agent done`)
import { errorText } from '../../core/errors';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface TicketLike {
  id: string;
  title: string;
  prompt: string;
  files: string[];
  labels?: string[];
  estimate?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One line typed into the agent's terminal. */
function readLine(): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      buf += d;
      const nl = buf.search(/[\r\n]/);
      if (nl >= 0) {
        process.stdin.pause();
        resolve(buf.slice(0, nl));
      }
    });
    process.stdin.resume();
  });
}

function report(...args: string[]): string {
  try {
    return execFileSync('orchard-agent', args, { encoding: 'utf8' });
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const runDir = process.env.ORCHARD_RUN_DIR;
  if (!runDir) throw new Error('fake-agent runs inside an Orchard run (ORCHARD_RUN_DIR is not set)');
  const ticket = JSON.parse(readFileSync(join(runDir, 'ticket.json'), 'utf8')) as TicketLike;
  const attempt = Number(process.env.ORCHARD_ATTEMPT ?? '1');
  const directives = ticket.prompt
    .split('\n')
    .filter((l) => l.startsWith('@'))
    .map((l) => l.trim());
  const has = (d: string) => directives.some((x) => x === d || x.startsWith(`${d} `));
  const arg = (d: string) => directives.find((x) => x.startsWith(`${d} `))?.slice(d.length + 1);
  const msPerMinute = Number(process.env.ORCHARD_FAKE_MS_PER_MINUTE ?? '40');
  const workMs = Number(arg('@sleep') ?? (ticket.estimate ?? 10) * msPerMinute);

  const gate = arg('@wait-for');
  if (gate) while (!existsSync(gate)) await sleep(50);
  if (ticket.prompt.startsWith('ORCHARD REVIEW')) {
    // Reviewer mode (a reviewer gate): read-only; the verdict follows the ticket's @review-* lines.
    const reject = has('@review-reject') || (has('@review-reject-once') && attempt === 1);
    await sleep(Math.min(workMs, 200));
    if (has('@review-silent')) {
      console.log('fake-agent: reviewed, no verdict');
      return;
    }
    const verdict = reject ? `VERDICT: REJECT: ${arg('@review-reject') ?? arg('@review-reject-once') ?? 'add a test for the new code'}` : 'VERDICT: APPROVE';
    console.log(`fake-agent: reviewed ${ticket.id} (round ${attempt})`);
    console.log(verdict);
    report('done', verdict);
    return;
  }
  console.log(`fake-agent: working on ${ticket.id} "${ticket.title}" (attempt ${attempt})`);
  // Like OpenCode and Gemini CLI: SIGTERM ends it with exit 0.
  if (has('@exit0-on-term')) process.on('SIGTERM', () => process.exit(0));
  if (has('@done-on-term'))
    process.on('SIGTERM', () => {
      report('done', '--summary', 'finished after all');
      process.exit(0);
    });
  if (has('@fail') || (has('@fail-once') && attempt === 1)) {
    console.log('fake-agent: told to fail');
    process.exit(1);
  }
  if (has('@rate-limit') || (has('@rate-limit-once') && attempt === 1)) {
    console.error('fake-agent: Error 429: rate limit exceeded, try again later');
    process.exit(75);
  }
  // Misbehaviours for the failure tests (agents runs engineer):
  //   @spawn-child  start a grandchild that sleeps (process-tree kill)   @loop  print forever
  //   @delete-worktree  remove its own worktree                          @lock <paths>  orchard-agent lock
  //   @commit-to-target <branch>  push a commit straight to the target   @status-file <json>  write agent-status.json
  if (has('@spawn-child')) {
    const { spawn } = await import('node:child_process');
    const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    appendFileSync(join(runDir, 'grandchild.pid'), String(c.pid));
  }
  if (arg('@status-file')) appendFileSync(join(process.cwd(), 'agent-status.json'), arg('@status-file')!);
  if (arg('@lock')) console.log(`fake-agent: lock ${report('lock', '--no-wait', ...arg('@lock')!.split(' ')).trim() || 'refused'}`);
  if (has('@loop')) for (;;) process.stdout.write('fake-agent: still thinking about it, still thinking about it\n'.repeat(200));
  if (has('@delete-worktree')) {
    const { rmSync } = await import('node:fs');
    rmSync(process.cwd(), { recursive: true, force: true });
    process.exit(0);
  }
  if (arg('@commit-to-target')) {
    appendFileSync(join(process.cwd(), 'stray.txt'), 'stray\n');
    execFileSync('git', ['add', '-A'], { stdio: 'ignore' });
    execFileSync('git', ['-c', 'user.name=fake', '-c', 'user.email=f@l', 'commit', '-q', '-m', 'stray'], { stdio: 'ignore' });
    execFileSync('git', ['update-ref', `refs/heads/${arg('@commit-to-target')}`, 'HEAD'], { stdio: 'ignore' });
  }
  // Faults (test/reliability/faults.test.ts): @flood <MB> print that much   @rewrite  reset the branch below its base
  //   @commit-in-checkout  commit a file in the user's checkout (on whatever it has checked out)
  if (arg('@flood')) {
    const { writeSync } = await import('node:fs');
    const chunk = Buffer.from('fake-agent: flooding the output with this line again and again\n'.repeat(16_384));
    for (let n = 0; n < Number(arg('@flood')) * 1024 * 1024; n += chunk.length) writeSync(1, chunk);
  }
  if (has('@rewrite')) execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { stdio: 'ignore' });
  if (has('@work-in-checkout')) {
    // A CLI that followed an inherited $PWD: its shell works in the user's checkout.
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { encoding: 'utf8' }).trim();
    const user = dirname(common);
    writeFileSync(join(user, 'agent-in-checkout.txt'), `${ticket.id} was here\n`);
    execFileSync('sleep', ['20'], { cwd: user, stdio: 'ignore' });
  }
  if (has('@commit-in-checkout')) {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { encoding: 'utf8' }).trim();
    const user = dirname(common);
    appendFileSync(join(user, 'agent-in-checkout.txt'), `${ticket.id} was here\n`);
    execFileSync('git', ['add', 'agent-in-checkout.txt'], { cwd: user, stdio: 'ignore' });
    execFileSync('git', ['-c', 'user.name=fake', '-c', 'user.email=f@l', 'commit', '-q', '-m', `${ticket.id}: stray commit in the user's checkout`], {
      cwd: user,
      stdio: 'ignore',
    });
  }
  if (has('@hang')) {
    console.log('fake-agent: told to hang');
    for (;;) await sleep(60_000);
  }
  const steps = 4;
  for (let i = 1; i <= steps; i++) {
    await sleep(workMs / steps);
    report('progress', String(Math.round((i / steps) * 90)), `step ${i} of ${steps}`);
  }
  // Planner mode (@plan, @propose id | title | role | deps | files): propose tickets, change nothing.
  const proposals = directives
    .filter((d) => d.startsWith('@propose '))
    .map((d) =>
      d
        .slice(9)
        .split('|')
        .map((s) => s.trim()),
    );
  if (has('@plan') || proposals.length) {
    const slug = (ticket.title.toLowerCase().match(/[a-z0-9]+/g) ?? ['goal']).slice(0, 3).join('-');
    const plan = proposals.length
      ? proposals
      : [
          ['design', `Design ${slug}`, 'architect', '', `docs/${slug}.md`],
          ['build', `Build ${slug}`, 'developer', 'design', `src/${slug}/**`],
          ['test', `Test ${slug}`, 'tester', 'build', `test/${slug}/**`],
        ];
    for (const [id, title, role, deps, files] of plan) {
      const args = ['add-ticket', '--id', id ?? '', '--title', title ?? '', '--prompt', `${title ?? ''}\n@sleep 30`, '--estimate', '5'];
      if (role) args.push('--role', role);
      if (deps) args.push('--depends', deps);
      if (files) args.push('--files', files);
      let said: string;
      try {
        said = execFileSync('orchard-agent', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      } catch (e) {
        said = `refused: ${String((e as { stderr?: string }).stderr ?? e).trim()}`;
      }
      console.log(`fake-agent: proposed ${id}: ${said}`);
    }
    report('done', `proposed ${plan.length} tickets`);
    return;
  }
  const cost = arg('@cost');
  if (cost) report('usage', '--usd', cost, '--input-tokens', '1000', '--output-tokens', '200');
  // @subtask <title>: delegate, wait until it is merged, then go on on top of it.
  for (const title of directives.filter((d) => d.startsWith('@subtask ')).map((d) => d.slice(9))) {
    console.log(`fake-agent: delegating "${title}"`);
    let said: string;
    try {
      said = execFileSync('orchard-agent', ['subtask', title, '--prompt', `${title}\n@sleep 30`, '--estimate', '5'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch (e) {
      said = `refused: ${String((e as { stderr?: string }).stderr ?? e).trim()}`;
    }
    console.log(`fake-agent: subtask: ${said}`);
  }
  // Every @ask line is one question, asked in turn; each waits for the human's answer.
  const answers: string[] = [];
  for (const question of directives.filter((d) => d.startsWith('@ask ')).map((d) => d.slice(5))) {
    console.log(`fake-agent: asking "${question}"`);
    const answer = report('escalate', question, '--option', 'yes', '--option', 'no').trim();
    console.log(`fake-agent: the human said "${answer}"`);
    answers.push(answer.split('\n')[0] ?? '');
  }
  // @tui-ask <question>: as an interactive CLI, end the turn asking in words (no changes), then
  // take the next line typed into the terminal as the answer.
  const tuiQuestion = arg('@tui-ask');
  if (tuiQuestion) {
    report('hook', 'turn-end', JSON.stringify({ last_assistant_message: tuiQuestion }));
    answers.push(await readLine());
    console.log(`fake-agent: read "${answers[answers.length - 1]}" from the terminal`);
  }
  const answer = answers.join(', ');
  const asksVerdict = ticket.prompt.includes('VERDICT: APPROVE') && !has('@review-silent');
  const targets = ticket.files.filter((f) => !/[*?]/.test(f));
  const extra = arg('@write');
  if (extra) targets.push(extra);
  if (targets.length === 0) {
    const dir =
      ticket.files[0]
        ?.split('/')
        .filter((s) => !/[*?]/.test(s))
        .join('/') || 'notes';
    targets.push(`${dir}/${ticket.id}.md`);
  }
  for (const rel of asksVerdict && has('@verdict-only') ? [] : targets) {
    const p = join(process.cwd(), rel);
    mkdirSync(dirname(p), { recursive: true });
    // Sent back with a conflict left in the worktree: resolve it by keeping both sides.
    if (existsSync(p)) {
      const text = readFileSync(p, 'utf8');
      if (/^<<<<<<< /m.test(text))
        writeFileSync(
          p,
          text
            .split('\n')
            .filter((l) => !/^(<<<<<<< |=======$|>>>>>>> )/.test(l))
            .join('\n'),
        );
    }
    appendFileSync(p, `- ${ticket.id}: ${ticket.title}${answer ? ` (answer: ${answer})` : ''}\n`);
  }
  if (!has('@no-commit') && !(asksVerdict && has('@verdict-only'))) {
    execFileSync('git', ['add', '-A'], { stdio: 'ignore' });
    execFileSync('git', ['commit', '-q', '-m', `${ticket.id}: ${ticket.title}`], {
      stdio: 'ignore',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'fake-agent',
        GIT_AUTHOR_EMAIL: 'fake@localhost',
        GIT_COMMITTER_NAME: 'fake-agent',
        GIT_COMMITTER_EMAIL: 'fake@localhost',
      },
    });
  }
  if (asksVerdict) {
    // Asked for a verdict (a review step of a loop): given by the @review-* lines, per loop round.
    const round = Number(ticket.labels?.find((l) => l.startsWith('round:'))?.slice(6) ?? attempt);
    const reject = has('@review-reject') || (has('@review-reject-once') && round === 1);
    const verdict = reject ? `VERDICT: REJECT: ${arg('@review-reject') ?? arg('@review-reject-once') ?? 'add a test for the new code'}` : 'VERDICT: APPROVE';
    console.log(verdict);
    report('done', verdict);
  } else if (has('@tui')) {
    // An interactive CLI: its turn ends (its own hook), and it waits at its prompt until ended.
    report('hook', 'turn-end', JSON.stringify({ last_assistant_message: `changed ${targets.join(', ')}` }));
    console.log(`fake-agent: ${ticket.id} turn ended; waiting at the prompt`);
    for (;;) await sleep(60_000);
  } else report('done', `changed ${targets.join(', ')}`);
  console.log(`fake-agent: ${ticket.id} done`);
}

main().catch((e) => {
  console.error(`fake-agent: ${errorText(e)}`);
  process.exit(3);
});
