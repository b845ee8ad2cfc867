-- 0002_runs: runs with a version for compare-and-swap, the one-active-run-per-pipeline lock,
-- the transition log, and alert de-duplication state.
CREATE TABLE runs (
  run_id      TEXT PRIMARY KEY,
  pipeline    TEXT NOT NULL,
  status      TEXT NOT NULL,
  version     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  record      TEXT NOT NULL           -- RunState as JSON
);
CREATE INDEX runs_by_pipeline ON runs (pipeline, created_at DESC, run_id DESC);

-- At most one row per pipeline: the PRIMARY KEY is the lock.
CREATE TABLE active_runs (
  pipeline    TEXT PRIMARY KEY,
  run_id      TEXT NOT NULL
);

CREATE TABLE run_events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id      TEXT NOT NULL,
  pipeline    TEXT NOT NULL,
  at          INTEGER NOT NULL,
  event       TEXT NOT NULL           -- RunEvent as JSON
);
CREATE INDEX run_events_by_pipeline ON run_events (pipeline, at DESC, seq DESC);

CREATE TABLE alert_state (
  key         TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  sent_at     INTEGER NOT NULL
);
