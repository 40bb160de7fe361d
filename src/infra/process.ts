// Is a process still the one we knew? A pid alone is not enough: this machine's pid_max is
// 32,768 and git spawns thousands of processes, so a killed Orchard's or runner's pid can
// belong to someone else seconds later. On Linux a process's start time (field 22 of
// /proc/<pid>/stat) tells the two apart; elsewhere only the pid is checked.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** process.kill(pid, 0): ESRCH means no such process; EPERM means it exists (another user). */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie has exited; only its parent has not reaped it (an init that never reaps keeps it forever).
  return procStat(pid)?.state !== 'Z';
}

/** The process's start time in clock ticks since boot, as a string; undefined where /proc is not there. */
export function processStartToken(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/**
 * The pid is alive and, where a start token was recorded and can be read, still the same
 * process. A zombie (exited, not yet reaped: containers whose init never reaps) is not alive.
 */
export function isSameProcess(pid: number | undefined, startToken?: string): boolean {
  if (!pidAlive(pid)) return false;
  if (!startToken) return true;
  const stat = procStat(pid!);
  return stat === undefined || stat.start === startToken;
}

/** State letter and start time of a process from /proc/<pid>/stat; undefined where there is no /proc. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; the fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** Every descendant of pid (children first found through `ps`), deepest last. */
export function descendants(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-A', '-o', 'pid=', '-o', 'ppid='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const line of out.split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (!p || pp === undefined) continue;
    if (!children.has(pp)) children.set(pp, []);
    children.get(pp)!.push(p);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      found.push(c);
      queue.push(c);
    }
  }
  return found;
}
