// `orchard init`, `add` and `import`: set Orchard up in a repository and give it tickets
// (through the same ticket intake as VS Code, infra/ticketIntake.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PRIORITIES } from '../core/model';
import { defaultConfig, readConfig, validateConfig, writeConfig } from '../infra/config';
import { locateRepo } from '../infra/session';
import { addTicket, importTicketFiles } from '../infra/ticketIntake';
import { int, list, mode, UsageError, withSession, type CliIo } from './cliSupport';

/** orchard init: writes (or updates) .git/orchard/config.json. */
export async function initCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      agents: { type: 'string' },
      mode: { type: 'string' },
      agent: { type: 'string' },
      target: { type: 'string' },
      'test-command': { type: 'string' },
    },
  });
  const paths = await locateRepo(io.cwd);
  mkdirSync(paths.stateDir, { recursive: true });
  const current = existsSync(join(paths.stateDir, 'config.json')) ? readConfig(paths.stateDir, paths.branch ?? 'main') : defaultConfig(paths.branch ?? 'main');
  let testCommand = current.testCommand;
  if (values['test-command'] !== undefined) {
    try {
      testCommand = JSON.parse(values['test-command']) as string[];
    } catch {
      throw new UsageError(`--test-command takes a JSON argv array such as '["npm","test"]'`);
    }
  }
  const config = validateConfig(
    {
      ...current,
      ...(values.agents !== undefined && { maxAgents: int('agents', values.agents, 1, 64) }),
      ...(values.mode !== undefined && { mode: mode(values.mode) }),
      ...(values.agent !== undefined && { defaultAgent: values.agent }),
      ...(values.target !== undefined && { targetBranch: values.target }),
      testCommand,
    },
    '--options',
  );
  writeConfig(paths.stateDir, config);
  io.out(
    `Orchard is set up in ${paths.repo}\n  state: ${paths.stateDir}\n  target branch: ${config.targetBranch}, ${config.maxAgents} agents, ${config.mode} mode, default agent ${config.defaultAgent}`,
  );
  return 0;
}

/** orchard add: one ticket typed on the command line. */
export async function addCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      id: { type: 'string' },
      title: { type: 'string' },
      prompt: { type: 'string' },
      priority: { type: 'string' },
      depends: { type: 'string' },
      files: { type: 'string' },
      labels: { type: 'string' },
      agent: { type: 'string' },
      estimate: { type: 'string' },
    },
  });
  if (!values.title) throw new UsageError('add needs --title TEXT');
  if (values.priority && !PRIORITIES.includes(values.priority as never)) throw new UsageError(`--priority must be one of ${PRIORITIES.join(', ')}`);
  return withSession(io, {}, async (s) => {
    const ticket = await addTicket(
      { orchestrator: s.orchestrator, repo: s.paths.repo },
      {
        ...(values.id && { id: values.id }),
        title: values.title!,
        ...(values.prompt && { prompt: values.prompt }),
        ...(values.priority && { priority: values.priority }),
        dependsOn: list(values.depends),
        files: list(values.files),
        labels: list(values.labels),
        ...(values.agent && { agent: values.agent }),
        ...(values.estimate && { estimate: Number(values.estimate) }),
      },
      'orchard add',
    );
    io.out(`added ${ticket.id}: ${ticket.title}`);
    return 0;
  });
}

/** orchard import: tickets.json or ws-*.json files. */
export async function importCommand(rest: string[], io: CliIo): Promise<number> {
  if (rest.length === 0) throw new UsageError('import needs at least one file: orchard import tickets.json');
  const files = rest.map((f) => {
    const p = resolve(io.cwd, f);
    if (!existsSync(p)) throw new UsageError(`${f}: no such file`);
    return { name: basename(p), text: readFileSync(p, 'utf8') };
  });
  return withSession(io, {}, async (s) => {
    const tickets = await importTicketFiles({ orchestrator: s.orchestrator, repo: s.paths.repo }, files);
    io.out(`imported ${tickets.length} tickets: ${tickets.map((t) => t.id).join(', ')}`);
    return 0;
  });
}
