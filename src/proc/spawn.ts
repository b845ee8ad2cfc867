// Process-group spawn: JSON on stdin, capped stdout, stderr tail, timeout → kill the whole group, resolve on 'exit'.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /**
   * 'cap' (default): once stdout exceeds `maxStdoutBytes`, buffering stops and the process group is killed.
   * 'tail': the process keeps running and only the last `maxStdoutBytes` bytes are kept.
   */
  maxStdoutBytes: number;
  /** What to do with stdout beyond `maxStdoutBytes`. Default 'cap'. */
  stdoutMode?: 'cap' | 'tail';
  /** Aborting kills the process group like a timeout does (SIGTERM, grace, SIGKILL) and sets `aborted`. */
  signal?: AbortSignal;
  /** How much of the end of stderr to keep. Default 4096. */
  stderrTailBytes?: number;
  /** Delay between SIGTERM and SIGKILL on timeout. Default 100. */
  killGraceMs?: number;
  /**
   * Where the child's stdout and stderr go. Default 'pipes'.
   * 'files': two regular files in a private temp dir (mode 0700, removed before the call resolves), so the child
   * can open /dev/stdout and /dev/stderr by path (it cannot when they are libuv's socketpairs: ENXIO). After exit
   * only the last `maxStdoutBytes` / `stderrTailBytes` of each file are read; stdout is always kept as a tail
   * (`stdoutMode` is ignored, nothing is killed for output size). Stdin is /dev/null unless `stdin` is given.
   */
  stdio?: 'pipes' | 'files';
  /** Called once the process is running, with its pid (= its process group id). Must not throw. */
  onSpawn?: (pid: number) => void;
}

/** How a process ended. Never thrown: spawn failures come back in `spawnError`. */
export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  /** At most `maxStdoutBytes` bytes of stdout (the first ones, or the last ones in 'tail' mode), decoded as UTF-8. */
  stdout: string;
  /** The last `stderrTailBytes` bytes of stderr, decoded as UTF-8. */
  stderrTail: string;
  timedOut: boolean;
  /**
   * 'cap': stdout passed the cap and the group was killed. 'tail' (and 'files'): earlier stdout was dropped
   * (nothing killed).
   */
  stdoutOverflow: boolean;
  /** Set (true) when `signal` aborted the process, or aborted before it was spawned. */
  aborted?: boolean;
  /** Why the process did not start; with `stdio: 'files'` also a failure to create the output files. */
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

/** The result of a process that could not be started. */
function spawnFailure(err: unknown, start: number): ProcessResult {
  return {
    exitCode: null,
    signal: null,
    stdout: '',
    stderrTail: '',
    timedOut: false,
    stdoutOverflow: false,
    spawnError: err as NodeJS.ErrnoException,
    durationMs: performance.now() - start,
  };
}

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

/** The temp dir prefix of `stdio: 'files'` (the pid says whose a leftover is). */
export const OUTPUT_DIR_PREFIX = `interlock-output-${process.pid}-`;

/** The private files a child writes its stdout and stderr to in `stdio: 'files'` mode. */
interface OutputFiles {
  dir: string;
  outFd: number;
  errFd: number;
}

/**
 * Creates a private dir (mkdtemp: mode 0700) with fresh `stdout` and `stderr` files (0600). O_APPEND: writes through
 * the inherited fd go to the end even after the child reopened the file by path with O_TRUNC (`> /dev/stdout`), as
 * on a terminal; O_RDWR so the tail can be read back through the same fd. Throws; leaves nothing behind when it does.
 */
function openOutputFiles(): OutputFiles {
  const dir = mkdtempSync(join(tmpdir(), OUTPUT_DIR_PREFIX));
  const files: OutputFiles = { dir, outFd: -1, errFd: -1 };
  try {
    files.outFd = openSync(join(dir, 'stdout'), 'ax+', 0o600);
    files.errFd = openSync(join(dir, 'stderr'), 'ax+', 0o600);
    return files;
  } catch (err) {
    closeOutputFiles(files);
    throw err;
  }
}

/** The last `max` bytes of the file behind `fd`, read from the end (never the whole file), and its size. */
function readFileTail(fd: number, max: number): { tail: Buffer; size: number } {
  const size = fstatSync(fd).size;
  const len = Math.min(size, max);
  const tail = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, tail, got, len - got, size - len + got);
    if (n === 0) break; // Truncated meanwhile (a straggler reopened it): keep what was read.
    got += n;
  }
  return { tail: tail.subarray(0, got), size };
}

/** Closes both fds and removes the dir. Never throws: a grandchild may still hold the (then unlinked) files. */
function closeOutputFiles(files: OutputFiles): void {
  for (const fd of [files.outFd, files.errFd]) {
    if (fd < 0) continue;
    try {
      closeSync(fd);
    } catch {}
  }
  try {
    rmSync(files.dir, { recursive: true, force: true });
  } catch {}
}

/** Appends `chunk` to `tail`, keeping only the last `max` bytes. */
function appendTail(tail: Buffer, chunk: Buffer, max: number): Buffer {
  if (max === 0) return tail;
  if (chunk.length >= max) return Buffer.from(chunk.subarray(chunk.length - max));
  const joined = Buffer.concat([tail, chunk]);
  return joined.length > max ? joined.subarray(joined.length - max) : joined;
}

