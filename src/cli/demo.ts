// `npm run demo`: a real headless orchestration. It makes a sample repository in a temp
// folder, imports a small ticket graph (two chains and a fan-in), runs Orchard with three
// scripted agents in real worktrees, merges their branches into main one at a time, and
// prints a summary and the report.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { formatDuration, summarize } from '../core/report';
import { writeReportFiles } from '../infra/reportFiles';
import { runGitSync } from '../infra/git/run';
import { printEvents, runCli } from './commands';
import { consoleLogger, openSession } from '../infra/session';

const SAMPLE_FILES: Record<string, string> = {
  'README.md': '# Sample shop\n\nA tiny repository for the Orchard demo.\n',
  'src/api/server.js': 'export const routes = [];\n',
  'src/ui/app.js': 'export const pages = [];\n',
  'docs/CHANGES.md': '# Changes\n',
};

const TICKETS = {
  tickets: [
    {
      id: 'API-1',
      title: 'Add the products endpoint',
      prompt: 'Add GET /products to the API.',
      priority: 'P1',
      files: ['src/api/products.js'],
      estimate: 40,
      agent: 'fake',
    },
    {
      id: 'API-2',
      title: 'Add the orders endpoint',
      prompt: 'Add POST /orders, using the products endpoint.\n@review-reject-once Validate the order quantity before saving.',
      priority: 'P1',
      dependsOn: ['API-1'],
      files: ['src/api/orders.js'],
      labels: ['security'],
      estimate: 50,
      agent: 'fake',
    },
    {
      id: 'UI-1',
      title: 'Product list page',
      prompt: 'Show the products in a list.',
      priority: 'P2',
      files: ['src/ui/products.js'],
      estimate: 30,
      agent: 'fake',
    },
    {
      id: 'UI-2',
      title: 'Checkout page',
      prompt: 'A checkout page that posts an order.\n@ask Should checkout require a login?',
      priority: 'P2',
      dependsOn: ['UI-1'],
      files: ['src/ui/checkout.js'],
      estimate: 40,
      agent: 'fake',
    },
    {
      id: 'DOC-1',
      title: 'Document the API',
      prompt: 'Write docs for the API; mention `$(whoami)` and ; rm -rf ~ as plain text.',
      priority: 'P3',
      files: ['docs/api.md'],
      estimate: 20,
      agent: 'fake',
    },
    {
      id: 'INT-1',
      title: 'Wire checkout to the orders API',
      prompt: 'Connect the checkout page to POST /orders.',
      priority: 'P1',
      dependsOn: ['API-2', 'UI-2'],
      files: ['src/ui/wiring.js'],
      estimate: 30,
      agent: 'fake',
    },
    {
      id: 'REL-1',
      title: 'Release notes',
      prompt: 'Summarise the changes.',
      priority: 'P2',
      dependsOn: ['INT-1', 'DOC-1'],
      files: ['docs/CHANGES.md'],
      estimate: 10,
      agent: 'fake',
    },
  ],
};

// Gate commands are argv arrays (node -e), never shell strings.
/** lint: every changed file under src/ ends with a newline. */
const LINT = `const cp=require('child_process');const fs=require('fs');const base=cp.execFileSync('git',['merge-base','HEAD','main']).toString().trim();const files=cp.execFileSync('git',['diff','--name-only',base,'HEAD']).toString().split('\\n').filter((f)=>f.startsWith('src/')&&fs.existsSync(f));const bad=files.filter((f)=>!fs.readFileSync(f,'utf8').endsWith('\\n'));console.log('lint: '+files.length+' files checked');if(bad.length){console.log('missing final newline: '+bad.join(', '));process.exit(1)}`;
/** secret-scan: no AWS-style keys in the tree. */
const SECRET_SCAN = `const cp=require('child_process');const out=cp.spawnSync('git',['grep','-nE','AKIA[0-9A-Z]{16}']).stdout.toString();if(out){console.log(out);process.exit(1)}console.log('secret-scan: no secrets found')`;
/** The post-merge test: no conflict markers anywhere in the merged tree. */
const POST_MERGE_TEST = `const out=require('child_process').spawnSync('git',['grep','-nE','^(<<<<<<<|>>>>>>>) ']).stdout.toString();if(out){console.log(out);process.exit(1)}console.log('post-merge: no conflict markers')`;

function sh(cwd: string, ...args: string[]): string {
  const demo = { GIT_AUTHOR_NAME: 'Demo', GIT_AUTHOR_EMAIL: 'demo@localhost', GIT_COMMITTER_NAME: 'Demo', GIT_COMMITTER_EMAIL: 'demo@localhost' };
  return runGitSync(args, { cwd, env: demo, asUser: true }).stdout;
}

