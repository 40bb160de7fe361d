// The review desk: the review policy (core/review.ts) and the decisions on tickets waiting for
// a person (core/reviewDesk.ts), on fake ports (virtual clock, no git, no process).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkComments, parseCommentArg, reviewFeedbackContext, reviewReason, validateReviewPolicy } from '../../src/core/review';
import { canTransition } from '../../src/core/transitions';
import { markdownReport } from '../../src/core/report';
import { advanceUntil, fakeWorld, runUntilIdle, spec } from '../helpers/fakePorts';

describe('review policy', () => {
  it('auto and no policy merge on their own; human reviews every ticket; labels and file globs pick some', () => {
    const t = { labels: ['security'] };
    assert.equal(reviewReason(undefined, t, ['a.ts']), undefined);
    assert.equal(reviewReason('auto', t, ['a.ts']), undefined);
    assert.match(reviewReason('human', { labels: [] }, [])!, /every ticket/);
    assert.match(reviewReason({ human: { labels: ['security'] } }, t, ['a.ts'])!, /label security/);
    assert.equal(reviewReason({ human: { labels: ['db'] } }, t, ['a.ts']), undefined);
    assert.match(
      reviewReason({ human: { files: ['migrations/**'] } }, { labels: [] }, ['src/x.ts', 'migrations/0001_init.sql'])!,
      /migrations\/0001_init\.sql matches migrations\/\*\*/,
    );
    assert.equal(reviewReason({ human: { files: ['migrations/**'] } }, { labels: [] }, ['src/x.ts']), undefined);
  });

  it('a bad policy is refused with the field and the fix', () => {
    assert.deepEqual(validateReviewPolicy('auto'), []);
    assert.deepEqual(validateReviewPolicy({ human: { labels: ['security'] } }), []);
    assert.match(validateReviewPolicy('always')[0]!, /review is "always"; use "auto", "human"/);
    assert.match(validateReviewPolicy({ person: {} })[0]!, /review has "person"/);
    assert.match(validateReviewPolicy({ human: { labels: 'security' } })[0]!, /review\.human\.labels must be an array/);
    assert.match(validateReviewPolicy({ human: { paths: ['x'] } })[0]!, /review\.human\.paths is not a review field/);
    assert.match(validateReviewPolicy({ human: {} })[0]!, /names no label and no file glob/);
  });

  it('comments: "file:line: text" parsed; bad ones name the comment and the fix; the feedback lists each with file and line', () => {
    assert.deepEqual(parseCommentArg('src/a:b.ts:12: handle the empty list'), { file: 'src/a:b.ts', line: 12, body: 'handle the empty list' });
    assert.throws(() => parseCommentArg('src/a.ts handle it'), /is not "file:line: text"/);
    assert.throws(() => checkComments([{ file: 'a.ts', line: 0, body: 'x' }]), /comment 1 on a\.ts: line is 0; use a line number from 1/);
    assert.throws(() => checkComments([{ file: 'a.ts', line: 3, body: '  ' }]), /a\.ts:3: the text is empty/);
    const text = reviewFeedbackContext('A person', 1, 'Smaller, please.', [{ file: 'src/a.ts', line: 12, body: 'handle the empty list' }]);
    assert.match(text, /asked for changes/);
    assert.match(text, /Smaller, please\./);
    assert.match(text, /- src\/a\.ts:12: handle the empty list/);
  });

  it('waiting for review is a state of the one transition gate: from gating, to the merge queue, back to ready or cancelled', () => {
    assert.ok(canTransition('gating', 'in-review'));
    for (const to of ['queued-for-merge', 'ready', 'cancelled'] as const) assert.ok(canTransition('in-review', to));
    assert.ok(!canTransition('in-review', 'done'), 'never merged without going through the merge queue');
    assert.ok(!canTransition('running', 'in-review'), 'only after its gates');
  });
});