/**
 * Runs `file` in its own process group and resolves when it exits (never rejects).
 *
 * Resolves on 'exit', not 'close': a grandchild may hold stdout open forever. After 'exit' the
 * remaining output gets ~50 ms to drain, then the streams are destroyed and the whole group is
 * SIGKILLed so no grandchild outlives the call. With `stdio: 'files'` there is nothing to drain: the output files'
 * tails are read right after 'exit' (and the group kill), then the files are closed and removed.
 */
export function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  const stderrTailBytes = Math.max(0, opts.stderrTailBytes ?? DEFAULT_STDERR_TAIL_BYTES);
  const killGraceMs = Math.max(0, opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  const maxStdoutBytes = Math.max(0, opts.maxStdoutBytes);
  const toFiles = opts.stdio === 'files';
  const tailStdout = toFiles || opts.stdoutMode === 'tail';
  const start = performance.now();

  return new Promise<ProcessResult>((resolve) => {
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutTail: Buffer = Buffer.alloc(0);
    let stderrTail: Buffer = Buffer.alloc(0);
    let exitCode: number | null = null;
    let signal: string | null = null;
    let timedOut = false;
    let aborted = false;
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

    if (opts.signal?.aborted) {
      resolve({
        exitCode: null,
        signal: null,
        stdout: '',
        stderrTail: '',
        timedOut: false,
        stdoutOverflow: false,
        aborted: true,
        durationMs: performance.now() - start,
      });
      return;
    }

    let files: OutputFiles | undefined;
    if (toFiles) {
      try {
        files = openOutputFiles();
      } catch (err) {
        // No temp space (ENOSPC, EACCES on the temp dir…): the process cannot start as asked.
        resolve(spawnFailure(err, start));
        return;
      }
    }
    const stdio: StdioOptions = files
      ? [opts.stdin === undefined ? 'ignore' : 'pipe', files.outFd, files.errFd]
      : ['pipe', 'pipe', 'pipe'];

    let child: ChildProcess;
    try {
      child = spawn(opts.file, opts.args ?? [], {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio,
        windowsHide: true,
      });
    } catch (err) {
      if (files) closeOutputFiles(files);
      // Synchronous spawn failures (bad arguments, EMFILE…) are results too.
      resolve(spawnFailure(err, start));
      return;
    }

    if (child.pid !== undefined && opts.onSpawn) {
      try {
        opts.onSpawn(child.pid);
      } catch {
        // A listener's failure is not the process's.
      }
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
      opts.signal?.removeEventListener('abort', onAbort);
      // Whatever is still in the group (a grandchild holding stdout, a leader that ignored TERM) dies now.
      killGroup(child.pid, 'SIGKILL');
      if (files) {
        try {
          const out = readFileTail(files.outFd, maxStdoutBytes);
          stdoutTail = out.tail;
          stdoutOverflow = out.size > maxStdoutBytes;
          stderrTail = readFileTail(files.errFd, stderrTailBytes).tail;
        } catch {
          // Unreadable output (EIO…) is lost output, not a failed process.
        } finally {
          closeOutputFiles(files);
        }
      }
      const result: ProcessResult = {
        exitCode,
        signal,
        stdout: tailStdout
          ? decodeTail(stdoutTail)
          : Buffer.concat(stdoutChunks, Math.min(stdoutBytes, maxStdoutBytes)).toString('utf8'),
        stderrTail: decodeTail(stderrTail),
        timedOut,
        stdoutOverflow,
        durationMs: performance.now() - start,
      };
      if (spawnError !== undefined) result.spawnError = spawnError;
      if (aborted) result.aborted = true;
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
      // A grandchild may keep the pipes open: give buffered output a short while, then stop waiting — but only
      // after one more I/O poll (setImmediate runs after it): a loop busy for longer than the wait (many spawns,
      // synchronous work) may not yet have read what the process wrote before it exited, and that output is its
      // result (an evaluator's PASS would otherwise come back as "empty output").
      if (!done) later(DRAIN_AFTER_EXIT_MS, () => setImmediate(finish));
    });

    if (child.stdout) {
      child.stdout.on('data', (chunk: Buffer) => {
        if (tailStdout) {
          // A trigger's output is a log, not a result: keep the end, let the process run on.
          stdoutBytes += chunk.length;
          if (stdoutBytes > maxStdoutBytes) stdoutOverflow = true;
          stdoutTail = appendTail(stdoutTail, chunk, maxStdoutBytes);
          return;
        }
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
        stderrTail = appendTail(stderrTail, chunk, stderrTailBytes);
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

    let stopping = false;
    /** TERM the group, then KILL it after the grace period. */
    const stop = (): void => {
      if (exited || stopping) return;
      stopping = true;
      killGroup(child.pid, 'SIGTERM');
      later(killGraceMs, () => {
        killGroup(child.pid, 'SIGKILL');
        // 'exit' normally follows at once; if it does not (uninterruptible sleep), resolve anyway.
        later(EXIT_AFTER_KILL_MS, finish);
      });
    };

    function onAbort(): void {
      if (exited || stopping || done) return;
      aborted = true;
      stop();
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    if (Number.isFinite(opts.timeoutMs)) {
      later(Math.max(0, opts.timeoutMs), () => {
        if (exited || stopping) return;
        timedOut = true;
        stop();
      });
    }
  });
}
