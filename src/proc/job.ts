// A started command's process group, found again from any process on the same machine: is it still there, and
// stopping it (TERM, grace, KILL). Linux /proc; where /proc cannot tell, the answer is 'unknown', never 'gone'.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { JobProcess } from '../core/types.js';

/*
 * Telling our job apart from a stranger with the same number (pid reuse):
 *
 * - A job is identified by its host name, its "machine" (kernel boot id + pid namespace of the process that started
 *   it: the same host name after a reboot or in another container means other pids), its process group id (the
 *   leader's pid: the command is spawned detached, in a group of its own) and the leader's start time in clock ticks
 *   after boot (/proc/<pid>/stat field 22).
 * - The leader alive with the same start time: it is the job. The same pid with another start time: the job is gone
 *   and the pid was reused.
 * - The leader gone (or a zombie): the job lives on while any other process is still in its group (a command that
 *   put work in the background). The kernel does not hand out a pid that is still in use as a process group id, so
 *   those members belong to our group; the only residue is a group that died entirely and whose id was reused by a
 *   new group leader which has itself exited while its own children run on — members started after our leader are
 *   accepted, so that case would be taken for the job. It needs a pid wrap-around within the job's lifetime.
 * - Anything that cannot be checked (another host or machine, no /proc, EPERM) is 'unknown': the caller must treat
 *   the job as possibly running, never as gone.
 */

/** What /proc says about one process. */
interface ProcStat {
  state: string;
  pgrp: number;
  startTicks: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after the last ')' are plain.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] as string, pgrp: Number(rest[2]), startTicks: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

const live = (s: ProcStat | undefined): s is ProcStat => s !== undefined && s.state !== 'Z' && s.state !== 'X';

let machineCache: string | null | undefined;

/** Boot id + pid namespace of this process, or undefined when /proc cannot say (then nothing can be verified). */
export function machineId(): string | undefined {
  if (machineCache === undefined) {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const ns = readlinkSync('/proc/self/ns/pid');
      machineCache = `${boot}/${ns}`;
    } catch {
      machineCache = null;
    }
  }
  return machineCache ?? undefined;
}

/** The identity of the process group led by `pid` (just spawned detached), as recorded on the run. */
export function describeJob(pid: number, startedAt: number): JobProcess {
  const job: JobProcess = { pgid: pid, host: hostname(), startedAt };
  const machine = machineId();
  if (machine !== undefined) job.machine = machine;
  const s = procStat(pid);
  if (s !== undefined && Number.isFinite(s.startTicks)) job.startTicks = s.startTicks;
  return job;
}

export type JobState = 'alive' | 'gone' | 'unknown';

/** Where the job runs, for messages: "pgid 1234 on host h". */
export function describeWhere(job: JobProcess): string {
  return `pgid ${job.pgid} on host ${job.host}`;
}

/** Is the job's process group still there? 'unknown' when this process cannot tell (another host or machine). */
export function jobState(job: JobProcess): JobState {
  if (job.host !== hostname()) return 'unknown';
  const here = machineId();
  if (here === undefined || (job.machine !== undefined && job.machine !== here)) return 'unknown';
  const leader = procStat(job.pgid);
  if (live(leader) && leader.pgrp === job.pgid) {
    return job.startTicks === undefined || leader.startTicks === job.startTicks ? 'alive' : 'gone';
  }
  // The leader is gone (or its pid is another process's in another group): any member left keeps the job alive.
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return 'unknown';
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const s = procStat(Number(n));
    if (!live(s) || s.pgrp !== job.pgid) continue;
    if (job.startTicks === undefined || s.startTicks >= job.startTicks) return 'alive';
  }
  return 'gone';
}

/** Signals the job's group; false when it is not ours to signal (EPERM). A group already gone is fine. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Polls until the job is not alive (or `ms` passed); returns the last state seen. */
export async function waitGone(job: JobProcess, ms: number): Promise<JobState> {
  const end = Date.now() + ms;
  for (;;) {
    const s = jobState(job);
    if (s !== 'alive' || Date.now() >= end) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface StopOptions {
  /** How long after SIGTERM before SIGKILL. Default 2000. */
  graceMs?: number;
  /** How long to wait for the group to vanish after SIGKILL. Default 1000. */
  killWaitMs?: number;
}

/**
 * Stops the job's process group: SIGTERM, up to `graceMs` for it to go, SIGKILL, up to `killWaitMs`. Returns what is
 * true afterwards: 'gone', 'alive' (it survived SIGKILL, e.g. stuck in the kernel, or is not ours to signal) or
 * 'unknown' (cannot be checked or signalled from here: another host).
 */
export async function stopJob(job: JobProcess, opts: StopOptions = {}): Promise<JobState> {
  const before = jobState(job);
  if (before !== 'alive') return before;
  if (!signalGroup(job.pgid, 'SIGTERM')) return 'alive';
  const afterTerm = await waitGone(job, opts.graceMs ?? 2000);
  if (afterTerm !== 'alive') return afterTerm;
  if (!signalGroup(job.pgid, 'SIGKILL')) return 'alive';
  return waitGone(job, opts.killWaitMs ?? 1000);
}
