// Processes seen through /proc: is a pid alive (zombies count as dead), process trees, and what a process holds
// (RSS, CPU time, open fds).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { sleep } from './poll.js';

/** Every pid in /proc now. */
export function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** State letter, parent pid and command name from /proc/<pid>/stat; undefined when the process is gone. */
export function procStat(pid: number): { state: string; ppid: number; name: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    return { state: rest[0] as string, ppid: Number(rest[1]), name };
  } catch {
    return undefined;
  }
}

/**
 * True while `pid` is a live process. A zombie (exited, not yet reaped — common for orphans in containers whose
 * init does not reap) counts as dead, and so does a pid that is no process at all.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but is not ours; /proc still tells whether it is a zombie.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** Polls until `pid` is dead or `ms` have passed; returns whether it died. */
export async function waitDead(pid: number, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await sleep(20);
  }
  return !isAlive(pid);
}

/** Kills a pid we caused to exist, ignoring "no such process" (cleanup only). */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** Live descendants of `root` (children, grandchildren…), by walking ppid links over /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of pids()) {
    const s = procStat(pid);
    if (!s || s.state === 'Z' || s.state === 'X') continue;
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM…), or undefined when the process is gone. */
function statusKb(pid: number, key: string): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size in KiB (VmRSS), or undefined when the process is gone. */
export function rssKb(pid: number): number | undefined {
  return statusKb(pid, 'VmRSS');
}

/** Peak resident set size in KiB (VmHWM), or undefined when the process is gone. */
export function peakRssKb(pid: number): number | undefined {
  return statusKb(pid, 'VmHWM');
}

/** Resident set size now and at its peak (VmRSS, VmHWM), in MB (NaN when unknown). */
export function rssOf(pid: number): { rssMb: number; peakMb: number } {
  return { rssMb: (rssKb(pid) ?? Number.NaN) / 1024, peakMb: (peakRssKb(pid) ?? Number.NaN) / 1024 };
}

let clockTicks: number | undefined;

/** CPU time (user + system) the process `pid` has used so far, in ms (from /proc; 10 ms resolution). */
export function cpuMsOf(pid: number): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) in parentheses; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** Open file descriptors of `pid`, by kind (socket, pipe, file, anon…). */
export function openFds(pid: number): { total: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return { total: 0, byKind };
  }
  for (const fd of names) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    total++;
    const kind = /^(socket|pipe|anon_inode):/.exec(target)?.[1] ?? (target.startsWith('/') ? 'file' : 'other');
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return { total, byKind };
}
