// The built-in workflow templates (same format as user templates in .orchard/workflows/).
// Gate labels: gate:review (a reviewer approves before dependents start), gate:approval
// (the final sign-off: the reviewer asks the human), gate:tests, gate:minimal (fast-track).
import { ImportError, type ImportIssue } from '../errors';
import { checkTemplate, readTemplate, type WorkflowTemplate } from './template';

const REQUEST = { request: { description: 'what the workflow should achieve', required: true } } as const;

export const BUILTIN_TEMPLATES: readonly WorkflowTemplate[] = [
  {
    id: 'pipeline',
    name: 'Sequential pipeline',
    description: 'Design → implement → test → review, one after the other.',
    parameters: { ...REQUEST },
    steps: [
      {
        key: 'design',
        title: 'Design: {request}',
        prompt: 'Design the change for: {request}\nWrite the design to docs/design/{workflow}.md.',
        role: 'architect',
        estimate: 15,
      },
      {
        key: 'implement',
        title: 'Implement: {request}',
        prompt: 'Implement: {request}\nFollow the design in docs/design/{workflow}.md.',
        role: 'developer',
        dependsOn: ['design'],
        estimate: 30,
      },
      {
        key: 'test',
        title: 'Test: {request}',
        prompt: 'Write and run tests for: {request}',
        role: 'tester',
        dependsOn: ['implement'],
        labels: ['gate:tests'],
        estimate: 20,
      },
      {
        key: 'review',
        title: 'Review: {request}',
        prompt: 'Review the change for: {request}',
        role: 'reviewer',
        dependsOn: ['test'],
        labels: ['gate:review'],
        estimate: 10,
      },
    ],
  },
  {
    id: 'spbr',
    name: 'Scout – plan – build – review',
    description: 'A scout maps the code, a planner writes the plan, a developer builds it, a reviewer checks it.',
    parameters: { ...REQUEST },
    steps: [
      {
        key: 'scout',
        title: 'Scout: {request}',
        prompt: 'Find the files and code paths relevant to: {request}\nWrite what you found to docs/scout/{workflow}.md; do not change code.',
        role: 'architect',
        estimate: 10,
      },
      {
        key: 'plan',
        title: 'Plan: {request}',
        prompt: 'Using docs/scout/{workflow}.md, write a step-by-step plan for: {request}\nSave it as docs/plans/{workflow}.md.',
        role: 'architect',
        dependsOn: ['scout'],
        estimate: 15,
      },
      {
        key: 'build',
        title: 'Build: {request}',
        prompt: 'Implement docs/plans/{workflow}.md: {request}',
        role: 'developer',
        dependsOn: ['plan'],
        estimate: 40,
      },
      {
        key: 'review',
        title: 'Review: {request}',
        prompt: 'Review the build of: {request} against docs/plans/{workflow}.md',
        role: 'reviewer',
        dependsOn: ['build'],
        labels: ['gate:review'],
        estimate: 15,
      },
    ],
  },
  {
    id: 'bug',
    name: 'Bug workflow',
    description: 'Reproduce with a failing test → fix → verify → review.',
    parameters: { ...REQUEST },
    steps: [
      {
        key: 'reproduce',
        title: 'Reproduce: {request}',
        prompt: 'Write a failing test that reproduces the bug: {request}\nDo not fix it.',
        role: 'tester',
        estimate: 15,
      },
      {
        key: 'fix',
        title: 'Fix: {request}',
        prompt: 'Fix the bug so the reproducing test passes: {request}',
        role: 'developer',
        dependsOn: ['reproduce'],
        estimate: 25,
      },
      {
        key: 'verify',
        title: 'Verify: {request}',
        prompt: 'Run the whole test suite and check the fix of: {request}; add edge-case tests.',
        role: 'tester',
        dependsOn: ['fix'],
        labels: ['gate:tests'],
        estimate: 10,
      },
      {
        key: 'review',
        title: 'Review fix: {request}',
        prompt: 'Review the fix of: {request}',
        role: 'reviewer',
        dependsOn: ['verify'],
        labels: ['gate:review'],
        estimate: 10,
      },
    ],
  },
  {
    id: 'fanout',
    name: 'Fan-out / fan-in',
    description: 'One plan, one developer per part in parallel, then one integration and a review.',
    parameters: { ...REQUEST, parts: { description: 'the parts to build in parallel (comma-separated)', type: 'list', default: ['api', 'ui', 'tests'] } },
    steps: [
      {
        key: 'plan',
        title: 'Plan: {request}',
        prompt: 'Split {request} into the parts {parts}; write the interfaces between them to docs/plans/{workflow}.md.',
        role: 'architect',
        estimate: 15,
      },
      {
        key: 'part',
        title: 'Build {item}: {request}',
        prompt: 'Build the {item} part of: {request}\nFollow docs/plans/{workflow}.md; touch only the {item} part.',
        role: 'developer',
        dependsOn: ['plan'],
        forEach: 'parts',
        estimate: 30,
      },
      {
        key: 'integrate',
        title: 'Integrate: {request}',
        prompt: 'Integrate the parts {parts} of: {request}; make the whole work together.',
        role: 'developer',
        dependsOn: ['part'],
        estimate: 20,
      },
      {
        key: 'review',
        title: 'Review: {request}',
        prompt: 'Review the integrated change for: {request}',
        role: 'reviewer',
        dependsOn: ['integrate'],
        labels: ['gate:review'],
        estimate: 15,
      },
    ],
  },
  {
    id: 'review',
    name: 'Multi-stage review',
    description: 'Build, then security, performance and code reviewers in parallel, then an approval gate.',
    parameters: { ...REQUEST },
    steps: [
      { key: 'build', title: 'Build: {request}', prompt: '{request}', role: 'developer', estimate: 30 },
      {
        key: 'security',
        title: 'Security review: {request}',
        prompt: 'Review the change for security problems: {request}',
        role: 'security',
        dependsOn: ['build'],
        labels: ['gate:security'],
        estimate: 15,
      },
      {
        key: 'performance',
        title: 'Performance review: {request}',
        prompt: 'Review the change for performance problems: {request}',
        role: 'reviewer',
        dependsOn: ['build'],
        labels: ['gate:performance'],
        estimate: 15,
      },
      {
        key: 'code',
        title: 'Code review: {request}',
        prompt: 'Review the code of the change: {request}',
        role: 'reviewer',
        dependsOn: ['build'],
        labels: ['gate:review'],
        estimate: 15,
      },
      {
        key: 'approve',
        title: 'Approve: {request}',
        prompt:
          'Read the three reviews of: {request}\nSummarise them and ask the human for the final approval with `orchard-agent escalate "Approve {workflow}?" --option approve --option reject`.',
        role: 'reviewer',
        dependsOn: ['security', 'performance', 'code'],
        labels: ['gate:approval'],
        estimate: 5,
      },
    ],
  },
  {
    id: 'refine',
    name: 'Iterative refinement',
    description: 'A draft, then review → revise rounds (at most {rounds}; the first approving review ends them), then a final check.',
    parameters: { ...REQUEST, rounds: { description: 'most review rounds', type: 'number', default: 2 } },
    steps: [
      { key: 'draft', title: 'Draft: {request}', prompt: 'Write a first version of: {request}', role: 'developer', estimate: 30 },
      {
        key: 'critique',
        title: 'Review round {round}: {request}',
        prompt:
          'Review the current version of: {request}\nWrite concrete findings to docs/reviews/{workflow}-{round}.md and finish with `orchard-agent done "VERDICT: REJECT: <the main finding>"`.\nIf nothing is left, write APPROVED there and finish with `orchard-agent done "VERDICT: APPROVE"`: the remaining rounds are then skipped.',
        role: 'reviewer',
        dependsOn: ['draft'],
        labels: ['gate:review'],
        estimate: 10,
      },
      {
        key: 'revise',
        title: 'Revise round {round}: {request}',
        prompt: 'Address the findings in docs/reviews/{workflow}-{round}.md for: {request}',
        role: 'developer',
        dependsOn: ['critique'],
        estimate: 15,
      },
      {
        key: 'final',
        title: 'Final check: {request}',
        prompt: 'Run the tests and check that every review finding of {request} is addressed.',
        role: 'tester',
        dependsOn: ['revise'],
        labels: ['gate:tests'],
        estimate: 10,
      },
    ],
    loop: { steps: ['critique', 'revise'], rounds: '{rounds}', untilApprovedBy: 'critique' },
  },
  {
    id: 'hotfix',
    name: 'Emergency fast-track',
    description: 'P0: fix now, smoke-test, nothing else in the way (minimal gates).',
    parameters: { ...REQUEST },
    steps: [
      {
        key: 'fix',
        title: 'HOTFIX: {request}',
        prompt: 'Emergency: {request}\nMake the smallest safe fix.',
        role: 'developer',
        priority: 'P0',
        labels: ['gate:minimal', 'emergency'],
        estimate: 15,
      },
      {
        key: 'smoke',
        title: 'Smoke test: {request}',
        prompt: 'Run the smoke tests for the hotfix of: {request}',
        role: 'tester',
        priority: 'P0',
        dependsOn: ['fix'],
        labels: ['gate:minimal', 'emergency'],
        estimate: 5,
      },
    ],
  },
];

