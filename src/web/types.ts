// The JSON shapes of the API the dashboard reads (the parts it shows; the OpenAPI document has them all).

export type TraitState = 'PASS' | 'FAIL' | 'STALE';
export type Outcome = 'READY' | 'NOT_READY';

export interface Instant {
  at: number;
  utc: string;
  local: string;
}

export interface Blocking {
  trait: string;
  state: TraitState;
  reasonCode: string;
  reason: string;
}

export interface TraitResult {
  trait: string;
  status: 'PASS' | 'FAIL';
  value?: Record<string, unknown>;
  reason?: string;
  reasonCode?: string;
  durationMs: number;
  evaluatedAt: number;
  expiresAt?: number;
  source?: 'push';
}

export interface Run {
  runId: string;
  pipeline: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  triggeredAt?: number;
  finishedAt?: number;
  source: string;
  reason?: string;
  trigger?: { ok?: boolean; error?: string };
  window?: { key: string; attempt: number };
}

export interface WindowView {
  key: string;
  state: string;
  terminal: boolean;
  timezone: string;
  open: Instant;
  after: Instant;
  deadline: Instant;
  note?: string;
  due: Array<{ what: string }>;
  nextWake: (Instant & { reason: string }) | null;
  attempts: Array<{
    attempt: number;
    runId: string;
    claimedAt: Instant;
    result?: string;
    error?: string;
    run: { status: string; reason?: string; trigger?: { error?: string } } | null;
  }>;
  lastDecision: { outcome: Outcome; blocking: Blocking[]; decidedAt: Instant } | null;
  end: { at: Instant; reason: string } | null;
}

export interface Status {
  pipeline: string;
  archetype: string;
  source: string;
  outcome: Outcome;
  lastEvaluatedAt: number | null;
  lastOutcome: Outcome | null;
  blocking: Blocking[];
  note?: string;
  activeRun: Run | null;
  lastRun: Run | null;
  traits: Array<{
    trait: string;
    required: boolean;
    state: TraitState;
    ttlLeftMs: number | null;
    result: TraitResult | null;
  }>;
  scheduled: {
    schedules: Array<{
      schedule: string;
      timezone: string;
      current: WindowView | null;
      next: { key: string; open: Instant; deadline: Instant } | null;
      deadlineInMs: number | null;
    }>;
  } | null;
}

export interface InvalidStatus {
  pipeline: string;
  source: string;
  outcome: 'INVALID';
  problems: Array<{ path: string; message: string; file?: string; line?: number; col?: number }>;
}

export type StatusEntry = Status | InvalidStatus;

export interface Pipeline {
  name: string;
  archetype: string;
  description?: string;
  tier?: number;
  source: string;
  origin: string;
  traits: Array<{ type: string; required: boolean; description?: string; ttlSeconds?: number; push?: true }>;
  trigger?: Record<string, unknown> & { type: string };
}

export interface TraitResultView extends TraitResult {
  state: TraitState;
  required: boolean;
}

export type HistoryEntry =
  | {
      type: 'decision';
      id: string;
      source: string;
      outcome: Outcome;
      blocking: Blocking[];
      note?: string;
      decidedAt: number;
      runId?: string;
    }
  | { type: 'run'; runId: string; from: string | null; to: string; at: number; reason?: string };

export interface WhyTrait extends Blocking {
  required: boolean;
  value: Record<string, unknown> | null;
  blockingSince: Instant | null;
  sinceAtLeast: boolean;
  ttlLeftMs: number | null;
  unblock: string;
}

export interface Why {
  pipeline: string;
  now: Instant;
  summary: string;
  outcome: Outcome;
  note: string | null;
  scheduled: boolean;
  window: WindowView | null;
  deadlineInMs: number | null;
  nextWindow: { key: string; open: Instant; after: Instant; deadline: Instant } | null;
  blocking: WhyTrait[];
  activeRun: Run | null;
  lastRuns: Run[];
}

export interface Session {
  authRequired: boolean;
  signedIn: boolean;
  expiresAt: number | null;
}

/** The badge a row shows: INVALID, READY, STALE (not ready only because results expired or are missing), NOT_READY. */
export type Badge = 'READY' | 'NOT_READY' | 'STALE' | 'INVALID';

export function badgeOf(s: StatusEntry): Badge {
  if (s.outcome === 'INVALID') return 'INVALID';
  if (s.outcome === 'READY') return 'READY';
  return s.blocking.length > 0 && s.blocking.every((b) => b.state === 'STALE') ? 'STALE' : 'NOT_READY';
}
