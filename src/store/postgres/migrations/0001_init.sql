-- 0001_init: the whole PostgreSQL store, in the schema the config names (search_path is set to it by the migrator).
-- Records are kept as the JSON text the store wrote (TEXT, not jsonb: pipelines come back as stored, byte for byte);
-- instants are epoch ms (BIGINT); text keys use the "C" collation so every listing sorts like the other stores.

CREATE TABLE pipelines (
  name        TEXT COLLATE "C" PRIMARY KEY,
  spec        TEXT NOT NULL,          -- PipelineSpec as JSON
  updated_at  BIGINT NOT NULL
);

CREATE TABLE trait_results (
  pipeline     TEXT COLLATE "C" NOT NULL,
  trait        TEXT COLLATE "C" NOT NULL,
  status       TEXT NOT NULL,         -- PASS | FAIL
  result       TEXT NOT NULL,         -- TraitResult as JSON
  evaluated_at BIGINT NOT NULL,
  expires_at   BIGINT,                -- epoch ms; NULL = never expires
  PRIMARY KEY (pipeline, trait)
);

CREATE TABLE readiness (
  pipeline    TEXT COLLATE "C" PRIMARY KEY,
  outcome     TEXT NOT NULL,          -- READY | NOT_READY
  readiness   TEXT NOT NULL,          -- Readiness as JSON
  decided_at  BIGINT NOT NULL
);

CREATE TABLE decisions (
  seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  pipeline    TEXT COLLATE "C" NOT NULL,
  outcome     TEXT NOT NULL,
  decided_at  BIGINT NOT NULL,
  record      TEXT NOT NULL           -- DecisionRecord as JSON
);
CREATE INDEX decisions_by_pipeline ON decisions (pipeline, decided_at DESC, seq DESC);

-- Runs with a version for compare-and-swap. A run key (an occurrence) is claimed by the first run created under it
-- and stays claimed after that run ends; NULLs are distinct, so runs without a key never collide.
CREATE TABLE runs (
  run_id      TEXT COLLATE "C" PRIMARY KEY,
  pipeline    TEXT COLLATE "C" NOT NULL,
  status      TEXT NOT NULL,
  version     BIGINT NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  run_key     TEXT COLLATE "C" UNIQUE,
  record      TEXT NOT NULL           -- RunState as JSON
);
CREATE INDEX runs_by_pipeline ON runs (pipeline, created_at DESC, run_id DESC);

-- At most one row per pipeline: the PRIMARY KEY is the one-active-run lock.
CREATE TABLE active_runs (
  pipeline    TEXT COLLATE "C" PRIMARY KEY,
  run_id      TEXT COLLATE "C" NOT NULL
);

CREATE TABLE run_events (
  seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      TEXT NOT NULL,
  pipeline    TEXT COLLATE "C" NOT NULL,
  at          BIGINT NOT NULL,
  event       TEXT NOT NULL           -- RunEvent as JSON
);
CREATE INDEX run_events_by_pipeline ON run_events (pipeline, at DESC, seq DESC);

-- Alert de-duplication. `key` is alertKeyId() as a JSON string (its NUL separators escaped: TEXT cannot hold NUL).
CREATE TABLE alert_state (
  key         TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  sent_at     BIGINT NOT NULL
);

-- Schedule windows with compare-and-swap. Identity columns (pipeline, schedule, open_at) are fixed at creation.
CREATE TABLE windows (
  key         TEXT COLLATE "C" PRIMARY KEY,
  pipeline    TEXT COLLATE "C" NOT NULL,
  schedule    TEXT COLLATE "C" NOT NULL,
  open_at     BIGINT NOT NULL,
  state       TEXT NOT NULL,
  live        BOOLEAN NOT NULL,       -- while the state is not terminal (isWindowTerminal, decided in TS)
  version     BIGINT NOT NULL,
  record      TEXT NOT NULL           -- WindowRecord as JSON
);
CREATE INDEX windows_by_pipeline ON windows (pipeline, open_at DESC, key DESC);
CREATE INDEX windows_by_schedule ON windows (pipeline, schedule, open_at DESC, key DESC);
CREATE INDEX windows_by_state ON windows (pipeline, state, open_at DESC, key DESC);
CREATE INDEX windows_live ON windows (pipeline) WHERE live;

-- The newest window of each (pipeline, schedule), kept in the transaction of every createWindow.
CREATE TABLE window_heads (
  pipeline    TEXT COLLATE "C" NOT NULL,
  schedule    TEXT COLLATE "C" NOT NULL,
  key         TEXT COLLATE "C" NOT NULL,
  open_at     BIGINT NOT NULL,
  PRIMARY KEY (pipeline, schedule)
);

-- Leases. A new tenure takes its epoch from lease_epochs, so epochs only grow (across every lease name, and even if
-- a row were deleted); a renewal keeps it. A release sets expires_at = 0 and keeps the row.
CREATE SEQUENCE lease_epochs AS BIGINT START 1;
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  epoch       BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL
);

-- The change feed: one row per write that matters, appended in the write's own transaction (which also sends the
-- NOTIFY). A listener that lost its connection sweeps the rows past the last seq it saw.
CREATE TABLE changes (
  seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pipeline    TEXT NOT NULL,
  kind        TEXT NOT NULL,          -- evaluation | run | window | pipeline
  at          BIGINT NOT NULL
);
