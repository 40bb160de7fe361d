// The agent's own status file (agent-status.json in its worktree), which agents may be told to
// write: read for progress and "done", never trusted for the files changed.

/** The agent's own status file (agent-status.json), written by agents told to: read, never trusted for the files changed. */
export interface AgentStatusFile {
  status?: string;
  progress?: number;
  filesChanged?: string[];
  gates?: unknown;
  commit?: string;
}

export const AGENT_STATUS_FILE = 'agent-status.json';

/** Checks an agent-status.json; returns the problem in words, or the parsed status. */
export function parseAgentStatus(text: string): { ok: true; status: AgentStatusFile } | { ok: false; problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `not JSON (${(e as Error).message})` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { ok: false, problem: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (o.status !== undefined && typeof o.status !== 'string') return { ok: false, problem: 'status must be a string' };
  if (o.progress !== undefined && (typeof o.progress !== 'number' || !(o.progress >= 0 && o.progress <= 100))) {
    return { ok: false, problem: 'progress must be a number from 0 to 1 (or 0 to 100)' };
  }
  if (o.filesChanged !== undefined && (!Array.isArray(o.filesChanged) || o.filesChanged.some((f) => typeof f !== 'string'))) {
    return { ok: false, problem: 'filesChanged must be an array of paths' };
  }
  if (o.commit !== undefined && typeof o.commit !== 'string') return { ok: false, problem: 'commit must be a string' };
  return { ok: true, status: o as AgentStatusFile };
}
