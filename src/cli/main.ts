// Entry point of the `orchard` command.
import { dirname } from 'node:path';
import { describeError, runCli } from './commands';

runCli(process.argv.slice(2), {
  out: (s) => console.log(s),
  err: (s) => console.error(s),
  cwd: process.cwd(),
  distDir: dirname(__filename),
}).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`orchard: ${describeError(e)}`);
    process.exit(2);
  },
);
