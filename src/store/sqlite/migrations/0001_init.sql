-- 0001_init: pipelines, latest trait results with expiry, latest readiness, decision records.
CREATE TABLE pipelines (
  name        TEXT PRIMARY KEY,
  spec        TEXT NOT NULL,          -- PipelineSpec as JSON
  updated_at  INTEGER NOT NULL
);

CREATE TABLE trait_results (
  pipeline     TEXT NOT NULL,
  trait        TEXT NOT NULL,
  status       TEXT NOT NULL,         -- PASS | FAIL
  result       TEXT NOT NULL,         -- TraitResult as JSON
  evaluated_at INTEGER NOT NULL,
  expires_at   INTEGER,               -- epoch ms; NULL = never expires
  PRIMARY KEY (pipeline, trait)
);

CREATE TABLE readiness (
  pipeline    TEXT PRIMARY KEY,
  outcome     TEXT NOT NULL,          -- READY | NOT_READY
  readiness   TEXT NOT NULL,          -- Readiness as JSON
  decided_at  INTEGER NOT NULL
);

CREATE TABLE decisions (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  pipeline    TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  decided_at  INTEGER NOT NULL,
  record      TEXT NOT NULL           -- DecisionRecord as JSON
);
CREATE INDEX decisions_by_pipeline ON decisions (pipeline, decided_at DESC, seq DESC);
