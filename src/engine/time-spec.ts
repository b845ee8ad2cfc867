// PURE: a time of a window as config writes it (a leaf: schedule.ts and sla.ts both use it).

/** `after` / `deadline` / sla deadlines as written: a local wall time (HH:MM) or a duration after the window opens. */
export type TimeSpec = { kind: 'time'; hour: number; minute: number } | { kind: 'offset'; ms: number };
