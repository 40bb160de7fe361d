// The headless `orchard` command: the help text and the table of subcommands. Each
// subcommand lives with its area: ticketCommands (init, add, import), runCommand (run),
// stateCommands (status, escalations, report, simulate), answerCommands (answer, resolve,
// worktrees), reviewCommands, workflowCommands.
import { errorText } from '../core/errors';
import { ImportError } from '../core/importers';
import { answerCommand, resolveCommand, worktreesCommand } from './answerCommands';
import { UsageError, type CliIo } from './cliSupport';
import { REVIEW_HELP, runReviewCli } from './reviewCommands';
import { runBatchCommand } from './runCommand';
import { escalationsCommand, reportCommand, simulateCommand, statusCommand } from './stateCommands';
import { addCommand, importCommand, initCommand } from './ticketCommands';
import { runWorkflowCli, WORKFLOW_HELP } from './workflowCommands';

export { UsageError, type CliIo } from './cliSupport';
export { printEvents } from './runCommand';

const HELP = `orchard — run AI coding agents in parallel worktrees

usage:
  orchard init [--agents N] [--mode queue|locking|isolation] [--agent PROFILE] [--target BRANCH] [--test-command ARGV_JSON]
  orchard add --title TEXT [--id ID] [--prompt TEXT] [--priority P0..P3] [--depends ID,ID] [--files GLOB,GLOB] [--agent PROFILE] [--estimate MIN]
  orchard import FILE...            tickets.json or ws-*.json workstream files
  orchard run [--agents N] [--mode M] [--agent PROFILE] [--terminal tmux]
                                    --terminal tmux: each agent's interactive UI in a tmux session
                                    (tmux -L orchard attach -t orchard-T1); Ctrl-C stops the agents
                                    within seconds, and the next "orchard run" resumes the batch
  orchard escalations [--json]      the questions waiting for you
  orchard answer ID (--option TEXT | --text TEXT)...   answers one (also while "orchard run" runs)
  orchard status [--json]
  orchard worktrees [--reclaim] [--confirm]   list worktrees/branches (disk shown); reclaim merged ones, --confirm also unmerged (commits archived)
  orchard report [--out FILE]
  orchard resolve TICKET open|continue|send-back|keep|discard|merge-now|stash-and-update [--yes]
                                    the ways out of a conflict or a dirty checkout
  orchard simulate FILE --agents K [--mode M] [--policy orchard|wave|fifo] [--json]
${REVIEW_HELP}
${WORKFLOW_HELP}
`;

type Subcommand = (rest: string[], io: CliIo) => Promise<number>;

const SUBCOMMANDS = new Map<string, Subcommand>([
  ['init', initCommand],
  ['add', addCommand],
  ['import', importCommand],
  ['run', runBatchCommand],
  ['escalations', escalationsCommand],
  ['answer', answerCommand],
  ['worktrees', worktreesCommand],
  ['status', statusCommand],
  ['report', reportCommand],
  ['resolve', resolveCommand],
  ['simulate', simulateCommand],
  ['review', runReviewCli],
  ...['workflow', 'plan', 'proposal', 'proposals'].map((cmd): [string, Subcommand] => [cmd, (rest, io) => runWorkflowCli(cmd, rest, io)]),
]);

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(HELP);
    return 0;
  }
  const subcommand = SUBCOMMANDS.get(cmd);
  if (!subcommand) throw new UsageError(`unknown command "${cmd}"\n${HELP}`);
  return subcommand(rest, io);
}

export function describeError(e: unknown): string {
  if (ImportError.is(e)) return e.message;
  return errorText(e);
}
