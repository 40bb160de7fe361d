// Claude Code in a sandbox HOME, pointed at the scripted server: what a logged-in user with an
// Anthropic API key already has. Nothing Orchard-specific (that is clis/claude.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anthropicAdapter } from './protocols/anthropic';

export const CLAUDE_TEST_API_KEY = 'sk-ant-api03-orchard-conformance-0000000000000000000000000000000000000000-AAAAAA';

export const claudeConformance = {
  cli: 'claude',
  adapter: anthropicAdapter,
  configure(home: string, serverUrl: string): Record<string, string> {
    const xdg = (d: string) => {
      const p = join(home, d);
      mkdirSync(p, { recursive: true });
      return p;
    };
    // A user who has used Claude Code with this API key: onboarding done, the key approved once
    // (customApiKeyResponses holds its last 20 characters). Folder trust is NOT given here:
    // it is per folder, and Orchard's worktrees are new folders.
    writeFileSync(
      join(home, '.claude.json'),
      JSON.stringify(
        {
          numStartups: 5,
          hasCompletedOnboarding: true,
          lastOnboardingVersion: '2.1.197',
          theme: 'dark',
          customApiKeyResponses: { approved: [CLAUDE_TEST_API_KEY.slice(-20)], rejected: [] },
          bypassPermissionsModeAccepted: false,
          autoUpdates: false,
        },
        null,
        2,
      ),
    );
    mkdirSync(join(home, '.claude'), { recursive: true });
    return {
      HOME: home,
      XDG_CONFIG_HOME: xdg('.config'),
      XDG_DATA_HOME: xdg('.local/share'),
      XDG_STATE_HOME: xdg('.local/state'),
      XDG_CACHE_HOME: xdg('.cache'),
      ANTHROPIC_BASE_URL: serverUrl,
      ANTHROPIC_API_KEY: CLAUDE_TEST_API_KEY,
      // Offline: no telemetry, auto-update, error reporting or feedback surveys.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      // Tests stay short: Claude Code retries a 429 10 times by default (about 3 min with the
      // server's retry-after: 1) before it gives up; 1 retry gives up in about 2 s. A 529 is given
      // up after 3 in a row (about 8 s) whatever this says.
      CLAUDE_CODE_MAX_RETRIES: '1',
    };
  },
};
