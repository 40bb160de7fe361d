// Codex CLI against the scripted server: what a user with a configured provider already has in
// $CODEX_HOME/config.toml. Nothing Orchard-specific here (that comes from src/infra/agents/clis/codex.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openaiResponsesAdapter } from './protocols/openaiResponses';

export const CODEX_TEST_MODEL = 'gpt-5-orchard-test';

export function codexConfigToml(serverUrl: string): string {
  return [
    `model_provider = "orchard-test"`,
    `model = "${CODEX_TEST_MODEL}"`,
    // No network lookups for updates, no announcements: offline like the test machine.
    `check_for_update_on_startup = false`,
    '',
    '[model_providers.orchard-test]',
    `name = "Orchard test server"`,
    `base_url = "${serverUrl}/v1"`,
    `env_key = "ORCHARD_TEST_OPENAI_KEY"`,
    `wire_api = "responses"`,
    // Codex retries a 429/5xx by itself (request_max_retries, default 4; stream_max_retries,
    // default 5; backoff 200 ms × 2^n with jitter): keep the suite short with one retry.
    `request_max_retries = 1`,
    `stream_max_retries = 1`,
    '',
    // Repositories under /tmp would be writable to the sandbox anyway: users' repositories are
    // not, so the test must prove Orchard's --add-dir folders are what make git and orchard-agent work.
    '[sandbox_workspace_write]',
    'exclude_slash_tmp = true',
    'exclude_tmpdir_env_var = true',
    '',
  ].join('\n');
}

export const codexConformance = {
  cli: 'codex',
  adapter: openaiResponsesAdapter,
  configure(home: string, serverUrl: string): Record<string, string> {
    const codexHome = join(home, '.codex');
    mkdirSync(codexHome, { recursive: true });
    writeFileSync(join(codexHome, 'config.toml'), codexConfigToml(serverUrl));
    return { CODEX_HOME: codexHome, ORCHARD_TEST_OPENAI_KEY: 'sk-orchard-test' };
  },
};
