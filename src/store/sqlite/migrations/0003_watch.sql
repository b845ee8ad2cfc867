-- 0003_watch: the watcher's storage. Run keys (an occurrence claimed at most once, ever), schedule windows with
-- compare-and-swap, the newest window per (pipeline, schedule), leases with growing epochs, and the change feed.

-- A run key is claimed by the first run created under it and stays claimed after that run ends. NULLs are distinct:
-- runs without a key (manual runs) never collide.
ALTER TABLE runs ADD COLUMN run_key TEXT;
UPDATE runs SET run_key = json_extract(record, '$.runKey')
  WHERE json_valid(record) AND json_type(record, '$.runKey') = 'text';
CREATE UNIQUE INDEX runs_by_key ON runs (run_key);

-- Identity columns (pipeline, schedule, open_at) are fixed at creation: the key is derived from them.
CREATE TABLE windows (
  key         TEXT PRIMARY KEY,
  pipeline    TEXT NOT NULL,
  schedule    TEXT NOT NULL,
  open_at     INTEGER NOT NULL,
  state       TEXT NOT NULL,
  live        INTEGER NOT NULL,       -- 1 while the state is not terminal (isWindowTerminal, decided in TS)
  version     INTEGER NOT NULL,
  record      TEXT NOT NULL           -- WindowRecord as JSON
);
CREATE INDEX windows_by_pipeline ON windows (pipeline, open_at DESC, key DESC);
CREATE INDEX windows_by_schedule ON windows (pipeline, schedule, open_at DESC, key DESC);
CREATE INDEX windows_by_state ON windows (pipeline, state, open_at DESC, key DESC);
CREATE INDEX windows_live ON windows (pipeline) WHERE live = 1;

-- The newest window of each (pipeline, schedule), kept in the same transaction as every createWindow, so heads
-- cost one row per schedule instead of a scan of all history.
CREATE TABLE window_heads (
  pipeline    TEXT NOT NULL,
  schedule    TEXT NOT NULL,
  key         TEXT NOT NULL,
  open_at     INTEGER NOT NULL,
  PRIMARY KEY (pipeline, schedule)
);

-- A lease is never deleted: a release sets expires_at = 0 and keeps the epoch, so epochs only grow.
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  epoch       INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);

-- The change feed: one row per write that matters, appended in the write's own transaction. Readers poll
-- PRAGMA data_version and read rows past the last seq they saw. AUTOINCREMENT: seq never goes back, even when
-- pruning empties the table.
CREATE TABLE changes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline    TEXT NOT NULL,
  kind        TEXT NOT NULL,          -- evaluation | run | window | pipeline
  at          INTEGER NOT NULL
);
