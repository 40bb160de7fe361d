// Workflow templates: every built-in expands and validates; forEach, loops, gates, user
// templates from files with errors naming file/step/field; the importer's checks apply.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { validateGraph } from '../../src/core/dag';
import { formatImportIssue, ImportError } from '../../src/core/errors';
import { BUILTIN_TEMPLATES, findTemplate, templateSet } from '../../src/core/workflows/builtins';
import { expandTemplate, expansionMermaid, expansionTree } from '../../src/core/workflows/expand';
import { checkTemplate, readTemplate } from '../../src/core/workflows/template';
import { simulate } from '../../src/core/simulate';

const FIX = path.resolve(__dirname, '../fixtures/workflows');
const fixture = (n: string) => ({ name: n, text: fs.readFileSync(path.join(FIX, n), 'utf8') });
const byStep = (e: ReturnType<typeof expandTemplate>, step: string) => e.tickets.filter((t) => e.steps[t.id]!.step === step);

describe('workflow templates: built-ins', () => {
  it('has the seven built-ins', () => {
    assert.deepEqual(
      BUILTIN_TEMPLATES.map((t) => t.id),
      ['pipeline', 'spbr', 'bug', 'fanout', 'review', 'refine', 'hotfix'],
    );
  });
  for (const t of BUILTIN_TEMPLATES) {
    it(`${t.id} expands into a valid graph with roles, ids prefixed by the workflow id`, () => {
      const e = expandTemplate(t, { request: 'Login fails with + in the email' });
      assert.ok(e.tickets.length >= 2);
      assert.deepEqual(validateGraph(e.tickets), []);
      for (const x of e.tickets) {
        assert.ok(x.id.startsWith(`${e.workflowId}.`), x.id);
        assert.ok(x.role, `${x.id} has a role`);
        assert.ok(x.labels.includes(`workflow:${e.workflowId}`));
        assert.match(x.prompt, /Login fails with \+ in the email|\{request\}/);
        assert.doesNotMatch(x.title + x.prompt, /\{(request|item|round|workflow)\}/);
      }
      // Runs on the real scheduler in simulation.
      const sim = simulate(e.tickets, { agents: 3, mode: 'locking' });
      assert.deepEqual(sim.unscheduled, []);
    });
  }
  it('sequential pipeline is a chain', () => {
    const e = expandTemplate(findTemplate(templateSet(), 'pipeline'), { request: 'x', workflowId: 'p' });
    assert.deepEqual(
      e.tickets.map((t) => [t.id, t.dependsOn]),
      [
        ['p.design', []],
        ['p.implement', ['p.design']],
        ['p.test', ['p.implement']],
        ['p.review', ['p.test']],
      ],
    );
  });
  it('fan-out makes one ticket per part and fans in', () => {
    const e = expandTemplate(findTemplate(templateSet(), 'fanout'), { request: 'x', workflowId: 'f', params: { parts: 'api, web ui,db' } });
    assert.deepEqual(
      byStep(e, 'part').map((t) => t.id),
      ['f.part.api', 'f.part.web-ui', 'f.part.db'],
    );
    assert.deepEqual(byStep(e, 'integrate')[0]!.dependsOn, ['f.part.api', 'f.part.web-ui', 'f.part.db']);
    assert.match(byStep(e, 'part')[1]!.title, /Build web ui/);
  });
  it('multi-stage review: three reviewers in parallel before an approval gate', () => {
    const e = expandTemplate(findTemplate(templateSet(), 'review'), { request: 'x', workflowId: 'r' });
    const approve = byStep(e, 'approve')[0]!;
    assert.deepEqual(approve.dependsOn, ['r.security', 'r.performance', 'r.code']);
    assert.ok(approve.labels.includes('gate:approval'));
    assert.equal(byStep(e, 'security')[0]!.role, 'security');
    const sim = simulate(e.tickets, { agents: 3, mode: 'isolation' });
    const starts = sim.tickets.filter((t) => ['r.security', 'r.performance', 'r.code'].includes(t.id)).map((t) => t.start);
    assert.equal(new Set(starts).size, 1, 'the reviewers run at the same time');
  });
  it('iterative refinement: at most N rounds, each after the previous', () => {
    const t = findTemplate(templateSet(), 'refine');
    const e = expandTemplate(t, { request: 'x', workflowId: 'i', params: { rounds: '3' } });
    assert.deepEqual(
      e.tickets.map((x) => x.id),
      ['i.draft', 'i.critique.r1', 'i.critique.r2', 'i.critique.r3', 'i.revise.r1', 'i.revise.r2', 'i.revise.r3', 'i.final'],
    );
    assert.deepEqual(e.tickets.find((x) => x.id === 'i.critique.r2')!.dependsOn, ['i.draft', 'i.revise.r1']);
    assert.deepEqual(e.tickets.find((x) => x.id === 'i.final')!.dependsOn, ['i.revise.r3']);
    assert.match(e.tickets.find((x) => x.id === 'i.critique.r3')!.prompt, /Round 3 of at most 3/);
    // Labels let the orchestrator stop the loop when a review approves (core/workflows/loops.ts).
    assert.deepEqual(e.tickets.find((x) => x.id === 'i.critique.r2')!.labels.slice(-3), ['review-loop', 'round:2', 'loop-until-approved']);
    assert.deepEqual(e.tickets.find((x) => x.id === 'i.revise.r2')!.labels.slice(-2), ['review-loop', 'round:2']);
    assert.throws(() => expandTemplate(t, { request: 'x', params: { rounds: '11' } }), /rounds.*from 1 to 10/);
    assert.equal(expandTemplate(t, { request: 'x', params: { rounds: 1 }, workflowId: 'j' }).tickets.length, 4);
  });
  it('emergency fast-track is P0 with minimal gates', () => {
    const e = expandTemplate(findTemplate(templateSet(), 'hotfix'), { request: 'prod down' });
    assert.ok(e.tickets.every((t) => t.priority === 'P0' && t.labels.includes('gate:minimal')));
    assert.equal(e.tickets.length, 2);
  });
  it('a priority parameter applies to every step that does not fix its own', () => {
    const e = expandTemplate(findTemplate(templateSet(), 'bug'), { request: 'x', params: { priority: 'P1' } });
    assert.ok(e.tickets.every((t) => t.priority === 'P1'));
    assert.throws(
      () => expandTemplate(findTemplate(templateSet(), 'bug'), { request: 'x', params: { priority: 'urgent' } }),
      (err: unknown) => ImportError.is(err) && /priority/.test(err.message),
    );
  });
  it('workflow ids do not collide with existing tickets; dependencies on them are fine', () => {
    const e1 = expandTemplate(findTemplate(templateSet(), 'bug'), { request: 'x' });
    const e2 = expandTemplate(findTemplate(templateSet(), 'bug'), { request: 'y', existingIds: e1.tickets.map((t) => t.id) });
    assert.equal(e1.workflowId, 'bug1');
    assert.equal(e2.workflowId, 'bug2');
    assert.throws(
      () => expandTemplate(findTemplate(templateSet(), 'bug'), { request: 'y', workflowId: 'bug1', existingIds: e1.tickets.map((t) => t.id) }),
      /bug1\.reproduce/,
    );
  });
  it('an empty request and unknown parameters are refused, naming the field', () => {
    assert.throws(
      () => expandTemplate(findTemplate(templateSet(), 'bug'), { request: '  ' }),
      (err: unknown) => ImportError.is(err) && err.issues.some((i) => i.field === 'request'),
    );
    assert.throws(() => expandTemplate(findTemplate(templateSet(), 'bug'), { request: 'x', params: { rounds: '2' } }), /"rounds"|rounds/);
  });
  it('shows the expansion as a tree and a mermaid graph', () => {
    const e = expandTemplate(findTemplate(templateSet(), 'review'), { request: 'Add export', workflowId: 'rv' });
    const tree = expansionTree(e.tickets);
    assert.match(tree, /^rv\.build \[P2 developer 30m\] Build: Add export/);
    assert.match(tree, /rv\.approve .*\{gate:approval\} \(also after rv\.security, rv\.performance\)/);
    const g = expansionMermaid(e.tickets);
    assert.match(g, /^flowchart TD/);
    assert.match(g, /rv_security --> rv_approve/);
  });
});

