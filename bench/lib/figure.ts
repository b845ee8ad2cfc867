// What a benchmark case reports, the interleaving of candidate and floor runs, and the results table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from '../../test/support/exit-cleanups.js';

/** One row of the results: a measured figure, its floor (when it has one), the target and whether it was met. */
export interface Figure {
  id: string;
  /** What was measured (table text). */
  what: string;
  /** The candidate's figure (table text). */
  measured: string;
  /** The floor's figure (table text), or '—'. */
  floor: string;
  /** candidate / floor (for throughputs: candidate rate / floor rate), or null without a floor. */
  ratio: number | null;
  target: string;
  met: boolean;
  /** The figures as numbers, for machines. */
  numbers: Record<string, number | string | boolean | null>;
  /** Per-round samples and anything else worth keeping. */
  details?: Record<string, unknown>;
}

export interface CaseContext {
  quick: boolean;
  /** Progress on stderr. */
  log(message: string): void;
  /** A temp dir, removed when the run ends. */
  tmp(prefix: string): string;
  /** Work to undo when the run ends (stop servers…), last registered first. */
  defer(fn: () => unknown): void;
  /** A remark printed under the table and kept in the results (how data was seeded, caveats). */
  note(message: string): void;
}

export interface BenchCase {
  id: string;
  title: string;
  run(ctx: CaseContext): Promise<Figure[]>;
}

/** Creates the context of a run; `close` runs the deferred work and removes the temp dirs. */
export function caseContext(quick: boolean): CaseContext & { notes: string[]; close(): Promise<void> } {
  const undo: Array<() => unknown> = [];
  const notes: string[] = [];
  return {
    quick,
    notes,
    note: (m) => {
      notes.push(m);
    },
    log: (m) => process.stderr.write(`  ${m}\n`),
    tmp: (prefix) => {
      const dir = mkdtempSync(join(tmpdir(), `interlock-bench-${prefix}-`));
      const remove = () => rmSync(dir, { recursive: true, force: true });
      const forget = onExit(remove);
      undo.push(() => {
        remove();
        forget();
      });
      return dir;
    },
    defer: (fn) => {
      undo.push(fn);
    },
    close: async () => {
      for (const fn of undo.splice(0).reverse()) {
        try {
          await fn();
        } catch (e) {
          process.stderr.write(`bench: cleanup failed: ${e instanceof Error ? e.message : String(e)}\n`);
        }
      }
    },
  };
}

/**
 * Runs candidate (a) and floor (b) alternately, `pairs` times, in A B B A A B… order so that drift on a shared
 * machine hits both alike. Returns each side's samples in run order.
 */
export async function interleave<T>(
  pairs: number,
  a: () => Promise<T>,
  b: () => Promise<T>,
): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}

/** `1.23×` */
export const times = (r: number) => `${r.toFixed(2)}×`;

/** The results as a Markdown table (it reads fine in a terminal too, and pastes into the README). */
export function markdownTable(figures: readonly Figure[]): string {
  const rows = [
    ['what', 'measured', 'floor', 'ratio', 'target', 'result'],
    ...figures.map((f) => [
      f.what,
      f.measured,
      f.floor,
      f.ratio === null ? '—' : times(f.ratio),
      f.target,
      f.met ? 'met' : '**MISSED**',
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length))) ?? [];
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] as number)).join(' | ')} |`;
  return [
    line(rows[0] as string[]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
