// What this machine lets a chaos case do: mount a tmpfs (disk full, read-only file system), run a command as
// another user (permissions that bite even when the runner is root). Probed once, with the reason when not.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../../test/support/paths.js';
import type { CaseContext } from './harness.js';

let mountProbe: Promise<string | undefined> | undefined;

/** The first line of a tool's complaint, without the path it names (`mount: /tmp/x: must be superuser…`). */
function firstLine(stderr: string, status: number | null): string {
  const line = stderr.trim().split('\n')[0] ?? '';
  return line.replace(/^mount: [^:]*: /, '') || `exit ${status}`;
}

/** undefined when `mount -t tmpfs` works here; otherwise why not. */
export function cannotMount(): Promise<string | undefined> {
  mountProbe ??= (async () => {
    if (process.platform !== 'linux') return `mount tricks need Linux (this is ${process.platform})`;
    const dir = mkdtempSync(join(tmpdir(), 'interlock-chaos-mountprobe-'));
    try {
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
      if (m.error) return `mount is not available (${m.error.message})`;
      if (m.status !== 0) return `mount -t tmpfs is not permitted: ${firstLine(m.stderr, m.status)}`;
      const r = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
      spawnSync('umount', [dir]);
      if (r.status !== 0) return `remounting a tmpfs read-only is not permitted: ${firstLine(r.stderr, r.status)}`;
      return undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return mountProbe;
}

/** Mounts a tmpfs of `sizeBytes` on `dir` (which must exist); unmounted at the end of the case. */
export function mountTmpfs(t: CaseContext, dir: string, sizeBytes: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  t.defer(() => {
    // Lazy: a process of the case may still hold a file there; the mount goes once it lets go.
    spawnSync('umount', ['-l', dir]);
  });
}

/** Remounts a tmpfs read-only or read-write. */
export function remount(dir: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, dir]);
}

/** The user a case runs the CLI as so that file permissions bite (nobody), when the runner is root. */
export const NOBODY = { uid: 65534, gid: 65534 };

let userProbe: Promise<string | undefined> | undefined;

/**
 * undefined when permissions bite for the CLI: the runner is not root (then they bite anyway), or it is and
 * `setpriv` can drop to nobody. Otherwise why not.
 */
export function cannotDropPrivileges(): Promise<string | undefined> {
  userProbe ??= (async () => {
    if (typeof process.getuid !== 'function') return 'no uids on this platform';
    if (process.getuid() !== 0) return undefined;
    const r = spawnSync(
      'setpriv',
      [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--', process.execPath, BIN, '--version'],
      { encoding: 'utf8', cwd: tmpdir() },
    );
    if (r.error) return `running as root and setpriv is not available (${r.error.message})`;
    if (r.status !== 0) {
      return `uid ${NOBODY.uid} cannot run bin/interlock here (setpriv, or a checkout others cannot read): ${r.stderr.trim().split('\n')[0]}`;
    }
    return undefined;
  })();
  return userProbe;
}

/** The uid/gid to run the CLI as, or undefined to run it as the current (non-root) user. */
export function unprivilegedUser(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? NOBODY : undefined;
}
