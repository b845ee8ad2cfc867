// Process-group spawn: JSON on stdin, capped stdout, stderr tail, timeout → kill the whole group, resolve on 'exit'.
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** What to run and within which limits. */
export interface RunProcessOptions {
  /** Executable path (absolute, or relative to `cwd`). */
  file: string;
  args?: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. Default: nothing (stdin closed at once). */
  stdin?: string;
  /** Wall-clock limit; on expiry the process group gets SIGTERM, then SIGKILL after `killGraceMs`. */
  timeoutMs: number;
  /** Once stdout exceeds this many bytes, buffering stops and the process group is killed. */
  maxStdoutBytes: number;
  /** How much of the end of stderr to keep. Default 4096. */
  stderrTailBytes?: number;
  /** Delay between SIGTERM and SIGKILL on timeout. Default 100. */
  killGraceMs?: number;
}

/** How a process ended. Never thrown: spawn failures come back in `spawnError`. */
export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  /** At most `maxStdoutBytes` bytes of stdout, decoded as UTF-8. */
  stdout: string;
  /** The last `stderrTailBytes` bytes of stderr, decoded as UTF-8. */
  stderrTail: string;
  timedOut: boolean;
  stdoutOverflow: boolean;
  spawnError?: NodeJS.ErrnoException;
  durationMs: number;
}

const DEFAULT_STDERR_TAIL_BYTES = 4096;
const DEFAULT_KILL_GRACE_MS = 100;
/** After 'exit', how long to wait for stdout/stderr to drain before giving up on them. */
const DRAIN_AFTER_EXIT_MS = 50;
/** After SIGKILL on timeout, how long to wait for 'exit' before resolving anyway. */
const EXIT_AFTER_KILL_MS = 100;
/** setTimeout's largest delay; longer ones fire immediately. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Sends `signal` to the process group led by `pid`. The group may already be gone: that is fine. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group. EPERM: not ours to kill. Either way nothing more to do.
  }
}

/** Drops leading UTF-8 continuation bytes so a tail cut mid-character decodes cleanly. */
function decodeTail(buf: Buffer): string {
  let start = 0;
  while (start < buf.length && start < 3 && ((buf[start] as number) & 0xc0) === 0x80) start++;
  return buf.subarray(start).toString('utf8');
}

/**
 * Runs `file` in its own process group and resolves when it exits (never rejects).
 *
 * Resolves on 'exit', not 'close': a grandchild may hold stdout open forever. After 'exit' the
 * remaining output gets ~50 ms to drain, then the streams are destroyed and the whole group is
 * SIGKILLed so no grandchild outlives the call.
 */
export function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  const stderrTailBytes = Math.max(0, opts.stderrTailBytes ?? DEFAULT_STDERR_TAIL_BYTES);
  const killGraceMs = Math.max(0, opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  const maxStdoutBytes = Math.max(0, opts.maxStdoutBytes);
  const start = performance.now();

  return new Promise<ProcessResult>((resolve) => {
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail: Buffer = Buffer.alloc(0);
    let exitCode: number | null = null;
    let signal: string | null = null;
    let timedOut = false;
    let stdoutOverflow = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    let exited = false;
    let done = false;
    let stdoutEnded = false;
    let stderrEnded = false;
    const timers = new Set<NodeJS.Timeout>();

    const later = (ms: number, fn: () => void): void => {
      const t = setTimeout(
        () => {
          timers.delete(t);
          fn();
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      timers.add(t);
    };

    let child: ChildProcess;
    try {
      child = spawn(opts.file, opts.args ?? [], {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (err) {
      // Synchronous spawn failures (bad arguments, EMFILE…) are results too.
      resolve({
        exitCode: null,
        signal: null,
        stdout: '',
        stderrTail: '',
        timedOut: false,
        stdoutOverflow: false,
        spawnError: err as NodeJS.ErrnoException,
        durationMs: performance.now() - start,
      });
      return;
    }

    const finish = (): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.removeAllListeners('exit');
      // Whatever is still in the group (a grandchild holding stdout, a leader that ignored TERM) dies now.
      killGroup(child.pid, 'SIGKILL');
      const result: ProcessResult = {
        exitCode,
        signal,
        stdout: Buffer.concat(stdoutChunks, Math.min(stdoutBytes, maxStdoutBytes)).toString('utf8'),
        stderrTail: decodeTail(stderrTail),
        timedOut,
        stdoutOverflow,
        durationMs: performance.now() - start,
      };
      if (spawnError !== undefined) result.spawnError = spawnError;
      resolve(result);
    };

    const maybeFinishAfterExit = (): void => {
      if (exited && stdoutEnded && stderrEnded) finish();
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      // Without a pid the process never started (ENOENT, EACCES, bad interpreter); no 'exit' will follow.
      if (child.pid === undefined) {
        spawnError = err;
        finish();
      }
    });

    child.on('exit', (code, sig) => {
      exited = true;
      exitCode = code;
      signal = sig;
      if (done) return;
      maybeFinishAfterExit();
      // A grandchild may keep the pipes open: give buffered output a short while, then stop waiting.
      later(DRAIN_AFTER_EXIT_MS, finish);
    });

    if (child.stdout) {
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdoutOverflow) return;
        const room = maxStdoutBytes - stdoutBytes;
        if (chunk.length > room) {
          // Keep exactly the cap, never more; then stop the producer.
          if (room > 0) stdoutChunks.push(chunk.subarray(0, room));
          stdoutBytes = maxStdoutBytes;
          stdoutOverflow = true;
          child.stdout?.destroy();
          killGroup(child.pid, 'SIGKILL');
          return;
        }
        stdoutChunks.push(chunk);
        stdoutBytes += chunk.length;
      });
      child.stdout.on('error', () => {});
      child.stdout.on('close', () => {
        stdoutEnded = true;
        maybeFinishAfterExit();
      });
    } else {
      stdoutEnded = true;
    }

    if (child.stderr) {
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderrTailBytes === 0) return;
        if (chunk.length >= stderrTailBytes) {
          stderrTail = Buffer.from(chunk.subarray(chunk.length - stderrTailBytes));
        } else {
          const joined = Buffer.concat([stderrTail, chunk]);
          stderrTail = joined.length > stderrTailBytes ? joined.subarray(joined.length - stderrTailBytes) : joined;
        }
      });
      child.stderr.on('error', () => {});
      child.stderr.on('close', () => {
        stderrEnded = true;
        maybeFinishAfterExit();
      });
    } else {
      stderrEnded = true;
    }

    if (child.stdin) {
      // The evaluator may exit without reading stdin: EPIPE here is expected, not a failure.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin ?? '');
    }

    if (Number.isFinite(opts.timeoutMs)) {
      later(Math.max(0, opts.timeoutMs), () => {
        if (exited) return;
        timedOut = true;
        killGroup(child.pid, 'SIGTERM');
        later(killGraceMs, () => {
          killGroup(child.pid, 'SIGKILL');
          // 'exit' normally follows at once; if it does not (uninterruptible sleep), resolve anyway.
          later(EXIT_AFTER_KILL_MS, finish);
        });
      });
    }
  });
}
