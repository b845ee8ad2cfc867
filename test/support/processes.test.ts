// The one isAlive of the harness: a live process is alive; a zombie, a reaped pid and a non-pid are not.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MARK_VAR, markedProcesses, waitMarkedGone } from './leftover-processes.js';
import { until } from './poll.js';
import { descendants, isAlive, procStat, waitDead } from './processes.js';

/** `sh` that starts a short `sleep` in the background, prints its pid, then becomes `sleep 5` (which never reaps it). */
function parentOfZombie(): Promise<{ parent: number; zombie: number; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', reject);
    child.stdout.once('data', (d: Buffer) =>
      resolve({ parent: child.pid as number, zombie: Number(String(d).trim()), stop: () => child.kill('SIGKILL') }),
    );
  });
}

describe('isAlive', () => {
  it('is true for this process and false for a pid that is no process', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(2 ** 22 + 12345)).toBe(false);
    for (const notAPid of [0, -1, 1.5, Number.NaN]) expect(isAlive(notAPid), String(notAPid)).toBe(false);
  });

  it('counts an unreaped zombie as dead (its parent, alive, does not count it among its descendants)', async () => {
    const z = await parentOfZombie();
    try {
      expect(await until(() => procStat(z.zombie)?.state === 'Z', 3000)).toBe(true);
      expect(isAlive(z.zombie)).toBe(false);
      expect(isAlive(z.parent)).toBe(true);
      expect(descendants(z.parent)).not.toContain(z.zombie);
    } finally {
      z.stop();
    }
    expect(await waitDead(z.parent, 2000)).toBe(true);
  });
});

describe('leftover processes', () => {
  it('finds a process by the mark in its environment until it is gone', async () => {
    const mark = `support-test-${process.pid}-${Date.now()}`;
    const child = spawn('sleep', ['5'], { env: { ...process.env, [MARK_VAR]: mark }, stdio: 'ignore' });
    try {
      expect(await until(() => markedProcesses(mark).length === 1, 2000)).toBe(true);
      expect(markedProcesses(mark)[0]).toMatchObject({ pid: child.pid, cmd: 'sleep 5' });
      expect(markedProcesses(`${mark}-other`)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await waitMarkedGone(mark, 2000)).toEqual([]);
  });
});
