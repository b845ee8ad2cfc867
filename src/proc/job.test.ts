import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeJob, jobState, stopJob } from './job.js';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});

/** A detached shell (its own process group) running `script`; resolves once it runs. */
function group(script: string): number {
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid as number;
  started.push(pid);
  return pid;
}

describe('job process groups', () => {
  it('a recorded group is alive, then stopped by TERM and seen gone', async () => {
    const pid = group('sleep 30');
    const job = describeJob(pid, Date.now());
    expect(job).toMatchObject({ pgid: pid, host: expect.any(String), machine: expect.any(String) });
    expect(job.startTicks).toEqual(expect.any(Number));
    expect(jobState(job)).toBe('alive');
    expect(await stopJob(job)).toBe('gone');
    expect(jobState(job)).toBe('gone');
  });

  it('a command that ignores TERM is KILLed after the grace period', async () => {
    const pid = group("trap '' TERM; sleep 30 & wait; sleep 30");
    // Only once the shell ignores TERM (SigIgn bit 15) is this the case under test.
    const ignoresTerm = () => {
      try {
        const m = /^SigIgn:\s+([0-9a-f]+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m !== null && (BigInt(`0x${m[1]}`) & 0x4000n) !== 0n;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 200 && !ignoresTerm(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(ignoresTerm()).toBe(true);
    const job = describeJob(pid, Date.now());
    const t0 = Date.now();
    expect(await stopJob(job, { graceMs: 300 })).toBe('gone');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('members keep the group alive after its leader exited (work put in the background)', async () => {
    const pid = group('sleep 30 & exit 0');
    const job = describeJob(pid, Date.now());
    // Wait for the leader to exit (node reaps it), leaving the background sleep in its group.
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
    }
    expect(jobState(job)).toBe('alive');
    expect(await stopJob(job)).toBe('gone');
  });

  it('a reused pid (another start time) is not the job; another host or machine cannot be checked', () => {
    const pid = group('sleep 30');
    const job = describeJob(pid, Date.now());
    expect(jobState({ ...job, startTicks: (job.startTicks ?? 0) + 1 })).toBe('gone');
    expect(jobState({ ...job, host: `${job.host}-elsewhere` })).toBe('unknown');
    expect(jobState({ ...job, machine: 'another-boot/pid:[1]' })).toBe('unknown');
  });

  it('never signals what it cannot check: stopJob of an unknown job reports unknown and leaves it running', async () => {
    const pid = group('sleep 30');
    const job = describeJob(pid, Date.now());
    expect(await stopJob({ ...job, host: 'elsewhere' })).toBe('unknown');
    expect(jobState(job)).toBe('alive');
  });
});
