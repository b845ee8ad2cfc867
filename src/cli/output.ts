// Output for the CLI: stdout/stderr writers, colours (TTY only, never with NO_COLOR), JSON, EPIPE safety.
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export interface Out {
  json: boolean;
  c: Colors;
  /** Write a line to stdout. */
  line(s?: string): void;
  /** Write a line to stderr. */
  err(s: string): void;
  /** Print a value as JSON on stdout. */
  printJson(v: unknown): void;
  /** stderr is an interactive terminal (progress display). */
  interactive: boolean;
}

export interface OutOptions {
  json?: boolean;
  color?: boolean;
}

/** Options every command accepts. */
export interface GlobalOptions extends OutOptions {
  config?: string;
}

/** Colours only when stdout is a TTY, NO_COLOR is unset and --no-color was not given. */
export function colorEnabled(opts: OutOptions): boolean {
  if (opts.color === false || opts.json) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR === '1') return true;
  return !!process.stdout.isTTY;
}

let epipeHandled = false;
/** `interlock status | head` must not crash: a closed stdout ends the process quietly. */
export function handleEpipe(): void {
  if (epipeHandled) return;
  epipeHandled = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

export function makeOut(opts: OutOptions): Out {
  const json = !!opts.json;
  return {
    json,
    c: pc.createColors(colorEnabled(opts)),
    line: (s = '') => {
      process.stdout.write(`${s}\n`);
    },
    err: (s) => {
      process.stderr.write(`${s}\n`);
    },
    printJson: (v) => {
      process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
    },
    interactive: !json && !!process.stderr.isTTY,
  };
}
