// The conformance suite is test/agents/conformance.test.ts; run it for one CLI with
// `npm run test:agents -- <cli>` (ORCHARD_AGENT_MODES=headless or tmux narrows it). Its
// tools are in harness.ts.
export * from './harness';
