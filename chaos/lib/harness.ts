// The chaos harness: a case injects one fault and records property checks; the runner runs cases (a few at once),
// turns every failed check into a violation, and prints the summary table.
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import { killMarked } from '../../test/support/leftover-processes.js';
import { tempDir } from '../../test/support/temp-dir.js';

/** The safety properties every case is judged by. */
export type Property = 'gate' | 'once' | 'state' | 'error' | 'recovery';

export const PROPERTIES: Record<Property, string> = {
  gate: 'no trigger unless READY',
  once: 'never two triggers for one run or schedule window (no retry)',
  state: 'no lost or corrupt state',
  error: 'a clear error (reason code / message / exit code)',
  recovery: 'the process recovers (no leftover process, lock released, a later run works)',
};

export interface Check {
  property: Property;
  name: string;
  ok: boolean;
  /** What was seen, when it failed (or is worth showing). */
  detail?: string;
}

export interface CaseResult {
  id: string;
  group: string;
  fault: string;
  status: 'pass' | 'fail' | 'not-runnable';
  /** Properties checked (those with at least one check). */
  properties: Property[];
  checks: Check[];
  violations: number;
  /** Why the case could not run here (status not-runnable). */
  notRunnable?: string;
  /** An unexpected exception from the case itself (counts as a violation). */
  error?: string;
  notes: string[];
  durationMs: number;
}

/** Thrown by a case (or its `requires`) when its fault cannot be injected on this machine. */
export class NotRunnable extends Error {}

export interface CaseDef {
  id: string;
  group: 'evaluator' | 'store' | 'trigger' | 'process' | 'alert' | 'watcher';
  /** The fault, in a few words (shown in the table). */
  fault: string;
  /** Part of the `--short` subset. */
  short?: boolean;
  /** Whole-case time limit (default 90 s). */
  timeoutMs?: number;
  /** Returns why the case cannot run here, or undefined when it can. */
  requires?: () => Promise<string | undefined>;
  run(t: CaseContext): Promise<void>;
}

/** What a case gets: checks, notes, temp dirs and cleanups (run last first, also after a failure). */
export class CaseContext {
  readonly checks: Check[] = [];
  readonly notes: string[] = [];
  private readonly cleanups: Array<() => unknown> = [];

  /** Put in the environment of every CLI the case starts (MARK_VAR): finds whatever those processes left running. */
  readonly mark: string;

  constructor(readonly id: string) {
    this.mark = `${id}-${randomBytes(4).toString('hex')}`;
  }

  /** Records a check; returns `ok` so a case can stop when a precondition failed. */
  check(property: Property, name: string, ok: boolean, detail?: string): boolean {
    const c: Check = { property, name, ok };
    if (!ok && detail !== undefined) c.detail = detail.length > 600 ? `${detail.slice(0, 600)}…` : detail;
    this.checks.push(c);
    return ok;
  }

  /** check(…, actual === expected) with both in the detail. */
  eq(property: Property, name: string, actual: unknown, expected: unknown, context = ''): boolean {
    const ok = JSON.stringify(actual) === JSON.stringify(expected);
    return this.check(
      property,
      name,
      ok,
      `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}${context ? ` — ${context}` : ''}`,
    );
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Runs `fn` at the end of the case (last registered first), whatever happened. */
  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  /** A fresh temp dir (mode 0755, so a case may run the CLI as another user), removed at the end. */
  dir(): string {
    const t = tempDir(`interlock-chaos-${this.id}-`);
    chmodSync(t.dir, 0o755);
    this.defer(() => rmSync(t.dir, { recursive: true, force: true }));
    return t.dir;
  }

  async cleanup(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        this.note(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs one case to a result. Never throws. */
export async function runCase(def: CaseDef): Promise<CaseResult> {
  const start = performance.now();
  const base = { id: def.id, group: def.group, fault: def.fault };
  const why = def.requires ? await def.requires().catch((e: unknown) => String(e)) : undefined;
  if (why !== undefined) {
    return {
      ...base,
      status: 'not-runnable',
      properties: [],
      checks: [],
      violations: 0,
      notRunnable: why,
      notes: [],
      durationMs: 0,
    };
  }
  const t = new CaseContext(def.id);
  let error: string | undefined;
  let notRunnable: string | undefined;
  try {
    await withTimeout(def.run(t), def.timeoutMs ?? 90_000, `case ${def.id}`);
  } catch (err) {
    if (err instanceof NotRunnable) notRunnable = err.message;
    else error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    await t.cleanup();
    const killed = killMarked(t.mark);
    if (killed > 0) t.note(`${killed} leftover process(es) of this case killed at the end`);
  }
  const failed = t.checks.filter((c) => !c.ok).length + (error !== undefined ? 1 : 0);
  const properties = (Object.keys(PROPERTIES) as Property[]).filter((p) => t.checks.some((c) => c.property === p));
  const result: CaseResult = {
    ...base,
    status: notRunnable !== undefined && failed === 0 ? 'not-runnable' : failed > 0 ? 'fail' : 'pass',
    properties,
    checks: t.checks,
    violations: failed,
    notes: t.notes,
    durationMs: Math.round(performance.now() - start),
  };
  if (error !== undefined) result.error = error;
  if (notRunnable !== undefined) result.notRunnable = notRunnable;
  if (result.status === 'pass' && t.checks.length === 0) {
    // A case that checked nothing proves nothing.
    result.status = 'fail';
    result.violations = 1;
    result.error = 'the case recorded no checks';
  }
  return result;
}

/** Runs cases, at most `concurrency` at once, reporting each as it ends. Results keep the cases' order. */
export async function runCases(
  defs: CaseDef[],
  concurrency: number,
  onDone: (r: CaseResult) => void,
): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(defs.length);
  let next = 0;
  const worker = async () => {
    while (next < defs.length) {
      const i = next++;
      const r = await runCase(defs[i] as CaseDef);
      results[i] = r;
      onDone(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, defs.length)) }, worker));
  return results;
}

const SHORT: Record<Property, string> = {
  gate: 'gate',
  once: 'once',
  state: 'state',
  error: 'error',
  recovery: 'recovery',
};

/** The summary table: case, fault, properties checked, violations. */
export function summaryTable(results: CaseResult[]): string {
  const rows = results.map((r) => [
    r.id,
    r.fault,
    r.status === 'not-runnable'
      ? `not runnable here: ${r.notRunnable ?? ''}`
      : r.properties.map((p) => SHORT[p]).join(' '),
    r.status === 'not-runnable' ? '-' : String(r.violations),
    r.status === 'not-runnable' ? '-' : `${(r.durationMs / 1000).toFixed(1)}s`,
  ]);
  const head = ['case', 'fault', 'properties checked', 'violations', 'time'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
