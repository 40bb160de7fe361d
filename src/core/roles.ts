// Roles: what kind of work a ticket is (architect, developer, tester, reviewer, security,
// planner, or the user's own), and which agent profile and model do it. Settings map each
// role to a profile with fallbacks tried in order: a profile whose circuit breaker is open
// (rate limited) is skipped, and a ticket that failed with a profile tries the next one.
// Pure: the caller says which profiles are paused and which failed.
import type { Run, Settings, Ticket } from './model';

export const BUILTIN_ROLES = ['architect', 'developer', 'tester', 'reviewer', 'security', 'planner'] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

/** What each built-in role is asked to do (prefixed to prompts made by templates). */
export const ROLE_DESCRIPTIONS: Record<BuiltinRole, string> = {
  architect: 'You are the architect: study the code, decide the design, write it down; keep code changes to scaffolding.',
  developer: 'You are the developer: implement the change with tests.',
  tester: 'You are the tester: write and run tests that show the behaviour works (or fails); fix only tests.',
  reviewer: 'You are the reviewer: review the change for correctness and clarity; write findings to a review note; fix small issues.',
  security: 'You are the security reviewer: look for injection, secrets, unsafe input handling and permissions; fix or report.',
  planner: 'You are the planner: do not change code; split the goal into tickets with `orchard-agent add-ticket`.',
};

export interface ProfileChoice {
  profile: string;
  model?: string;
}

/** Settings.roles[role]: the profile and model for a role, then fallbacks in order. */
export interface RoleBinding extends ProfileChoice {
  fallbacks?: ProfileChoice[];
}

export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;

export function roleNameProblem(role: unknown): string | undefined {
  if (typeof role !== 'string') return `must be a string naming a role such as "developer" (got ${typeof role})`;
  if (!ROLE_NAME_PATTERN.test(role))
    return `"${role.slice(0, 40)}" is not a role name; use lower-case letters, digits, "-" and "_" (e.g. ${BUILTIN_ROLES.join(', ')})`;
  return undefined;
}

/** Checks Settings.roles; returns problems naming the role and field. */
export function validateRoles(roles: unknown): string[] {
  const out: string[] = [];
  if (roles === undefined) return out;
  if (typeof roles !== 'object' || roles === null || Array.isArray(roles))
    return ['roles must be an object such as { "developer": { "profile": "claude", "fallbacks": [{ "profile": "codex" }] } }'];
  const prof = (v: unknown, where: string) => {
    if (typeof v !== 'object' || v === null) return void out.push(`${where} must be an object { "profile": "claude", "model"?: "…" }`);
    const c = v as Record<string, unknown>;
    if (typeof c.profile !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(c.profile))
      out.push(`${where}.profile must name an agent profile such as "claude"`);
    // The model becomes an argv value of the agent CLI ("--model", "<model>"): it must not read as an option.
    if (c.model !== undefined && (typeof c.model !== 'string' || !MODEL_NAME_PATTERN.test(c.model)))
      out.push(
        `${where}.model must be a model name such as "claude-sonnet-4-5" or "openai/gpt-5" (letters, digits and . _ : / @ + -, not starting with "-"), or left out`,
      );
  };
  for (const [name, b] of Object.entries(roles as Record<string, unknown>)) {
    const p = roleNameProblem(name);
    if (p) out.push(`roles: ${p}`);
    prof(b, `roles.${name}`);
    const fb = (b as { fallbacks?: unknown } | null)?.fallbacks;
    if (fb !== undefined) {
      if (!Array.isArray(fb)) out.push(`roles.${name}.fallbacks must be a list of { "profile": … }`);
      else fb.forEach((f, i) => prof(f, `roles.${name}.fallbacks[${i}]`));
    }
  }
  return out;
}

/**
 * The profiles a ticket may run with, in order of preference. A ticket's own `agent` comes
 * first (it pins the profile), then its role's binding and fallbacks, then the default agent.
 */
export function profileChain(ticket: Pick<Ticket, 'agent' | 'role'>, settings: Pick<Settings, 'roles' | 'defaultAgent'>): ProfileChoice[] {
  const out: ProfileChoice[] = [];
  const push = (c: ProfileChoice | undefined) => {
    if (c && c.profile && !out.some((o) => o.profile === c.profile && o.model === c.model))
      out.push(c.model ? { profile: c.profile, model: c.model } : { profile: c.profile });
  };
  const binding = ticket.role ? settings.roles?.[ticket.role] : undefined;
  if (ticket.agent) push({ profile: ticket.agent, ...(binding?.profile === ticket.agent && binding.model ? { model: binding.model } : {}) });
  if (binding) {
    push(binding);
    for (const f of binding.fallbacks ?? []) push(f);
  }
  if (!ticket.agent && !binding) push({ profile: settings.defaultAgent ?? 'default' });
  return out;
}

export type ProfileDecision = (ProfileChoice & { ok: true; index: number; reason?: string }) | { ok: false; waitUntil?: number; reason: string };

/**
 * Chooses the profile for the next run of a ticket: the first in its chain whose breaker is
 * closed and that has not failed this ticket; when every candidate failed it, the one that
 * failed least (ties: chain order). When every candidate is paused: wait until the first
 * breaker closes.
 */
export function chooseProfile(
  ticket: Pick<Ticket, 'id' | 'agent' | 'role'>,
  settings: Pick<Settings, 'roles' | 'defaultAgent'>,
  opts: { pausedUntil: (profile: string) => number | undefined; failures?: ReadonlyMap<string, number> },
): ProfileDecision {
  const chain = profileChain(ticket, settings);
  const open = chain.map((c, index) => ({ ...c, index, until: opts.pausedUntil(c.profile) })).filter((c) => c.until === undefined);
  if (open.length === 0) {
    const until = Math.min(...chain.map((c) => opts.pausedUntil(c.profile) ?? Infinity));
    return {
      ok: false,
      ...(Number.isFinite(until) ? { waitUntil: until } : {}),
      reason: `every profile for ${ticket.id} is paused (${chain.map((c) => c.profile).join(', ')})`,
    };
  }
  const fails = (p: string) => opts.failures?.get(p) ?? 0;
  const best = open.reduce((a, b) => (fails(b.profile) < fails(a.profile) ? b : a));
  const skipped = chain
    .slice(0, best.index)
    .map((c) => `${c.profile} ${opts.pausedUntil(c.profile) !== undefined ? 'is rate limited' : `failed ${fails(c.profile)}×`}`);
  return {
    ok: true,
    profile: best.profile,
    ...(best.model ? { model: best.model } : {}),
    index: best.index,
    ...(best.index > 0 ? { reason: `fallback ${best.profile}: ${skipped.join(', ')}` } : {}),
  };
}

/** How often each profile failed a ticket (failed, crashed, timed-out or no-change runs). */
export function failuresByProfile(runs: Iterable<Run>, ticketId: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of runs) {
    if (r.ticketId !== ticketId || !r.profile) continue;
    if (r.outcome === 'failed' || r.outcome === 'crashed' || r.outcome === 'timeout' || r.outcome === 'no-changes')
      m.set(r.profile, (m.get(r.profile) ?? 0) + 1);
  }
  return m;
}

/** Every profile named by the role mapping (for capabilities and validation). */
export function profilesOfRoles(settings: Pick<Settings, 'roles'>): string[] {
  const s = new Set<string>();
  for (const b of Object.values(settings.roles ?? {})) {
    s.add(b.profile);
    for (const f of b.fallbacks ?? []) s.add(f.profile);
  }
  return [...s];
}
