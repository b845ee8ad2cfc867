// Output for the CLI: stdout/stderr writers, colours (TTY only, never with NO_COLOR), JSON, EPIPE safety.
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export interface Out {
  json: boolean;
  c: Colors;
  /** Write a line to stdout. */
  line(s?: string): void;
  /**
   * Write a line of values (results, reasons, table rows) to stdout: whole when stdout is not a terminal, cut to the
   * terminal's width (with `…`) when it is.
   */
  fitLine(s: string): void;
  /** The terminal's width when stdout is a terminal that reports one; undefined otherwise (nothing is cut). */
  columns: number | undefined;
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

/**
 * Colours only when stdout is a TTY, NO_COLOR is unset, TERM is not `dumb` and --no-color was not given.
 * FORCE_COLOR=1 forces them (over TERM=dumb too, as supports-color does), but never over NO_COLOR or --no-color.
 */
export function colorEnabled(opts: OutOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  if (opts.color === false || opts.json) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '1') return true;
  if (env.TERM === 'dumb') return false;
  return !!process.stdout.isTTY;
}

/** The width to fit lines to: the terminal's columns when the stream is a terminal; undefined when piped. */
export function terminalColumns(stream: { isTTY?: boolean; columns?: number }): number | undefined {
  return stream.isTTY && stream.columns && stream.columns > 0 ? stream.columns : undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * `s` cut to `columns` visible characters, the last one `…`, when it is wider; colour codes do not count, are kept,
 * and a reset follows the cut so no colour bleeds into the next line. Without a width (not a terminal) `s` is
 * returned whole.
 */
export function fitLine(s: string, columns: number | undefined): string {
  if (!columns || columns < 2 || [...s.replace(ANSI, '')].length <= columns) return s;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
  const tokens = s.match(/\x1b\[[0-9;]*m|[\s\S]/gu) ?? [];
  let out = '';
  let shown = 0;
  let coloured = false;
  for (const t of tokens) {
    if (t.length > 1 && t.startsWith('\x1b[')) {
      out += t;
      coloured = true;
    } else if (shown < columns - 1) {
      out += t;
      shown++;
    }
  }
  return `${out}…${coloured ? '\x1b[0m' : ''}`;
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
    fitLine: (s) => {
      process.stdout.write(`${fitLine(s, terminalColumns(process.stdout))}\n`);
    },
    get columns() {
      return terminalColumns(process.stdout);
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
