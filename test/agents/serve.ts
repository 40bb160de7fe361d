// A scripted model server for one CLI in a separate process, for tests outside the suite (the
// extension-host integration test of a real agent in VS Code's terminal):
//   node --import tsx test/agents/serve.ts <cli> <home>
// configures the CLI in <home>, prints one JSON line {url, env, bin} (env: what the CLI
// needs, bin: the folder of the pinned CLI), then serves until stdin closes or SIGTERM.
// Scripts: "[script VS-1]" first asks in words (a turn without changes), then, answered,
// writes greeting.txt with the answer's text and commits it.
import { mkdirSync } from 'node:fs';
import { startScriptServer } from './scriptServer';
import { cliBinDir, type Conformance } from './harness';
import { claudeConformance } from './claude.config';
import { codexConformance } from './codex.config';
import { geminiConformance } from './gemini.config';
import { copilotConformance } from './copilot.config';
import { opencodeConformance } from './opencode.config';

const all: Record<string, Conformance> = {
  claude: claudeConformance,
  codex: codexConformance,
  gemini: geminiConformance,
  copilot: copilotConformance,
  opencode: opencodeConformance,
};

async function main(): Promise<void> {
  const [cli = 'codex', home] = process.argv.slice(2);
  const conf = all[cli];
  if (!conf || !home) throw new Error('usage: serve.ts <claude|codex|gemini|copilot|opencode> <home>');
  mkdirSync(home, { recursive: true });
  const server = await startScriptServer({
    adapter: conf.adapter,
    script: {
      '[script VS-1]': {
        steps: [
          { text: 'Which greeting should greeting.txt hold?' },
          { shell: "printf 'hello\\n' > greeting.txt && git add greeting.txt && git commit -qm 'VS-1: greeting'" },
        ],
        finalText: 'greeting.txt is committed.',
      },
    },
  });
  const env = conf.configure(home, server.url);
  process.stdout.write(`${JSON.stringify({ url: server.url, env, bin: cliBinDir(cli) })}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`serve: ${(e as Error).message}\n`);
  process.exit(1);
});
