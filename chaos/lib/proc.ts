// Reading /proc: processes that carry a marker in their environment, process trees, RSS and open fds.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Environment variable that the chaos runner puts in every CLI it starts; evaluators and triggers inherit it. */
export const MARK_VAR = 'INTERLOCK_CHAOS_MARK';

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** State letter and parent pid from /proc/<pid>/stat; undefined when the process is gone. */
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

/** True while `pid` runs (a zombie counts as gone: a container's init may not reap orphans at once). */
export function isAlive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** Live processes whose environment holds MARK_VAR=mark, with their command lines. */
export function markedProcesses(mark: string): Array<{ pid: number; cmd: string }> {
  const needle = `\0${MARK_VAR}=${mark}\0`;
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    let env: string;
    try {
      env = `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`;
    } catch {
      continue;
    }
    if (!env.includes(needle) || !isAlive(pid)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {}
    out.push({ pid, cmd });
  }
  return out;
}

/** Waits up to `ms` for every marked process to be gone; returns the ones left. */
export async function waitMarkedGone(mark: string, ms: number): Promise<Array<{ pid: number; cmd: string }>> {
  const end = Date.now() + ms;
  for (;;) {
    const left = markedProcesses(mark);
    if (left.length === 0 || Date.now() >= end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILLs every marked process (cleanup after a case). Returns how many there were. */
export function killMarked(mark: string): number {
  const left = markedProcesses(mark);
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
  return left.length;
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

/** Resident set size in KiB (VmRSS), or undefined when the process is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
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
