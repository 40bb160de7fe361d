// What Orchard knows of one agent CLI beyond its argv: the version it is tested with, how to
// read its usage, how a new worktree is made ready for it (hooks that report the end of a
// turn, permissions for orchard-agent and git, folder trust), which first-run screens it may
// still show in a terminal, and how its session is ended once its work is done. One file per
// CLI (clis/<name>.ts) owns all of that; the launcher only calls these functions.
import type { AgentProfile, AgentUsage } from '../profiles';

export interface PrepareContext {
  /** The ticket's worktree: the agent's cwd and PWD. */
  worktree: string;
  /** The run folder (`<common dir>/orchard/runs/<run id>`), where orchard-agent writes. */
  runDir: string;
  /** Absolute path of this run's `orchard-agent` wrapper (also on the agent's PATH). */
  orchardAgent: string;
  /** The agent runs in a terminal (its interactive UI), not headless. */
  interactive: boolean;
  /** The environment the agent will get, Orchard's additions included (HOME, XDG_*, PATH…). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The user agreed (once per repository) that Orchard may mark this repository's worktrees
   * trusted in the CLI's own configuration where no flag or per-worktree file can do it.
   */
  trustWorktrees: boolean;
  /** Says what Orchard wrote where (shown in Orchard's log): never write silently. */
  log: (message: string) => void;
}

export interface Prepared {
  /** Arguments inserted right after argv[0] (global flags such as `-c key=value`). */
  args?: string[];
  /** Extra environment for the agent. */
  env?: Record<string, string>;
}

/** A screen the CLI may show in a terminal before it works: recognised on the screen text. */
export interface ScreenRule {
  /** What the screen is, in words ("Claude Code folder trust"). */
  name: string;
  /** Case-insensitive regular expression over the visible screen text. */
  pattern: string;
  /**
   * Keys that answer it the way Orchard's consent allows (tmux send-keys names or literal
   * text, e.g. ['Enter'] or ['2', 'Enter']); absent: the screen becomes an escalation.
   */
  keys?: string[];
  /** When it becomes a question: its options and the keys each sends (default Yes → Enter, No → Escape). */
  options?: Record<string, string[]>;
}

/**
 * A "waiting for you" notice of the CLI (a permission dialog) whose answer must be keys, not
 * typed text (Claude Code's dialog takes free text + Enter as "Yes"): its options and keys.
 * Guidance written with an answer is typed after the keys, then Enter.
 */
export interface NoticeRule {
  /** Case-insensitive regular expression over the notice's message. */
  pattern: string;
  options: Record<string, string[]>;
}

export interface CliDefinition {
  profile: AgentProfile;
  /** npm package and version the conformance suite installs and checks (undefined: untested). */
  npmPackage?: string;
  testedVersion?: string;
  /** argv printing the installed version (first x.y.z in its output is the version). */
  versionArgv?: string[];
  /** Tokens in/out and cost from what the CLI printed (headless output, or the run log). */
  parseUsage?: (text: string) => AgentUsage | undefined;
  /** Makes the worktree and the run folder ready for this CLI before its agent starts. */
  prepare?: (ctx: PrepareContext) => Prepared;
  /** First-run screens a terminal session may show. */
  screens?: ScreenRule[];
  /** Notices (needs-input hooks) answered with keys. */
  notices?: NoticeRule[];
  /**
   * How a finished interactive session is ended: keys typed into its terminal first (e.g. the
   * CLI's exit command), then SIGTERM after `graceMs` if it is still there.
   */
  endSession?: { keys?: string[]; graceMs?: number };
  /** A CLI's own exit code in words (Gemini CLI's 55 is "not a trusted folder"), from its code and output. */
  explainExit?: (exitCode: number, output: string) => string | undefined;
  /** One paragraph for the README: how "turn ended with work done" differs from "waiting for the human". */
  completion?: string;
}