// Built-ins are checked like user files (a broken built-in is a bug caught by the tests).
for (const t of BUILTIN_TEMPLATES) {
  const { issues } = checkTemplate(t, `built-in ${t.id}`);
  if (issues.length) throw new ImportError(issues);
}

export interface TemplateSet {
  templates: WorkflowTemplate[];
  /** Problems in user template files (those files are left out). */
  issues: ImportIssue[];
}

/** Built-ins plus user templates (files from .orchard/workflows/); a user template may replace a built-in by id. */
export function templateSet(userFiles: ReadonlyArray<{ name: string; text: string }> = []): TemplateSet {
  const byId = new Map<string, WorkflowTemplate>(BUILTIN_TEMPLATES.map((t) => [t.id, { ...t, source: 'built-in' }]));
  const issues: ImportIssue[] = [];
  for (const f of userFiles) {
    try {
      const t = readTemplate(f.name, f.text);
      byId.set(t.id, t);
    } catch (e) {
      if (ImportError.is(e)) issues.push(...e.issues);
      else throw e;
    }
  }
  return { templates: [...byId.values()], issues };
}

export function findTemplate(set: TemplateSet, id: string): WorkflowTemplate {
  const t = set.templates.find((x) => x.id === id);
  if (!t)
    throw new ImportError([
      { file: 'workflow', field: 'template', message: `there is no workflow template "${id}"; templates are ${set.templates.map((x) => x.id).join(', ')}` },
    ]);
  return t;
}

/** Where user templates live in a repository. */
export const USER_TEMPLATE_DIR = '.orchard/workflows';
