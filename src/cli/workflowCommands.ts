// `orchard workflow …`, `orchard plan …`, `orchard proposal …`: templates, the planner and
// its pending proposals, headless. Registered in commands.ts.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { OrchardState, Settings } from '../core/model';
import { formatEta, predict } from '../core/predict';
import { BUILTIN_TEMPLATES, findTemplate, USER_TEMPLATE_DIR } from '../core/workflows/builtins';
import { loadTemplates } from '../infra/workflowFiles';
import { expandTemplate, expansionMermaid, expansionTree, type Expansion } from '../core/workflows/expand';
import type { ParamValue } from '../core/workflows/template';
import { formatImportIssue } from '../core/errors';
import { readConfig } from '../infra/config';
import { acceptProposal, describeProposal, listProposals, loadProposal, rejectProposal, runPlanner } from '../infra/planner';
import { agentLauncher, consoleLogger, locateRepo, openSession, type Session } from '../infra/session';
import { FileStateStore } from '../infra/store';
import type { CliIo } from './cliSupport';

export const WORKFLOW_HELP = `  orchard workflow list [--json]
  orchard workflow show TEMPLATE               the template as JSON (a start for your own in ${USER_TEMPLATE_DIR}/)
  orchard workflow expand TEMPLATE --request TEXT [--param K=V]... [--id WF] [--json|--mermaid]
  orchard workflow add TEMPLATE --request TEXT [--param K=V]... [--id WF]
  orchard plan GOAL [--agent PROFILE] [--accept] [--json]
  orchard proposal list | show ID | accept ID [--file EDITED.json] | reject ID`;

class WorkflowUsage extends Error {
  readonly reason = 'usage';
}

type Writer = Extract<Session, { role: 'writer' }>;

