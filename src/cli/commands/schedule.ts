// `interlock schedule <pipeline> [--next N] [--from TIME]`: the next windows of a pipeline's schedules (config only).
import { InterlockError } from '../../core/errors.js';
import { parseTime, TIME_FORMS } from '../../core/time.js';
import {
  loadForPreview,
  type PreviewInstant,
  type PreviewSchedule,
  previewSchedule,
  shortWeekday,
} from '../../runtime/schedule-preview.js';
import type { GlobalOptions, Out } from '../output.js';

/** Most windows one call lists per schedule. */
export const MAX_NEXT = 1000;

const pad = (n: number) => String(n).padStart(2, '0');

/** ms as the config writes durations: 1d2h3m4s (exact, zero units left out). */
export function configDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) parts.push(`${Math.floor(s / size)}${unit}`);
    s %= size;
  }
  return parts.join('') || '0s';
}

const timeSpec = (t: NonNullable<PreviewSchedule['after']>) =>
  t.kind === 'time' ? `${pad(t.hour)}:${pad(t.minute)}` : `${configDuration(t.ms)} after open`;

function describeSchedule(s: PreviewSchedule): string {
  const what = s.cron !== undefined ? `cron "${s.cron}"` : `every ${configDuration(s.everyMs ?? 0)} from ${s.anchor}`;
  const extra = [
    s.after ? `after ${timeSpec(s.after)}` : '',
    s.deadline ? `deadline ${timeSpec(s.deadline)}` : 'deadline: next window',
    `catchup ${s.catchup}`,
  ].filter(Boolean);
  return `schedule ${s.name}: ${what} in ${s.timezone}; ${extra.join(', ')}`;
}

/** `2026-03-29 Sun 05:00:00 +02:00` — the local reading, with the offset. */
function local(i: PreviewInstant): string {
  const [date, rest] = i.local.split('T') as [string, string];
  return `${date} ${shortWeekday(date)} ${rest.slice(0, 8)} ${rest.slice(8)}`;
}

export async function schedule(
  out: Out,
  g: GlobalOptions,
  name: string,
  o: { next: string; from?: string },
): Promise<number> {
  const count = Number(o.next);
  if (!Number.isInteger(count) || count < 1 || count > MAX_NEXT) {
    throw new InterlockError('USAGE', `--next must be a whole number from 1 to ${MAX_NEXT}, got '${o.next}'`);
  }
  const now = Date.now();
  let from = now;
  if (o.from !== undefined) {
    const t = parseTime(o.from, now);
    if (t === undefined) throw new InterlockError('USAGE', `--from: cannot read time '${o.from}' (use ${TIME_FORMS})`);
    from = t;
  }
  const project = loadForPreview(process.cwd(), g.config, process.env);
  const p = previewSchedule(project, name, from, count);
  if (out.json) {
    out.printJson(p);
    return 0;
  }
  if (p.schedules.length === 0) {
    out.line(
      `${name} has no schedules: it runs on demand only (interlock run ${name}); add schedules to its YAML file`,
    );
    return 0;
  }
  out.line(
    `${name}: next ${count} window(s) per schedule after ${p.from}${p.mode === 'shadow' ? ' (shadow mode: never fires)' : ''}`,
  );
  for (const s of p.schedules) {
    out.line('');
    out.fitLine(out.c.bold(describeSchedule(s)));
    if (s.windows.length === 0) out.line('  no further windows');
    for (const w of s.windows) {
      const mark = w.excluded ? `  ${out.c.yellow('EXCLUDED')} ${w.exclusion?.reason ?? ''}` : '';
      out.fitLine(`  ${local(w.open)}  ${w.open.utc}${mark}`);
      out.fitLine(out.c.dim(`      after    ${local(w.after)}  ${w.after.utc}`));
      out.fitLine(out.c.dim(`      deadline ${local(w.deadline)}  ${w.deadline.utc}`));
    }
  }
  return 0;
}
