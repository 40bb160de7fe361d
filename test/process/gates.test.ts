// Gates: which apply (labels, globs, required by label), verdict parsing, decisions and
// rounds (pure); then through the orchestrator with the fake agent: a command gate that
// fails once, a reviewer that rejects once (feedback reaches the developer), a reviewer
// out of rounds (escalated), a required gate that is missing, output kept on disk.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decideGates, gatesFor, matchesGlob, missingRequiredGates, parseVerdict, validateGates } from '../../src/core/gates';
import type { GateResult, GateSpec } from '../../src/core/model';
import { markdownReport } from '../../src/core/report';
import { validateConfig } from '../../src/infra/config';
import { buildDist, cleanupRepos, makeRepo, within } from '../helpers/repo';
import { spec, writerPerTest } from '../helpers/session';

after(() => cleanupRepos());

const G: GateSpec[] = [
  { name: 'review', kind: 'reviewer' },
  { name: 'tests', kind: 'command', argv: ['npm', 'test'] },
  { name: 'lint-ui', kind: 'command', argv: ['npm', 'run', 'lint'], files: ['src/ui/**'] },
  { name: 'secret-scan', kind: 'command', argv: ['scan'], labels: ['never-matches'] },
  { name: 'db', kind: 'command', argv: ['db-check'], labels: ['data'] },
];

const res = (over: Partial<GateResult>): GateResult => ({ name: 'g', kind: 'command', passed: true, status: 'passed', startedAt: 0, durationMs: 1, ...over });

describe('gates (pure)', () => {
  it('applies by label and glob; required by label overrides the filters; commands before reviewers', () => {
    const names = (labels: string[], files: string[], changed: string[] = []) =>
      gatesFor({ labels, files }, changed, G, { security: ['secret-scan'] }).map((g) => `${g.name}${g.required ? '!' : ''}`);
    assert.deepEqual(names([], ['src/api/x.ts']), ['tests', 'review']);
    assert.deepEqual(names([], [], ['src/ui/deep/page.tsx']), ['tests', 'lint-ui', 'review']);
    assert.deepEqual(names(['data'], ['src/ui/**']), ['tests', 'lint-ui', 'db', 'review']);
    assert.deepEqual(names(['security'], []), ['tests', 'secret-scan!', 'review']);
    assert.deepEqual(missingRequiredGates({ labels: ['security'] }, G, { security: ['secret-scan', 'sast'] }), ['sast']);
  });

  it('globs: ** spans folders, * does not', () => {
    assert.ok(matchesGlob('src/a/b/c.ts', 'src/**'));
    assert.ok(matchesGlob('src/a.ts', 'src/*.ts'));
    assert.ok(!matchesGlob('src/a/b.ts', 'src/*.ts'));
    assert.ok(matchesGlob('a.ts', '**/*.ts'));
  });

  it('validation names the field', () => {
    assert.deepEqual(validateGates(G, { security: ['tests'] }), []);
    const p = validateGates(
      [
        { name: 'x', kind: 'command', argv: 'npm test' },
        { name: 'x', kind: 'robot' },
        { name: 'r', kind: 'reviewer', timeoutSeconds: -1 },
      ],
      { security: ['nope'] },
    );
    assert.match(p.join('\n'), /gates\[0\]\.argv must be a non-empty argv array/);
    assert.match(p.join('\n'), /gates\[1\]\.name "x" is used twice/);
    assert.match(p.join('\n'), /gates\[1\]\.kind must be "command" or "reviewer"/);
    assert.match(p.join('\n'), /gates\[2\]\.timeoutSeconds must be a positive number/);
    assert.match(p.join('\n'), /requiredGatesByLabel\.security names gate "nope", which is not in gates/);
  });

  it('reads verdicts from lines or JSON; the last one wins; none is none', () => {
    assert.deepEqual(parseVerdict('looks fine\nVERDICT: APPROVE\n'), { verdict: 'approve', feedback: '' });
    assert.deepEqual(parseVerdict('**VERDICT: REJECT**: missing tests\nadd one for parse()\n\nunrelated'), {
      verdict: 'reject',
      feedback: '**: missing tests\nadd one for parse()',
    });
    assert.deepEqual(parseVerdict('{"verdict":"reject","feedback":"no docs"}'), { verdict: 'reject', feedback: 'no docs' });
    assert.equal(parseVerdict('VERDICT: REJECT: x\nVERDICT: APPROVE').verdict, 'approve');
    assert.equal(parseVerdict('End with `VERDICT: APPROVE` or ...').verdict, 'none');
  });

  it('decides: failed command → failed; rejection → send back until rounds are used up → escalate', () => {
    assert.deepEqual(decideGates([res({})], 0), { kind: 'pass' });
    assert.equal(decideGates([res({ passed: false, status: 'failed', exitCode: 2, output: 'boom' })], 0).kind, 'failed');
    const rej = res({ name: 'review', kind: 'reviewer', passed: false, status: 'rejected', feedback: 'add tests' });
    assert.deepEqual(decideGates([rej], 0, 2), { kind: 'send-back', gate: 'review', round: 1, feedback: 'add tests' });
    assert.deepEqual(decideGates([rej], 1, 2), { kind: 'send-back', gate: 'review', round: 2, feedback: 'add tests' });
    assert.equal(decideGates([rej], 2, 2).kind, 'escalate');
    assert.equal(decideGates([res({ kind: 'reviewer', passed: false, status: 'error' })], 0).kind, 'escalate');
  });
});

