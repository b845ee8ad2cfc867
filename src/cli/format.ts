// Human formatting of readiness, trait results, status and history for the terminal.
import type { BlockingTrait, DecisionRecord, Readiness, RunState, TraitResult, TraitState } from '../core/types.js';
import type { Colors, Out } from './output.js';

/** 2026-11-28 06:02:13Z */
export function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/**
 * 1.2s, 350ms, 4m05s, 2h10m, 3d4h. Never negative: a span measured across two clocks (a record written by a host
 * whose clock runs ahead) can come out below zero, and "-179590ms ago" says nothing true, so it reads 0ms.
 */
export function formatDuration(input: number): string {
  // biome-ignore lint/complexity/useMathMinMax: Math.max(NaN, 0) is NaN; this maps NaN to 0 as well.
  const ms = input > 0 ? input : 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

export function stateLabel(c: Colors, s: TraitState | 'READY' | 'NOT_READY' | 'INVALID'): string {
  const pad = s.padEnd(5);
  switch (s) {
    case 'PASS':
    case 'READY':
      return c.green(pad);
    case 'FAIL':
    case 'NOT_READY':
    case 'INVALID':
      return c.red(pad);
    default:
      return c.yellow(pad);
  }
}

/**
 * key=value pairs of a trait's value, whole: values are never cut here (piped output keeps every character; on a
 * terminal `Out.fitLine` cuts the whole line to its width).
 */
export function formatValue(value: Record<string, unknown> | undefined): string {
  if (!value) return '';
  return Object.entries(value)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function formatBlocking(b: BlockingTrait): string {
  return `${b.trait}: ${oneLine(b.reason)} [${b.reasonCode}]`;
}

/** One line per trait result: status, name, duration, reason or value. */
export function formatResultLines(c: Colors, results: readonly TraitResult[]): string[] {
  const width = Math.max(...results.map((r) => r.trait.length), 5);
  return results.map((r) => {
    const detail =
      r.status === 'PASS'
        ? c.dim(formatValue(r.value))
        : `${oneLine(r.reason ?? 'evaluator reported FAIL')} ${c.dim(`[${r.reasonCode ?? 'EVALUATOR_FAIL'}]`)}`;
    return `  ${stateLabel(c, r.status)} ${r.trait.padEnd(width)}  ${formatDuration(r.durationMs).padStart(6)}  ${detail}`.trimEnd();
  });
}

/**
 * One line per trait an evaluation did not run (a push trait, or one left out by `only`): its state from the
 * stored result, where that came from and its age.
 */
export function formatReusedLines(
  c: Colors,
  ev: { results: readonly TraitResult[]; readiness: Readiness },
  now: number,
): string[] {
  const fresh = new Set(ev.results.map((r) => r.trait));
  const views = ev.readiness.traits.filter((t) => !fresh.has(t.trait));
  const width = Math.max(...ev.readiness.traits.map((t) => t.trait.length), 5);
  return views.map((t) => {
    const r = t.result;
    const from = r
      ? `${r.source === 'push' ? 'pushed' : 'stored'} ${formatDuration(now - r.evaluatedAt)} ago`
      : 'no result';
    const detail = t.state === 'PASS' ? formatValue(r?.value) : oneLine(r?.reason ?? (r ? '' : 'push or evaluate it'));
    return `  ${stateLabel(c, t.state)} ${t.trait.padEnd(width)}  ${c.dim(from)}  ${detail}`.trimEnd();
  });
}

/** The verdict: READY, or NOT_READY with each blocking trait and why. */
export function formatVerdict(c: Colors, r: Readiness): string[] {
  if (r.outcome === 'READY') return [c.bold(c.green('READY'))];
  const lines = [c.bold(c.red('NOT_READY'))];
  if (r.note) lines.push(`  ${r.note}`);
  for (const b of r.blocking) lines.push(`  blocked by ${formatBlocking(b)}`);
  return lines;
}

export function formatDecision(c: Colors, d: DecisionRecord): string[] {
  const head = `${formatTime(d.decidedAt)}  ${stateLabel(c, d.outcome)}${d.outcome === 'READY' ? '    ' : ''}  ${c.dim(`${d.source}${d.runId ? ` run ${d.runId}` : ''}  ${d.id}`)}`;
  const lines = [head];
  if (d.note) lines.push(`    ${d.note}`);
  for (const b of d.blocking) lines.push(`    blocked by ${formatBlocking(b)}`);
  return lines;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
const ANSI = /\x1b\[[0-9;]*m/g;
const visibleWidth = (s: string) => s.replace(ANSI, '').length;

/** Left-aligned columns two spaces apart, in time linear in the number of cells (colour codes don't count). */
export function formatColumns(head: string[], rows: string[][]): string[] {
  const widths = head.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, visibleWidth(r[i]));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - visibleWidth(c))))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** One line of `interlock runs <pipeline>`. */
export function runLine(out: Out, r: RunState, now: number): string {
  const age = formatDuration(now - r.createdAt);
  const trig = r.trigger
    ? r.trigger.type === 'http'
      ? `http ${r.trigger.httpStatus ?? '-'}`
      : r.trigger.type === 'command'
        ? `exit ${r.trigger.exitCode ?? r.trigger.signal ?? '-'}`
        : `${r.trigger.type} ${r.platform?.state ?? r.trigger.httpStatus ?? '-'}`
    : '';
  return `${r.runId}  ${stateLabel(out.c, r.status as never).padEnd(10)}  ${formatTime(r.createdAt)} (${age} ago)  ${trig}  ${out.c.dim(r.reason ?? '')}`.trimEnd();
}

/** Several lines on one run: status, trigger outcome, output tails, metadata. */
export function describeRun(r: RunState, now: number): string[] {
  const lines = [
    `run ${r.runId}  ${r.status}  (v${r.version}, ${r.source}, started ${formatTime(r.createdAt)}, ${formatDuration(now - r.createdAt)} ago)`,
  ];
  if (r.reason) lines.push(`  ${r.reason}`);
  const t = r.trigger;
  if (t) {
    if (t.type === 'command') {
      lines.push(
        `  trigger: command, ${t.ok ? 'succeeded' : 'failed'}${t.exitCode !== undefined && t.exitCode !== null ? `, exit ${t.exitCode}` : ''}${t.signal ? `, ${t.signal}` : ''}, ${formatDuration(t.durationMs)}`,
      );
      if (t.stdoutTail) lines.push(`  stdout: ${t.stdoutTail.trimEnd().split('\n').slice(-5).join('\n          ')}`);
      if (t.stderrTail) lines.push(`  stderr: ${t.stderrTail.trimEnd().split('\n').slice(-5).join('\n          ')}`);
    } else if (t.type !== 'http') {
      lines.push(
        `  trigger: ${t.type} ${t.url ?? ''} → ${t.httpStatus ?? 'no response'}${t.adopted ? ' (already triggered under this run key: adopted)' : ''}, ${formatDuration(t.durationMs)}`,
      );
      if (r.platform)
        lines.push(
          `  job: ${r.platform.id}${r.platform.state ? ` ${r.platform.state}` : ''}${r.platform.polledAt !== undefined ? ` (polled ${formatTime(r.platform.polledAt)})` : ''}`,
        );
    } else {
      lines.push(
        `  trigger: http ${t.method ?? ''} ${t.url ?? ''} → ${t.httpStatus ?? 'no response'}, ${formatDuration(t.durationMs)}`,
      );
      if (t.bodyExcerpt && !t.ok) lines.push(`  response: ${t.bodyExcerpt.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
    if (t.error) lines.push(`  error: ${t.error}`);
  }
  if (r.metadata) lines.push(`  metadata: ${JSON.stringify(r.metadata)}`);
  return lines;
}