function params(list: string[] | undefined): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of list ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new WorkflowUsage(`--param takes NAME=VALUE (e.g. --param rounds=3 or --param parts=api,ui), got "${p}"`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

async function writer<T>(io: CliIo, fn: (s: Writer) => Promise<T>): Promise<T> {
  const s = await openSession({ cwd: io.cwd, owner: 'orchard CLI', distDir: io.distDir, log: consoleLogger(true) });
  try {
    if (s.role !== 'writer') throw new WorkflowUsage(s.message);
    return await fn(s);
  } finally {
    await s.close();
  }
}

function printExpansion(io: CliIo, e: Expansion): void {
  io.out(`${e.template} → workflow ${e.workflowId}: ${e.tickets.length} tickets\n`);
  io.out(expansionTree(e.tickets));
}

/** A line with the batch ETA (for `orchard status`). */
export function statusEta(state: OrchardState, settings: Pick<Settings, 'maxAgents' | 'mode' | 'overlapThreshold'>, now = Date.now()): string {
  const remaining = Object.values(state.tickets).some((t) => t.status !== 'done' && t.status !== 'cancelled' && t.status !== 'failed');
  if (!remaining) return '';
  const p = predict(state, now, { agents: settings.maxAgents, mode: settings.mode, overlapThreshold: settings.overlapThreshold });
  return `\nETA: ${formatEta(p, now)}${state.startsPaused ? `\nNew starts are paused: ${state.startsPaused}` : ''}`;
}

export async function runWorkflowCli(cmd: string, rest: string[], io: CliIo): Promise<number> {
  if (cmd === 'plan') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { agent: { type: 'string' }, accept: { type: 'boolean' }, json: { type: 'boolean' } },
    });
    const goal = positionals.join(' ').trim();
    if (!goal) throw new WorkflowUsage('plan needs a goal: orchard plan "Add login with email and password"');
    // Planning holds no writer lease (a VS Code window or `orchard run` keeps working meanwhile):
    // the planner reads the tickets as they are now and writes only its proposal.
    const paths = await locateRepo(io.cwd);
    mkdirSync(paths.stateDir, { recursive: true });
    const config = readConfig(paths.stateDir, paths.branch ?? 'main');
    const log = consoleLogger(true);
    const snapshot = await new FileStateStore(paths.stateDir, { readOnly: true }).load();
    const p = await runPlanner(
      {
        orchestrator: { snapshot, settings: config },
        launcher: agentLauncher(paths, config, { distDir: io.distDir, log }),
        paths,
        targetBranch: config.targetBranch,
        log,
      },
      goal,
      {
        ...(values.agent && { agent: values.agent }),
        onProposal: (e) => !values.json && io.out(e.ticket ? `  proposed ${e.ticket.id}: ${e.ticket.title}` : `  refused: ${e.problems?.join('; ')}`),
      },
    );
    if (values.json) io.out(JSON.stringify(p, null, 2));
    else io.out(describeProposal(p));
    if (!p.tickets.length) return 1;
    if (!values.accept) {
      io.out(`\nReview it, then: orchard proposal accept ${p.id}   (or edit a copy and pass --file; or reject)`);
      return 0;
    }
    // Accepting adds tickets: the writer lease only for that.
    const s = await openSession({ cwd: io.cwd, owner: 'orchard CLI', distDir: io.distDir, log });
    try {
      if (s.role !== 'writer') {
        io.err(`Proposal ${p.id} is saved as pending but not accepted: ${s.message}\nAccept it there, or later with: orchard proposal accept ${p.id}`);
        return 1;
      }
      const added = await acceptProposal({ orchestrator: s.orchestrator, paths: s.paths }, p.id);
      io.out(`accepted: added ${added.length} tickets (${added.map((t) => t.id).join(', ')}); start them with "orchard run"`);
      return 0;
    } finally {
      await s.close();
    }
  }
  if (cmd === 'proposal' || cmd === 'proposals') {
    const [sub = 'list', id, ...more] = rest;
    const paths = await locateRepo(io.cwd);
    if (sub === 'list') {
      const all = listProposals(paths.stateDir);
      if (all.length === 0) io.out('No proposals. Make one with: orchard plan "<goal>"');
      for (const p of all) io.out(`${p.id}  ${p.status.padEnd(8)} ${p.tickets.length} tickets  ${p.goal.split('\n')[0]}`);
      return 0;
    }
    if (!id) throw new WorkflowUsage(`proposal ${sub} needs a proposal id (see "orchard proposal list")`);
    if (sub === 'show') {
      io.out(describeProposal(loadProposal(paths.stateDir, id)));
      return 0;
    }
    if (sub === 'reject') {
      rejectProposal(paths.stateDir, id);
      io.out(`rejected ${id}`);
      return 0;
    }
    if (sub === 'accept') {
      const { values } = parseArgs({ args: more, options: { file: { type: 'string' } } });
      let edited: unknown;
      if (values.file) {
        const doc = JSON.parse(readFileSync(resolve(io.cwd, values.file), 'utf8')) as unknown;
        edited = Array.isArray(doc) ? doc : (doc as { tickets?: unknown }).tickets;
      }
      return writer(io, async (s) => {
        const added = await acceptProposal({ orchestrator: s.orchestrator, paths: s.paths }, id, edited);
        io.out(`accepted ${id}: added ${added.map((t) => t.id).join(', ')}`);
        return 0;
      });
    }
    throw new WorkflowUsage(`unknown proposal command "${sub}"; use list, show, accept or reject`);
  }
  // workflow …
  const [sub, ...args] = rest;
  const paths = await locateRepo(io.cwd);
  const set = loadTemplates(paths.repo);
  for (const i of set.issues) io.err(`warning: template left out: ${formatImportIssue(i)}`);
  switch (sub) {
    case undefined:
    case 'list': {
      const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
      if (values.json) io.out(JSON.stringify(set.templates, null, 2));
      else
        for (const t of set.templates) io.out(`${t.id.padEnd(10)} ${t.name} — ${t.description}${t.source && t.source !== 'built-in' ? ` [${t.source}]` : ''}`);
      return 0;
    }
    case 'show': {
      const t = findTemplate(set, args[0] ?? '');
      const { source: _s, ...file } = t;
      void _s;
      io.out(JSON.stringify(file, null, 2));
      return 0;
    }
    case 'expand':
    case 'add': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          request: { type: 'string' },
          param: { type: 'string', multiple: true },
          id: { type: 'string' },
          json: { type: 'boolean' },
          mermaid: { type: 'boolean' },
        },
      });
      const t = findTemplate(set, positionals[0] ?? '');
      if (!values.request) throw new WorkflowUsage(`workflow ${sub} needs --request "what to do"`);
      const opts = { request: values.request, params: params(values.param), ...(values.id && { workflowId: values.id }) };
      if (sub === 'expand') {
        const existing = existsSync(join(paths.stateDir, 'state.json'))
          ? Object.keys((JSON.parse(readFileSync(join(paths.stateDir, 'state.json'), 'utf8')) as OrchardState).tickets ?? {})
          : [];
        const e = expandTemplate(t, { ...opts, existingIds: existing });
        if (values.json) io.out(JSON.stringify(e, null, 2));
        else if (values.mermaid) io.out(expansionMermaid(e.tickets));
        else {
          printExpansion(io, e);
          const cfg = readConfig(paths.stateDir, paths.branch ?? 'main');
          const est = predict(
            {
              schema: 1,
              seq: 0,
              tickets: Object.fromEntries(e.tickets.map((x) => [x.id, { ...x, status: 'backlog' as const, createdAt: 0, attempts: 0 }])),
              runs: {},
              locks: [],
              lockGeneration: 0,
              escalations: {},
            },
            0,
            { agents: cfg.maxAgents, mode: cfg.mode },
          );
          io.out(
            `\nwith ${cfg.maxAgents} agents: about ${Math.round(est.remainingMs / 60_000)} min by the estimates. Add it with: orchard workflow add ${t.id} --request …`,
          );
        }
        return 0;
      }
      return writer(io, async (s) => {
        const e = expandTemplate(t, { ...opts, existingIds: Object.keys(s.orchestrator.snapshot.tickets) });
        await s.orchestrator.addTickets(e.tickets);
        printExpansion(io, e);
        io.out(`\nadded ${e.tickets.length} tickets; start them with "orchard run"`);
        return 0;
      });
    }
    default:
      throw new WorkflowUsage(`unknown workflow command "${sub}"; use list, show, expand or add (templates: ${BUILTIN_TEMPLATES.map((x) => x.id).join(', ')})`);
  }
}
