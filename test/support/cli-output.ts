// Reading what the CLI printed: its stdout as JSON, a summary for assertion messages, ANSI escapes.
import type { CliResult } from './run-cli.js';

/** Matches any ANSI escape sequence (colours, cursor movement). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
export const ANSI = /\x1b\[/;

/** Parses the CLI's stdout as JSON, with the whole result in the error when it is not JSON. */
// biome-ignore lint/suspicious/noExplicitAny: CLI JSON is checked by the assertions, not by types.
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr:\n${r.stderr}`);
  }
}

/** A one-line summary of a CLI result for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code} signal ${r.signal}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
}

/** Removes SGR (colour/style) escape sequences. */
export function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
