// Times and durations as the CLI words them ("3m 20s", "in 2h 5m", "12 s ago").

/** 1h 2m, 3m 20s, 45s, 350 ms. */
export function duration(ms: number): string {
  const neg = ms < 0;
  let s = Math.abs(ms);
  if (s < 1000) return `${neg ? '-' : ''}${Math.round(s)} ms`;
  s = Math.floor(s / 1000);
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts = d ? [`${d}d`, `${hr}h`] : hr ? [`${hr}h`, `${m}m`] : m ? [`${m}m`, `${sec}s`] : [`${sec}s`];
  return (neg ? '-' : '') + parts.join(' ');
}

/** "in 3m 20s" or "3m 20s ago" relative to now. */
export function relative(at: number, now: number): string {
  const d = at - now;
  if (Math.abs(d) < 1000) return 'now';
  return d > 0 ? `in ${duration(d)}` : `${duration(-d)} ago`;
}

/** ISO date and time to the second, local time zone of the browser. */
export function stamp(at: number): string {
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A one-line compact JSON (long values cut). */
export function compact(v: unknown, max = 160): string {
  const s = JSON.stringify(v) ?? '';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
