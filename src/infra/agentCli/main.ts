// orchard-agent: the command an agent uses to talk back to Orchard. It is put on the agent's
// PATH by the launcher and bound to one run through ORCHARD_RUN_DIR and ORCHARD_TOKEN.
//   orchard-agent progress <0-100> [message]
//   orchard-agent escalate <question> [--option <text>]... [--trigger <kind>]
//       blocks until the human answers, then prints the answer for the agent to read
//   orchard-agent done [message]
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function fail(message: string, code = 2): never {
  process.stderr.write(`orchard-agent: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const runDir = process.env.ORCHARD_RUN_DIR;
  const token = process.env.ORCHARD_TOKEN;
  if (!runDir || !token) fail('not inside an Orchard run (ORCHARD_RUN_DIR and ORCHARD_TOKEN are not set)');
  const [verb, ...rest] = process.argv.slice(2);
  const at = Date.now();
  switch (verb) {
    case 'progress': {
      const pct = Number(rest[0]);
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) fail(`progress takes a number from 0 to 100, got "${rest[0] ?? ''}"`);
      appendFileSync(join(runDir, 'progress.jsonl'), JSON.stringify({ at, token, progress: pct, message: rest.slice(1).join(' ') || undefined }) + '\n');
      return;
    }
    case 'done':
      appendFileSync(join(runDir, 'progress.jsonl'), JSON.stringify({ at, token, progress: 100, message: rest.join(' ') || 'done', done: true }) + '\n');
      return;
    case 'escalate': {
      const options: string[] = [];
      let trigger = 'input-needed';
      const words: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--option') options.push(rest[++i] ?? '');
        else if (rest[i] === '--trigger') trigger = rest[++i] ?? trigger;
        else words.push(rest[i]!);
      }
      const question = words.join(' ').trim();
      if (!question) fail('escalate needs a question: orchard-agent escalate "Which database?" --option Postgres --option SQLite');
      const id = `esc-${at}`;
      writeFileSync(join(runDir, `${id}.question.json`), JSON.stringify({ id, at, token, trigger, question, options }));
      const answerFile = join(runDir, `${id}.answer.json`);
      while (!existsSync(answerFile)) await new Promise((r) => setTimeout(r, 250));
      const answer = JSON.parse(readFileSync(answerFile, 'utf8')) as { option?: string; guidance?: string };
      process.stdout.write([answer.option, answer.guidance].filter(Boolean).join('\n') + '\n');
      return;
    }
    default:
      fail(`unknown command "${verb ?? ''}"; use progress, escalate or done`);
  }
}

void main();