describe('review desk on fake ports', () => {
  it('review: human — every finished ticket waits, oldest first, keeping its locks; approving several merges them; the batch ends only then', async () => {
    const w = fakeWorld();
    w.scripts.B = [{ files: ['src/B.txt'], ms: 3000 }];
    const o = await w.open({ review: 'human' });
    await o.addTickets([spec('A'), spec('B')]);
    await o.start();
    await advanceUntil(w, () => o.reviewQueue().length === 2, 'both waiting for review');
    const [first, second] = o.reviewQueue();
    assert.deepEqual([first!.ticketId, second!.ticketId], ['A', 'B'], 'oldest first');
    assert.deepEqual(first!.files, ['src/A.txt']);
    assert.match(first!.why, /every ticket is reviewed/);
    assert.equal(w.target.length, 0, 'nothing merged before the review');
    assert.ok(
      o.snapshot.locks.some((l) => l.ticketId === 'A'),
      'its locks are kept until it merges',
    );
    let idle = false;
    void o.whenIdle().then(() => (idle = true));
    await w.clock.advance(60_000);
    assert.equal(idle, false, 'a started batch waits for its reviews');
    await o.approve(['A', 'B']);
    await runUntilIdle(w, o);
    assert.deepEqual(w.target, ['A', 'B']);
    assert.equal(o.ticket('A').status, 'done');
    const decided = w.state.events.filter((e) => e.type === 'review-decided');
    assert.deepEqual(
      decided.map((e) => e.type === 'review-decided' && `${e.id}:${e.decision}:${e.by}`),
      ['A:approve:human', 'B:approve:human'],
    );
  });

  it('approve is all or none: one id that is not waiting refuses the lot, naming it', async () => {
    const w = fakeWorld();
    const o = await w.open({ review: 'human' });
    await o.addTickets([spec('A'), spec('Z', { dependsOn: ['A'] })]);
    await o.start();
    await advanceUntil(w, () => o.reviewQueue().length === 1, 'A waiting');
    await assert.rejects(o.approve(['A', 'Z']), /Approve is for a ticket waiting for review; Z is backlog/);
    assert.equal(o.ticket('A').status, 'in-review', 'A was not approved either');
  });

  it("request changes: the summary and line comments are the next attempt's feedback; it comes back to review, then merges", async () => {
    const w = fakeWorld();
    const o = await w.open({ review: 'human' });
    await o.addTickets([spec('C')]);
    await o.start();
    await advanceUntil(w, () => o.ticket('C').status === 'in-review', 'C waiting');
    await assert.rejects(o.requestChanges('C', {}), /needs a comment or a summary/);
    await o.requestChanges('C', { summary: 'Close, but not yet.', comments: [{ file: 'src/C.txt', line: 2, body: 'say hello, not hi' }] });
    assert.equal(o.ticket('C').status === 'ready' || o.ticket('C').status === 'running', true, o.ticket('C').status);
    assert.match(o.ticket('C').reason ?? '', /changes requested by human \(review 1\): Close, but not yet\./);
    await advanceUntil(w, () => o.ticket('C').status === 'in-review' && w.started.length === 2, 'C back for review');
    const handed = w.handedOver['C#2'] ?? '';
    assert.match(handed, /Close, but not yet\./);
    assert.match(handed, /- src\/C\.txt:2: say hello, not hi/);
    assert.equal(o.reviewQueue()[0]!.rounds, 1, 'the queue says it was reviewed before');
    assert.equal(o.ticket('C').attempts, 2);
    await o.review('approve', ['C']);
    await runUntilIdle(w, o);
    assert.deepEqual(w.target, ['C']);
    assert.equal(o.ticket('C').status, 'done', 'changes asked for use no retry: maxRetries is not spent');
    const report = markdownReport(o.snapshot, w.clock.now());
    assert.match(report, /## Reviews\n\n1 ticket reviewed by a person, 0 waiting; changes asked 1 time\./);
    assert.match(report, /\| C \| request-changes by human \(1 comment\); approve by human \| done \|/);
  });

  it('an attempt sent back from review is not a failure: with maxRetries 1, a crash after it still gets its retry', async () => {
    const w = fakeWorld();
    w.scripts.F = [{ files: ['src/F.txt'] }, { exit: { exitCode: 1 } }, { files: ['src/F.txt'] }];
    const o = await w.open({ review: 'human', maxRetries: 1 });
    await o.addTickets([spec('F')]);
    await o.start();
    await advanceUntil(w, () => o.ticket('F').status === 'in-review', 'F waiting');
    await o.requestChanges('F', { summary: 'Again, smaller.' });
    await advanceUntil(w, () => o.ticket('F').status === 'in-review' || o.ticket('F').status === 'failed', 'F back for review, or failed');
    assert.equal(o.ticket('F').status, 'in-review', o.ticket('F').reason);
    assert.deepEqual(w.started, ['F#1', 'F#2', 'F#3'], 'attempt 2 crashed and was retried once');
    await o.approve(['F']);
    await runUntilIdle(w, o);
    assert.equal(o.ticket('F').status, 'done');
  });

  it('discard from review cancels the ticket (its branch kept by the workspace), and dependents block', async () => {
    const w = fakeWorld();
    const o = await w.open({ review: 'human' });
    await o.addTickets([spec('D'), spec('E', { dependsOn: ['D'] })]);
    await o.start();
    await advanceUntil(w, () => o.ticket('D').status === 'in-review', 'D waiting');
    await o.review('discard', ['D']);
    assert.equal(o.ticket('D').status, 'cancelled');
    await runUntilIdle(w, o);
    assert.equal(w.target.length, 0);
    assert.equal(o.ticket('E').status, 'blocked');
  });

  it('a label policy reviews only matching tickets; the rest merge on their own', async () => {
    const w = fakeWorld();
    const o = await w.open({ review: { human: { labels: ['security'] } } });
    await o.addTickets([spec('S', { labels: ['security'] }), spec('P')]);
    await o.start();
    await advanceUntil(w, () => o.ticket('P').status === 'done' && o.ticket('S').status === 'in-review', 'P merged, S waiting');
    assert.deepEqual(w.target, ['P']);
  });

  it('a restart keeps the tickets waiting for review, and their locks', async () => {
    const w = fakeWorld();
    const first = await w.open({ review: 'human' });
    await first.addTickets([spec('R')]);
    await first.start();
    await advanceUntil(w, () => first.ticket('R').status === 'in-review', 'R waiting');
    first.dispose();
    const o = await w.open({ review: 'human' });
    assert.equal(o.ticket('R').status, 'in-review');
    assert.ok(
      o.snapshot.locks.some((l) => l.ticketId === 'R'),
      'locks kept across the restart',
    );
    await o.start();
    await o.approve(['R']);
    await runUntilIdle(w, o);
    assert.deepEqual(w.target, ['R']);
    assert.equal(w.started.length, 1, 'not run again');
  });
});