describe('gates through the orchestrator (fake agent)', { timeout: 600_000 }, () => {
  before(() => buildDist());
  const writer = writerPerTest();

  it('a command gate that fails on the first attempt: retried with the gate output as context, then merged; output kept', async () => {
    const r = makeRepo();
    // Passes once the file has two lines (the second attempt appends another).
    const check = [
      process.execPath,
      '-e',
      'const n=require("fs").readFileSync("src/T.txt","utf8").trim().split("\\n").length; if(n<2){console.log("lint: src/T.txt needs 2 lines, has "+n);process.exit(1)}console.log("lint ok")',
    ];
    const w = await writer(r.repo, { maxAgents: 1, gates: [{ name: 'lint', kind: 'command', argv: check, timeoutSeconds: 20 }] });
    const o = w.s.orchestrator;
    await o.addTickets([spec('T', { estimate: 2 })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const st = o.snapshot;
    assert.equal(st.tickets.T!.status, 'done', st.tickets.T!.reason);
    const g1 = st.runs['T-r1']!.gates![0]!;
    assert.equal(g1.status, 'failed');
    assert.match(g1.output ?? '', /needs 2 lines/);
    assert.match(fs.readFileSync(g1.outputFile!, 'utf8'), /needs 2 lines[\s\S]*\[exit 1/);
    assert.match(g1.outputFile!, /runs\/T-r1\/gates\/lint\.log$/);
    assert.match(st.runs['T-r2']!.context ?? '', /did not pass the checks[\s\S]*needs 2 lines/);
    assert.equal(st.runs['T-r2']!.gates![0]!.status, 'passed');
    assert.ok(w.events.some((e) => e.type === 'gate-started' && e.gate === 'lint'));
  });

  it('a command gate that times out is a failure with the timeout in its result', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, {
      maxAgents: 1,
      maxRetries: 0,
      gates: [{ name: 'slow', kind: 'command', argv: [process.execPath, '-e', 'setTimeout(()=>{},10000)'], timeoutSeconds: 0.5 }],
    });
    const o = w.s.orchestrator;
    await o.addTickets([spec('S', { estimate: 2 })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    assert.equal(o.snapshot.tickets.S!.status, 'failed');
    assert.equal(o.snapshot.runs['S-r1']!.gates![0]!.status, 'timeout');
  });

  it('a reviewer rejects once: the developer gets the feedback, round 2 is approved, then merged', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 1, gates: [{ name: 'review', kind: 'reviewer', timeoutSeconds: 20 }] });
    const o = w.s.orchestrator;
    await o.addTickets([spec('R', { estimate: 2, prompt: 'do R\n@review-reject-once please add error handling' })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const st = o.snapshot;
    assert.equal(st.tickets.R!.status, 'done', st.tickets.R!.reason);
    assert.equal(st.tickets.R!.reviewRounds, 1);
    const g1 = st.runs['R-r1']!.gates![0]!;
    assert.deepEqual([g1.status, g1.round, g1.feedback], ['rejected', 1, 'please add error handling']);
    assert.match(st.runs['R-r2']!.context ?? '', /Reviewer review rejected[\s\S]*please add error handling/);
    assert.deepEqual([st.runs['R-r2']!.gates![0]!.status, st.runs['R-r2']!.gates![0]!.round], ['approved', 2]);
    assert.match(fs.readFileSync(g1.outputFile!, 'utf8'), /ORCHARD REVIEW of ticket R/);
    const md = markdownReport(st, Date.now());
    assert.match(md, /## Gates[\s\S]*\| R-r1 \| review \| reviewer \| rejected \(round 1\)[^\n]*please add error handling/);
    assert.match(md, /## Merges[\s\S]*\| R \| R-r2 \| merge \| merged \|/);
  });

  it('a reviewer that keeps rejecting: after reviewerRounds the human is asked', async () => {
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 1, reviewerRounds: 1, gates: [{ name: 'review', kind: 'reviewer' }] });
    const o = w.s.orchestrator;
    await o.addTickets([spec('N', { estimate: 2, prompt: 'do N\n@review-reject never good' })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const t = o.snapshot.tickets.N!;
    assert.equal(t.status, 'escalated');
    assert.match(t.reason ?? '', /rejected the work 2 times \(1 round allowed\)/);
    assert.equal(t.attempts, 2);
    assert.ok(o.openEscalations().some((e) => e.ticketId === 'N' && /never good/.test(e.context)));
  });

  it('gates that stopped a ticket: the human answering "Merge now" (as the CLI and every UI do) merges it; the question is closed', async () => {
    // The option was once only a label no UI acted on: answering it left the ticket escalated.
    const r = makeRepo();
    const w = await writer(r.repo, { maxAgents: 1, reviewerRounds: 1, gates: [{ name: 'review', kind: 'reviewer' }] });
    const o = w.s.orchestrator;
    await o.addTickets([spec('MN', { estimate: 2, prompt: 'do MN\n@review-reject never good' })]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const e = o.openEscalations().find((x) => x.ticketId === 'MN')!;
    assert.deepEqual(e.ways, ['merge-now', 'send-back', 'discard']);
    assert.deepEqual(e.options, ['Merge now', 'Send back to the agent', 'Discard']);
    await o.answer(e.id, { option: 'Merge now', by: 'human' });
    await within(o.whenIdle(), 30_000, 'the merge');
    assert.equal(o.snapshot.tickets.MN!.status, 'done');
    assert.equal(r.git('show', 'main:src/MN.txt').includes('MN'), true, 'its work is on main');
    assert.equal(o.snapshot.escalations[e.id]!.answer?.option, 'Merge now');
    assert.equal(o.openEscalations().length, 0);
  });

  it('a required gate for a label: applied even when its filter does not match; missing → escalated, never skipped', async () => {
    const r = makeRepo();
    const scan = [process.execPath, '-e', 'console.log("no secrets found")'];
    const w = await writer(r.repo, {
      maxAgents: 2,
      gates: [{ name: 'secret-scan', kind: 'command', argv: scan, labels: ['nothing'] }],
      requiredGatesByLabel: { security: ['secret-scan'], compliance: ['legal-review'] },
    });
    const o = w.s.orchestrator;
    await o.addTickets([
      spec('SEC', { estimate: 2, labels: ['security'] }),
      spec('LEG', { estimate: 2, labels: ['compliance'] }),
      spec('PLAIN', { estimate: 2 }),
    ]);
    await o.start();
    await within(o.whenIdle(), 30_000, 'the batch');
    const st = o.snapshot;
    assert.equal(st.tickets.SEC!.status, 'done');
    assert.deepEqual(
      st.runs['SEC-r1']!.gates!.map((g) => [g.name, g.status, g.required]),
      [['secret-scan', 'passed', true]],
    );
    assert.equal(st.runs['PLAIN-r1']!.gates, undefined, 'the filtered gate does not apply');
    assert.equal(st.tickets.LEG!.status, 'escalated');
    assert.match(st.tickets.LEG!.reason ?? '', /required gate legal-review .* not configured/);
  });

  it('config validation names the field', () => {
    assert.throws(() => validateConfig({ mergeStrategy: 'octopus' }, 'config.json'), /mergeStrategy is "octopus"; use one of merge, rebase, squash/);
    assert.throws(() => validateConfig({ gates: [{ name: 'a', kind: 'command' }] }, 'config.json'), /gates\[0\]\.argv/);
    assert.throws(() => validateConfig({ batchMerge: 'yes' }, 'config.json'), /batchMerge is "yes"/);
    assert.throws(() => validateConfig({ reviewerRounds: -1 }, 'config.json'), /reviewerRounds/);
    assert.doesNotThrow(() =>
      validateConfig(
        { mergeStrategy: 'squash', batchMerge: true, gates: [{ name: 'a', kind: 'command', argv: ['true'] }], requiredGatesByLabel: { security: ['a'] } },
        'config.json',
      ),
    );
  });
});
