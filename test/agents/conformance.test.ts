// Conformance of the real agent CLIs (npm run test:agents [-- claude,codex]): each pinned CLI,
// pointed at a scripted model server speaking its vendor's protocol, does real tickets through
// the real `orchard` command, headless and in a real terminal (tmux), and the suite checks
// what a user relies on: merged with the agent's own commits; progress, an answered question
// and done reach Orchard; usage parsed; 429 and overloaded pause only that profile and use no
// retry; the end of an interactive session is found with no keystroke; first-run screens
// never block; Stop All (Ctrl-C) merges nothing and the next run resumes; the user's checkout
// is untouched. Figures (done → gating, Ctrl-C → exit) go to test-results/agents.json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startScriptServer, type ModelScript, type ScriptServer } from './scriptServer';
import {
  events,
  makeSandbox,
  orchard,
  orchardOk,
  ROOT,
  runsOf,
  screenOf,
  statuses,
  waitFor,
  type Conformance,
  type OrchardEventLine,
  type Sandbox,
} from './harness';
import { claudeConformance } from './claude.config';
import { codexConformance } from './codex.config';
import { geminiConformance } from './gemini.config';
import { copilotConformance } from './copilot.config';
import { opencodeConformance } from './opencode.config';

const ALL: Conformance[] = [claudeConformance, codexConformance, geminiConformance, copilotConformance, opencodeConformance];
const wanted = (process.env.ORCHARD_AGENTS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const chosen = ALL.filter((c) => wanted.length === 0 || wanted.includes(c.cli));
const modesWanted = (process.env.ORCHARD_AGENT_MODES ?? 'headless,tmux').split(',');

const FIGURES = join(ROOT, 'test-results', 'agents.json');
function figure(cli: string, key: string, value: unknown): void {
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  const all = existsSync(FIGURES) ? (JSON.parse(readFileSync(FIGURES, 'utf8')) as Record<string, Record<string, unknown>>) : {};
  all[cli] = { ...all[cli], [key]: value };
  writeFileSync(FIGURES, JSON.stringify(all, null, 2));
}

const commit = (file: string, text: string, message: string) => `printf '%s\\n' '${text}' > ${file} && git add ${file} && git commit -qm '${message}'`;

/** The two tickets of the main scenario: T1 asks a question and says done; T2 just ends its turn. */
function workScripts(tag: string): Record<string, ModelScript> {
  return {
    [`[script ${tag}-1]`]: {
      steps: [
        { shell: 'orchard-agent progress 40 writing the greeting' },
        { shell: 'orchard-agent escalate "Which greeting?" --option hello --option hi > .answer.txt; cat .answer.txt' },
        // No $(…): Gemini CLI refuses command substitution in its shell tool.
        { shell: `head -n1 .answer.txt > greeting.txt && rm .answer.txt && git add greeting.txt && git commit -qm '${tag}-1: greeting'` },
        { shell: 'orchard-agent done --summary "greeting written"' },
      ],
      finalText: 'The greeting is written and committed.',
    },
    [`[script ${tag}-2]`]: {
      steps: [{ shell: commit('two.txt', 'two', `${tag}-2: two`) }],
      finalText: 'two.txt is committed.',
    },
  };
}

async function setUp(sb: Sandbox, cli: string, config: Record<string, unknown> = {}): Promise<void> {
  await orchardOk(sb, ['init', '--agents', '2', '--mode', 'isolation', '--agent', cli]);
  const file = join(sb.repo, '.git', 'orchard', 'config.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // trustWorktrees: the user's consent (asked once per repository in VS Code) that the CLIs
  // may treat this repository's worktrees as trusted.
  writeFileSync(file, JSON.stringify({ ...c, maxRetries: 0, runTimeoutMinutes: 6, trustWorktrees: true, ...config }, null, 2));
}

const addTicket = (sb: Sandbox, id: string, prompt: string, agent: string) =>
  orchardOk(sb, ['add', '--id', id, '--title', `ticket ${id}`, '--prompt', prompt, '--agent', agent]);

function diag(sb: Sandbox, server: ScriptServer, run?: { output: () => string }): () => string {
  return () => {
    const ev = events(sb);
    const runDirs = join(sb.repo, '.git', 'orchard', 'runs');
    let logs = '';
    try {
      for (const r of ev.filter((e) => e.type === 'run-started').map((e) => e.run.id as string)) {
        const f = join(runDirs, r, 'agent.log');
        if (existsSync(f)) logs += `--- ${r} agent.log (tail)\n${readFileSync(f, 'utf8').slice(-1500)}\n`;
      }
    } catch {
      /* none */
    }
    return [
      `statuses: ${JSON.stringify(statuses(ev))}`,
      `last events: ${ev
        .slice(-8)
        .map(
          (e) =>
            `${e.type}${e.to ? `→${e.to}` : ''}${e.reason ? ` (${String(e.reason).slice(0, 160)})` : ''}${e.message ? ` [${String(e.message).slice(0, 160)}]` : ''}`,
        )
        .join('\n  ')}`,
      `server: ${server.requests
        .slice(-6)
        .map((r) => `${r.method} ${r.path} ${r.kind} ${r.script ?? ''} step=${r.step ?? ''}`)
        .join('\n  ')}`,
      run ? `orchard output (tail):\n${run.output().slice(-2500)}` : '',
      logs,
      screenOf(sb),
    ].join('\n');
  };
}

/** The open escalation of a ticket, answered through `orchard answer` from another process. */
async function answerWhenAsked(sb: Sandbox, ticketId: string, option: string, server: ScriptServer, timeoutMs = 120_000): Promise<OrchardEventLine> {
  const raised = await waitFor(
    `${ticketId}'s question`,
    () => events(sb).find((e) => e.type === 'escalation-raised' && e.escalation.ticketId === ticketId && e.escalation.options?.includes(option)),
    timeoutMs,
    diag(sb, server),
  );
  await orchardOk(sb, ['answer', raised.escalation.id, '--option', option]);
  return raised;
}

function checkoutUntouched(sb: Sandbox): void {
  assert.equal(sb.git('status', '--porcelain', '--untracked-files=all'), '', "the user's checkout has no file of an agent's");
  // Every commit on main that is not the user's came through a merge of an orchard/ branch.
  const firstParents = sb.git('log', '--first-parent', '--format=%s', 'main').split('\n');
  for (const s of firstParents)
    assert.ok(s === 'initial' || /^(Merge|orchard|T|W|F|S)/.test(s) || /merge/i.test(s), `main has a commit that is not a merge: "${s}"`);
}

function gatingDelay(ev: OrchardEventLine[], ticketId: string): number | undefined {
  const runs = new Set(runsOf(ev, ticketId));
  const done = ev.find((e) => e.type === 'run-progress' && runs.has(e.runId) && e.progress === 100);
  const gating = ev.find((e) => e.type === 'ticket-status' && e.id === ticketId && e.to === 'gating');
  return done && gating ? gating.at - done.at : undefined;
}

for (const conf of chosen) {
  describe(`${conf.cli} (real CLI, scripted model server)`, { concurrency: false }, () => {
    let server: ScriptServer;
    before(async () => {
      server = await startScriptServer({ adapter: conf.adapter, script: {} });
    });
    after(async () => {
      await server?.close();
    });

    for (const mode of ['headless', 'tmux'] as const) {
      const skip = !modesWanted.includes(mode) && `ORCHARD_AGENT_MODES=${modesWanted.join(',')}`;
      it(
        `${mode}: merged with the agent's own commits; progress, an answered question and done reach Orchard; usage parsed; the end found; the checkout untouched`,
        { skip },
        async () => {
          const tag = mode === 'headless' ? 'WH' : 'WT';
          server.setFaults([]);
          server.setScript(workScripts(tag));
          const sb = makeSandbox(conf, server.url, `work-${mode}`);
          try {
            await setUp(sb, conf.cli);
            await addTicket(sb, 'T1', `Write greeting.txt with the greeting the human picks. [script ${tag}-1]`, conf.cli);
            await addTicket(sb, 'T2', `Write two.txt. [script ${tag}-2]`, conf.cli);
            const headBefore = sb.git('rev-parse', 'HEAD');
            const run = orchard(sb, ['run', ...(mode === 'tmux' ? ['--terminal', 'tmux'] : [])]);
            await answerWhenAsked(sb, 'T1', 'hello', server, 180_000);
            let timer: NodeJS.Timeout | undefined;
            const code = await Promise.race([
              run.exited,
              new Promise<Error>(
                (resolve) => (timer = setTimeout(() => resolve(new Error(`orchard run did not end within 5 min\n${diag(sb, server, run)()}`)), 300_000)),
              ),
            ]);
            clearTimeout(timer);
            if (code instanceof Error) {
              run.child.kill('SIGKILL');
              throw code;
            }
            const ev = events(sb);
            assert.equal(code, 0, `orchard run exited ${code}\n${diag(sb, server, run)()}`);
            assert.deepEqual(statuses(ev), { T1: 'done', T2: 'done' });
            // The agent's own commits are on main, with its messages; the answer reached it.
            const log = sb.git('log', '--format=%s', 'main');
            assert.match(log, new RegExp(`${tag}-1: greeting`));
            assert.match(log, new RegExp(`${tag}-2: two`));
            assert.equal(sb.git('show', 'main:greeting.txt'), 'hello');
            assert.notEqual(sb.git('rev-parse', 'main'), headBefore);
            const t1 = new Set(runsOf(ev, 'T1'));
            assert.ok(
              ev.some((e) => e.type === 'run-progress' && t1.has(e.runId) && e.progress === 40),
              'progress 40 reached Orchard',
            );
            assert.ok(
              ev.some((e) => e.type === 'escalation-answered'),
              'the answer was recorded',
            );
            assert.ok(
              ev.some((e) => e.type === 'run-progress' && t1.has(e.runId) && e.message === 'greeting written'),
              'done reached Orchard',
            );
            // One question per ticket: no idle reminder or empty turn added another.
            const questions = ev.filter((e) => e.type === 'escalation-raised');
            assert.equal(questions.length, 1, `questions: ${questions.map((q) => q.escalation.question).join(' | ')}`);
            // Usage: what the server reported, parsed from the CLI's output or hooks.
            const usage = ev.filter((e) => e.type === 'run-usage');
            if (mode === 'headless')
              assert.ok(
                usage.length >= 2 && usage.every((u) => (u.usage.inputTokens ?? u.usage.tokens ?? 0) > 0),
                `usage: ${JSON.stringify(usage.map((u) => u.usage))}`,
              );
            figure(
              conf.cli,
              `${mode}.usage`,
              usage.map((u) => u.usage),
            );
            figure(conf.cli, `${mode}.doneToGatingMs`, { T1: gatingDelay(ev, 'T1'), T2: gatingDelay(ev, 'T2') });
            if (mode === 'tmux') {
              // The end of the interactive session was found from the CLI's own signal, without a
              // keystroke (not by the run's timeout). How fast is a figure (test-results/agents.json,
              // goal ≤ 5 s), not a timed assertion a loaded machine could fail.
              for (const id of ['T1', 'T2']) {
                const d = gatingDelay(ev, id);
                assert.ok(d !== undefined && d < 60_000, `${id}: done → gating took ${d} ms`);
              }
              assert.ok(!ev.some((e) => e.type === 'run-ended' && e.outcome === 'timeout'), 'no run timed out');
            }
            checkoutUntouched(sb);
            figure(conf.cli, `${mode}.work`, 'passed');
          } finally {
            sb.cleanup();
          }
        },
      );

      // Headless only: in a terminal the CLIs retry inside their own UI (Orchard sees a rate limit
      // there only when the CLI gives up and says so at the end of its turn).
      if (mode === 'headless')
        it(`${mode}: 429 and overloaded pause only this profile and use no retry`, { skip }, async () => {
          server.setScript({ '[script F-1]': { steps: [{ shell: commit('f1.txt', 'f1', 'F-1: f1') }], finalText: 'f1 committed.' } });
          server.setFaults([{ kind: 'rate-limit', times: 100_000 }]);
          const sb = makeSandbox(conf, server.url, 'faults');
          try {
            await setUp(sb, conf.cli);
            await addTicket(sb, 'F1', 'Write f1.txt. [script F-1]', conf.cli);
            await addTicket(sb, 'F2', '@write f2.txt', 'fake');
            const run = orchard(sb, ['run']);
            const rateLimitedRuns = () => events(sb).filter((e) => e.type === 'run-ended' && String(e.message ?? '').startsWith('rate limited'));
            await waitFor('a run rate limited by 429', () => rateLimitedRuns().length >= 1, 240_000, diag(sb, server, run));
            server.setFaults([{ kind: 'overloaded', times: 100_000 }]);
            await waitFor('a run rate limited by overload', () => rateLimitedRuns().length >= 2, 240_000, diag(sb, server, run));
            server.setFaults([]);
            const code = await run.exited;
            const ev = events(sb);
            assert.equal(code, 0, diag(sb, server, run)());
            assert.deepEqual(statuses(ev), { F1: 'done', F2: 'done' }, 'maxRetries is 0: neither pause used a retry');
            assert.match(run.output(), /⏸ F1\s+.*rate limited/, 'the pause is printed');
            // The other profile was not paused: F2 was merged while F1 waited.
            const f2Done = ev.find((e) => e.type === 'ticket-status' && e.id === 'F2' && e.to === 'done')!;
            const f1Last = ev.filter((e) => e.type === 'run-started' && e.run.ticketId === 'F1').pop()!;
            assert.ok(f2Done.at <= f1Last.at + 60_000);
            checkoutUntouched(sb);
            figure(conf.cli, 'faults', `passed (${rateLimitedRuns().length} rate-limited runs)`);
          } finally {
            sb.cleanup();
          }
        });

      it(`${mode}: Stop All (Ctrl-C) returns within seconds and merges nothing; the next run resumes`, { skip }, async () => {
        const tag = mode === 'headless' ? 'SH' : 'ST';
        server.setFaults([]);
        server.setScript({
          [`[script ${tag}]`]: {
            steps: [
              { shell: commit('s1.txt', 'partial', `${tag}: partial`) },
              { shell: 'orchard-agent escalate "Keep going?" --option yes --option no' },
              { shell: 'orchard-agent done' },
            ],
            finalText: 'Finished.',
          },
        });
        const sb = makeSandbox(conf, server.url, `stop-${mode}`);
        try {
          await setUp(sb, conf.cli);
          await addTicket(sb, 'S1', `Write s1.txt. [script ${tag}]`, conf.cli);
          const mainBefore = sb.git('rev-parse', 'main');
          const args = ['run', ...(mode === 'tmux' ? ['--terminal', 'tmux'] : [])];
          const first = orchard(sb, args);
          await waitFor("S1's question", () => events(sb).some((e) => e.type === 'escalation-raised'), 180_000, diag(sb, server, first));
          const t0 = Date.now();
          first.child.kill('SIGINT');
          const code = await first.exited;
          const stopMs = Date.now() - t0;
          figure(conf.cli, `${mode}.ctrlCToExitMs`, stopMs);
          assert.equal(code, 130, first.output());
          // Not minutes of retry delays (goal ≤ 5 s: the figure above; a bound a loaded machine cannot miss).
          assert.ok(stopMs <= 30_000, `Ctrl-C took ${stopMs} ms`);
          let ev = events(sb);
          assert.equal(sb.git('rev-parse', 'main'), mainBefore, 'nothing was merged');
          assert.equal(statuses(ev).S1, 'ready');
          assert.match(ev.filter((e) => e.type === 'ticket-status' && e.id === 'S1').pop()!.reason, /interrupted/);
          // The partial work is kept (branch or WIP ref), not lost.
          assert.match(sb.git('for-each-ref', '--format=%(refname)', 'refs/orchard/wip', 'refs/heads/orchard'), /S1/);
          // The next run resumes the batch: the ticket runs again and, answered, is merged.
          const second = orchard(sb, args);
          await waitFor(
            "S1's question again",
            () => events(sb).filter((e) => e.type === 'escalation-raised' && !e.escalation.answer).length >= 2,
            180_000,
            diag(sb, server, second),
          );
          const open = events(sb)
            .filter((e) => e.type === 'escalation-raised')
            .pop()!;
          await orchardOk(sb, ['answer', open.escalation.id, '--option', 'yes']);
          assert.equal(await second.exited, 0, diag(sb, server, second)());
          ev = events(sb);
          assert.equal(statuses(ev).S1, 'done');
          checkoutUntouched(sb);
          figure(conf.cli, `${mode}.stop`, 'passed');
        } finally {
          sb.cleanup();
        }
      });
    }
  });
}
