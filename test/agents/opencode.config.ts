// OpenCode against the scripted server: what a user with a custom OpenAI-compatible provider
// already has in $XDG_CONFIG_HOME/opencode/opencode.json. Nothing Orchard-specific here (that
// comes from src/infra/agents/clis/opencode.ts).
import { execFileSync } from 'node:child_process';
import { cliBinDir } from './harness';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeChatCompletionsAdapter } from './protocols/chatCompletions';

/** provider/model as OpenCode's --model takes it. */
export const OPENCODE_VERSION = '1.18.33';
export const OPENCODE_PROVIDER = 'orchard-test';
export const OPENCODE_MODEL_ID = 'gpt-4.1-orchard-test';
export const OPENCODE_TEST_MODEL = `${OPENCODE_PROVIDER}/${OPENCODE_MODEL_ID}`;

export function opencodeConfig(serverUrl: string): Record<string, unknown> {
  return {
    $schema: 'https://opencode.ai/config.json',
    model: OPENCODE_TEST_MODEL,
    // The title agent would otherwise look for a small model of another provider.
    small_model: OPENCODE_TEST_MODEL,
    // No update checks (offline like the test machine) and no session sharing.
    autoupdate: false,
    share: 'disabled',
    provider: {
      [OPENCODE_PROVIDER]: {
        // Bundled in the binary: nothing is downloaded.
        npm: '@ai-sdk/openai-compatible',
        name: 'Orchard test server',
        options: { baseURL: `${serverUrl}/v1`, apiKey: 'sk-orchard-test', includeUsage: true },
        models: {
          [OPENCODE_MODEL_ID]: {
            name: 'Orchard test model',
            tool_call: true,
            attachment: false,
            reasoning: false,
            temperature: true,
            limit: { context: 128000, output: 8192 },
          },
        },
      },
    },
  };
}

export const opencodeConformance = {
  cli: 'opencode',
  // OpenCode retries a 429 or 5xx itself, 5 times (not configurable in 1.18.33: SessionRetry's
  // RETRY_MAX_RETRIES), waiting what retry-after / retry-after-ms say, else 2 s × 2^n (about
  // 70 s in all before `opencode run` exits 1). The 503 "overloaded" here carries
  // `retry-after: 1` as the 429 does, so a test that uses the retries up takes seconds.
  adapter: makeChatCompletionsAdapter({ overloadedRetryAfter: '1' }),
  configure(home: string, serverUrl: string): Record<string, string> {
    const xdgConfig = join(home, '.config');
    const dir = join(xdgConfig, 'opencode');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'opencode.json'), JSON.stringify(opencodeConfig(serverUrl), null, 2) + '\n');
    // OpenCode npm-installs @opencode-ai/plugin (for plugins' type imports) into every config
    // folder whose node_modules is missing or whose package-lock.json lacks it, and waits for that
    // before it loads any plugin: a user's ~/.config/opencode has it since their first start.
    // The same bookkeeping here (no network; Orchard's plugin imports nothing from it).
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    const deps = { '@opencode-ai/plugin': OPENCODE_VERSION };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ dependencies: deps }, null, 2) + '\n');
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({ name: 'opencode', lockfileVersion: 3, requires: true, packages: { '': { dependencies: deps } } }, null, 2) + '\n',
    );
    const env = {
      XDG_CONFIG_HOME: xdgConfig,
      XDG_DATA_HOME: join(home, '.local/share'),
      XDG_STATE_HOME: join(home, '.local/state'),
      XDG_CACHE_HOME: join(home, '.cache'),
      // Offline: no models.dev catalogue fetch, no LSP server downloads, no self-update.
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
    };
    // A user who has run OpenCode has its database. Two first-ever starts at the same moment race
    // on creating it (1.18.33: one fails on "CREATE TABLE workspace"), as two tickets starting
    // together would in a fresh HOME: create it once, as the first use would (about 2 s).
    execFileSync(join(cliBinDir('opencode'), 'opencode'), ['session', 'list'], {
      env: { ...process.env, HOME: home, ...env },
      stdio: 'ignore',
      timeout: 60_000,
    });
    return env;
  },
};
