// Entry point of the `orchard` command.
import { dirname } from 'node:path';
import { describeError, runCli } from './commands';

/** Exits once stdout and stderr are flushed: into a pipe, process.exit() would cut long output (status --json). */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

runCli(process.argv.slice(2), {
  out: (s) => console.log(s),
  err: (s) => console.error(s),
  cwd: process.cwd(),
  distDir: dirname(__filename),
}).then(exitAfterFlush, (e) => {
  console.error(`orchard: ${describeError(e)}`);
  exitAfterFlush(2);
});