describe('workflow templates: user files', () => {
  it('a user template from a file expands (forEach pairs item by item, custom role)', () => {
    const set = templateSet([fixture('docs-review.json')]);
    assert.deepEqual(set.issues, []);
    const t = findTemplate(set, 'docs-review');
    assert.equal(t.source, 'docs-review.json');
    const e = expandTemplate(t, { request: 'v2 docs', workflowId: 'd' });
    assert.deepEqual(e.tickets.find((x) => x.id === 'd.proofread.cli')!.dependsOn, ['d.write.cli']);
    assert.deepEqual(e.tickets.find((x) => x.id === 'd.tech')!.dependsOn, ['d.write.core', 'd.write.cli']);
    assert.equal(e.tickets.find((x) => x.id === 'd.publish')!.role, 'writer');
    assert.deepEqual(e.tickets.find((x) => x.id === 'd.write.core')!.files, ['docs/core.md']);
  });
  it('a broken template is left out with every problem named by file, step and field', () => {
    const set = templateSet([fixture('broken.json')]);
    assert.ok(!set.templates.some((t) => t.id === 'Broken Template'));
    const msgs = set.issues.map((i) => `${i.file}|${i.step ?? ''}|${i.field ?? ''}|${i.message}`);
    const has = (re: RegExp) =>
      assert.ok(
        msgs.some((m) => re.test(m)),
        `expected ${re} in\n${msgs.join('\n')}`,
      );
    has(/^broken\.json\|\|id\|/);
    has(/\|a\|dependOn\|unknown step field "dependOn" — did you mean "dependsOn"\?/);
    has(/\|a\|key\|"a" is used by two steps/);
    has(/\|a\|role\|"Not A Role" is not a role name/);
    has(/\|a\|dependsOn\|"nope" is not a step/);
    has(/\|a\|estimate\|/);
    has(/\|a\|title\|uses \{missing\}/);
    // Said as the user wrote it: a step, never a "ticket".
    const text = set.issues.map(formatImportIssue);
    assert.ok(
      text.includes(
        'broken.json: step a, field "dependOn": unknown step field "dependOn" — did you mean "dependsOn"?; known are key, title, prompt, role, priority, dependsOn, files, labels, estimate, agent, forEach',
      ),
      text.join('\n'),
    );
    assert.ok(!text.some((m) => /ticket/.test(m)), text.join('\n'));
  });
  it('errors name the field a placeholder or a loop problem is in, with the fix', () => {
    const tpl = {
      id: 'loopy',
      name: 'Loopy',
      parameters: { parts: { type: 'list', default: ['a'] } },
      steps: [
        { key: 'build', title: 'Build', prompt: 'Do {thing}', files: ['src/{where}/**'] },
        { key: 'check', title: 'Check {item}', forEach: 'parts', dependsOn: ['build'] },
      ],
      loop: { steps: ['check', 'nope'], rounds: 20, untilApproved: 'check', untilApprovedBy: 'build' },
    };
    const { issues } = checkTemplate(tpl, 'loopy.json');
    const text = issues.map(formatImportIssue);
    const has = (s: string) =>
      assert.ok(
        text.some((m) => m.startsWith(s)),
        `expected "${s}…" in\n${text.join('\n')}`,
      );
    has('loopy.json: step build, field "prompt": uses {thing}, which is not a parameter; declare it in "parameters"');
    has('loopy.json: step build, field "files": uses {where}');
    has('loopy.json: field "loop.untilApproved": unknown loop field "untilApproved" — did you mean "untilApprovedBy"?');
    has('loopy.json: field "loop.steps": "nope" is not a step of this template; name one of build, check');
    has('loopy.json: field "loop.rounds": must be a whole number from 1 to 10');
    has('loopy.json: step check, field "loop.steps": step "check" uses forEach');
    has('loopy.json: field "loop.untilApprovedBy": must name one of the loop\'s steps (check, nope)');
  });
  it('a problem found when the steps become tickets names the template file and the step', () => {
    const t = readTemplate(
      '.orchard/workflows/est.json',
      JSON.stringify({
        id: 'est',
        name: 'Est',
        parameters: { est: { default: 'soon' }, where: { default: '.git/hooks' } },
        steps: [{ key: 'build', title: 'Build {request}', estimate: '{est}', files: ['{where}/x'] }],
      }),
    );
    const text = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (ImportError.is(e)) return e.issues.map(formatImportIssue);
        throw e;
      }
      return [];
    };
    assert.deepEqual(
      text(() => expandTemplate(t, { request: 'x', workflowId: 'e' })),
      ['.orchard/workflows/est.json (workflow est): step build, field "estimate": {est} is "soon", not a number of minutes; pass --param with a number'],
    );
    const files = text(() => expandTemplate(t, { request: 'x', workflowId: 'e', params: { est: '5' } }));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^\.orchard\/workflows\/est\.json \(workflow est\): step build \(ticket e\.build\), field "files": .*\.git/);
  });
  it('a JSON syntax error names the line', () => {
    assert.throws(
      () => readTemplate('bad.json', '{\n  "id": "x",\n  oops\n}'),
      (err: unknown) => ImportError.is(err) && err.issues[0]!.line === 3,
    );
  });
  it('a user template may replace a built-in by id', () => {
    const mine = { ...findTemplate(templateSet(), 'hotfix'), name: 'Our hotfix', source: undefined };
    const set = templateSet([{ name: 'hotfix.json', text: JSON.stringify(mine) }]);
    assert.equal(findTemplate(set, 'hotfix').name, 'Our hotfix');
    assert.equal(set.templates.filter((t) => t.id === 'hotfix').length, 1);
  });
});
