// Everything the process-level tests use from src/, bundled by esbuild (see bundle.ts):
// execa and lowdb are ESM-only and cannot be require()d through tsx in this CJS package.
export { openSession, locateRepo } from '../../src/infra/session';
export { Orchestrator } from '../../src/core/orchestrator';
export { GitWorkspace, defaultOrchardHome } from '../../src/infra/git/workspace';
export { AgentLauncher, HeadlessRunnerHost } from '../../src/infra/agents/launcher';
export { TmuxRunnerHost } from '../../src/infra/agents/tmuxHost';
export { runCli, describeError, UsageError } from '../../src/cli/commands';
export { expandArgv, resolveProfile, composePrompt, fakeProfile, BUILTIN_PROFILES, ProfileError } from '../../src/infra/agents/profiles';
export { ImportError } from '../../src/core/importers';
export { runPlanner, acceptProposal, rejectProposal, listProposals, loadProposal } from '../../src/infra/planner';
