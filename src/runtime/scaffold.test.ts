// init's Redis key prefix and PostgreSQL schema: one per project directory, safe to write in YAML and on a cluster.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../config/index.js';
import { PG_SCHEMA_PATTERN } from '../config/schema.js';
import { storeConfig } from './context.js';
import { initProject, pgSchemaFor, redisKeyPrefixFor } from './scaffold.js';

describe('redisKeyPrefixFor', () => {
  it('is interlock:<directory name>: with the name lower-cased and reduced to [a-z0-9._-]', () => {
    expect(redisKeyPrefixFor('/srv/demo')).toBe('interlock:demo:');
    expect(redisKeyPrefixFor('/srv/Sales Ingest!')).toBe('interlock:sales-ingest:');
    expect(redisKeyPrefixFor('/srv/a{b}"c\\d:e')).toBe('interlock:a-b-c-d-e:');
    expect(redisKeyPrefixFor('/srv/billing.v2')).toBe('interlock:billing.v2:');
    expect(redisKeyPrefixFor('relative/dir/x_y')).toBe('interlock:x_y:');
  });

  it('never contains braces or quotes, and an unusable name becomes "project"', () => {
    for (const dir of ['/srv/{}', '/srv/ü', '/srv/---', '/srv/...']) {
      const p = redisKeyPrefixFor(dir);
      expect(p, dir).toBe('interlock:project:');
    }
    expect(redisKeyPrefixFor(`/srv/${'x'.repeat(200)}`)).toBe(`interlock:${'x'.repeat(64)}:`);
  });
});

describe('pgSchemaFor and init --provider postgres', () => {
  it('is interlock_<directory name>, a valid schema name (lower-case, [a-z0-9_], at most 48)', () => {
    expect(pgSchemaFor('/srv/demo')).toBe('interlock_demo');
    expect(pgSchemaFor('/srv/Sales Ingest-v2!')).toBe('interlock_sales_ingest_v2');
    expect(pgSchemaFor('/srv/ü')).toBe('interlock_project');
    expect(pgSchemaFor(`/srv/${'x'.repeat(200)}`)).toHaveLength(48);
    for (const d of ['/srv/demo', '/srv/a"b;c', `/srv/${'y_'.repeat(60)}`])
      expect(pgSchemaFor(d)).toMatch(PG_SCHEMA_PATTERN);
  });

  it('writes a postgres block reading the URL from $DATABASE_URL, which loads without errors', () => {
    const parent = mkdtempSync(join(tmpdir(), 'interlock-init-pg-'));
    try {
      const r = initProject({ dir: join(parent, 'demo'), provider: 'postgres' });
      expect(r.postgres).toEqual({ schema: 'interlock_demo' });
      const yaml = readFileSync(join(r.dir, 'interlock.yaml'), 'utf8');
      expect(yaml).toContain('provider: postgres');
      expect(yaml).toContain(`url: "\${DATABASE_URL}"`);
      const p = loadProject(join(r.dir, 'interlock.yaml'), { env: { DATABASE_URL: 'postgres://h/db' } });
      expect(p.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(p.config.provider).toBe('postgres');
      expect(p.config.postgres.schema).toBe('interlock_demo');
      // Opening expands the URL from the environment; a missing variable is CONFIG_INVALID before any connection.
      expect(storeConfig(p.config, r.dir, { DATABASE_URL: 'postgres://u:pw@h/db' }).postgres?.url).toBe(
        'postgres://u:pw@h/db',
      );
      expect(() => storeConfig(p.config, r.dir, {})).toThrowError(/DATABASE_URL is not set/);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
