// Gemini CLI in a sandbox HOME, talking to the scripted server: what a user who set up an API
// key already has (auth type chosen in ~/.gemini/settings.json), plus the base URL. Nothing
// Orchard-specific: Orchard's own handling comes from src/infra/agents/clis/gemini.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { geminiAdapter } from './protocols/gemini';

export const geminiConformance = {
  cli: 'gemini',
  adapter: geminiAdapter,
  configure(home: string, serverUrl: string): Record<string, string> {
    const dir = join(home, '.gemini');
    mkdirSync(dir, { recursive: true });
    const settings = {
      // Without it: "Invalid auth method selected" (what the auth dialog saves).
      security: { auth: { selectedType: 'gemini-api-key' } },
      // No update check or telemetry to Google from a test (they only time out offline).
      general: {
        enableAutoUpdate: false,
        enableAutoUpdateNotification: false,
        // Test speed: the scripted 429/503 gives up after 2 attempts (default 10, ~3.5 min).
        maxAttempts: Number(process.env.GEMINI_TEST_MAX_ATTEMPTS ?? 2),
      },
      privacy: { usageStatisticsEnabled: false },
      ide: { enabled: false, hasSeenNudge: true },
    };
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
    const xdg = join(home, '.xdg');
    for (const d of ['config', 'cache', 'data', 'state']) mkdirSync(join(xdg, d), { recursive: true });
    return {
      GEMINI_API_KEY: 'test-key-scripted-server',
      GOOGLE_GEMINI_BASE_URL: serverUrl,
      XDG_CONFIG_HOME: join(xdg, 'config'),
      XDG_CACHE_HOME: join(xdg, 'cache'),
      XDG_DATA_HOME: join(xdg, 'data'),
      XDG_STATE_HOME: join(xdg, 'state'),
    };
  },
};
