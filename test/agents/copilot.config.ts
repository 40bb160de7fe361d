// GitHub Copilot CLI against the scripted server: its own-provider (BYOK) mode, which a user
// with a configured provider already has in the environment. Nothing Orchard-specific here
// (that comes from src/infra/agents/clis/copilot.ts).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatCompletionsAdapter } from './protocols/chatCompletions';

/** A model id Copilot knows (tool calling, token limits): unknown ids fall back to "safe defaults". */
export const COPILOT_TEST_MODEL = 'gpt-4.1';

export const copilotConformance = {
  cli: 'copilot',
  adapter: chatCompletionsAdapter,
  configure(home: string, serverUrl: string): Record<string, string> {
    mkdirSync(join(home, '.copilot'), { recursive: true });
    return {
      // BYOK: Chat Completions (the default wire API) at this base URL; no GitHub sign-in.
      COPILOT_PROVIDER_BASE_URL: `${serverUrl}/v1`,
      COPILOT_PROVIDER_API_KEY: 'sk-orchard-test',
      COPILOT_MODEL: COPILOT_TEST_MODEL,
      // No network besides the provider: no GitHub auth, telemetry, MCP server, updates.
      COPILOT_OFFLINE: 'true',
      // The npm package is a native binary that unpacks 235 MB of its JavaScript and tools into
      // $XDG_CACHE_HOME/copilot/pkg/<platform>/<version>/ on its first start (about 2 s): one
      // shared, versioned cache instead of one per test HOME.
      XDG_CACHE_HOME: join(tmpdir(), 'orchard-copilot-cache'),
    };
  },
};