async function main(): Promise<number> {
  const distDir = dirname(__filename);
  const root = mkdtempSync(join(tmpdir(), 'orchard-demo-'));
  const repo = join(root, 'sample-shop');
  mkdirSync(repo);
  sh(repo, 'init', '-q', '-b', 'main');
  for (const [p, text] of Object.entries(SAMPLE_FILES)) {
    mkdirSync(dirname(join(repo, p)), { recursive: true });
    writeFileSync(join(repo, p), text);
  }
  sh(repo, 'add', '-A');
  sh(repo, 'commit', '-q', '-m', 'Sample shop');
  writeFileSync(join(root, 'tickets.json'), JSON.stringify(TICKETS, null, 2));

  const out = (s: string) => console.log(s);
  const io = { out, err: (s: string) => console.error(s), cwd: repo, distDir };
  out(`Orchard demo — sample repository at ${repo}\n`);
  await runCli(['init', '--agents', '3', '--agent', 'fake'], io);
  await runCli(['import', join(root, 'tickets.json')], io);
  out('\nRunning 7 tickets with 3 scripted agents (each in its own worktree, merged one at a time):\n');

  // The scripted agents work ~60 ms per estimated minute, so the batch takes a few seconds.
  // Gates: a lint command on every ticket, a secret scan required for tickets labelled
  // "security", and a reviewer agent on the API (it rejects API-2 once: the feedback goes back
  // to the developer agent, whose second attempt is approved).
  const node = process.execPath;
  const gates = [
    { name: 'lint', kind: 'command' as const, argv: [node, '-e', LINT], timeoutSeconds: 30 },
    { name: 'secret-scan', kind: 'command' as const, argv: [node, '-e', SECRET_SCAN], labels: ['never'], timeoutSeconds: 30 },
    { name: 'review', kind: 'reviewer' as const, agent: 'fake', files: ['src/api/**'], timeoutSeconds: 60 },
  ];
  out('Gates: lint (every ticket), secret-scan (required for label "security"), review (a reviewer agent for src/api/**)\n');
  const session = await openSession({
    cwd: repo,
    owner: 'orchard demo',
    distDir,
    log: consoleLogger(true),
    agentEnv: { ORCHARD_FAKE_MS_PER_MINUTE: process.env.ORCHARD_FAKE_MS_PER_MINUTE ?? '60' },
    config: { gates, requiredGatesByLabel: { security: ['secret-scan'] }, reviewerRounds: 2, testCommand: [node, '-e', POST_MERGE_TEST] },
  });
  if (session.role !== 'writer') throw new Error(session.message);
  const o = session.orchestrator;
  printEvents(o, out);
  // The demo plays the human: questions from agents are answered after a short pause.
  o.onDidChange(({ events }) => {
    for (const e of events) {
      if (e.type !== 'escalation-raised') continue;
      setTimeout(
        () =>
          void o.answer(e.escalation.id, {
            option: e.escalation.options[0],
            guidance: 'Guests may check out too; offer login after payment.',
            by: 'human:demo',
          }),
        800,
      );
    }
  });
  await o.start();
  await o.whenIdle();
  const state = o.snapshot;
  const sum = summarize(state, Date.now());
  const report = writeReportFiles(state, Date.now(), 3, join(root, 'orchard-report.md'));
  await session.close();

  out('\nmain after the batch:');
  out(sh(repo, 'log', '--oneline', '--graph', '--first-parent', 'main').trimEnd());
  out(`\nSummary: ${sum.done}/${sum.tickets} tickets merged, ${sum.failed} failed, ${sum.retries} retries`);
  out(`  wall time ${formatDuration(sum.wallMs)}, agent time ${formatDuration(sum.agentMs)} → speedup over sequential ${sum.speedup.toFixed(2)}×`);
  out(`  report: ${report.markdown}\n  dashboard snapshot: ${report.html}`);
  out(`  worktrees: ${repo}.orchard/worktrees/`);
  const merged = sh(repo, 'ls-tree', '-r', '--name-only', 'main')
    .split('\n')
    .filter((f) => f.startsWith('src/') || f.startsWith('docs/'));
  out(`  files on main: ${merged.join(', ')}`);
  const gateRuns = Object.values(state.runs).flatMap((r) => r.gates ?? []);
  const mergeAttempts = Object.values(state.runs).flatMap((r) => r.merges ?? []);
  out(
    `  gates: ${gateRuns.length} runs (${
      gateRuns
        .filter((g) => !g.passed)
        .map((g) => `${g.name} ${g.status}`)
        .join(', ') || 'all passed'
    }); merge queue: ${mergeAttempts.filter((m) => m.result === 'merged').length} merged in ${mergeAttempts.length} attempts`,
  );
  return sum.done === sum.tickets ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`demo failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  },
);
