// Built-in checks through the built CLI: `interlock evaluate` runs builtin:file, builtin:http and the SQL builtins
// in-process (no evaluator scripts), decides from their results, masks listed ${VAR} values in them; `validate`
// reports builtin config errors at file:line:col.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in configs are the subject under test.

import { randomBytes } from 'node:crypto';
import { readFileSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-builtins-e2e-');
const TOKEN = 'health-token-3c9d1f';
let server: Server;
let base: string;
let healthy = true;
const urls: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    urls.push(req.url ?? '');
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: healthy ? 'ok' : 'down' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

function project(): string {
  const root = tmp();
  writeFiles(root, {
    'interlock.yaml': 'provider: sqlite\nconnections:\n  warehouse: { url: "sqlite:data/warehouse.db" }\n',
    'archetypes/gate.yaml': [
      'name: gate',
      'requiredTraits:',
      '  - type: landed',
      '    evaluator: builtin:file',
      '    defaultConfig: { path: data/in/_SUCCESS, maxAge: 1h }',
      '  - type: api-up',
      '  - type: rows',
      '  - type: no-negatives',
      '',
    ].join('\n'),
    'pipelines/p.yaml': [
      'name: p',
      'archetype: gate',
      'traits:',
      '  api-up:',
      '    evaluator: builtin:http',
      '    env: [HEALTH_TOKEN]',
      `    config: { url: "${base}/health?token=\${HEALTH_TOKEN}", jsonPath: $.status, equals: ok, timeout: 5s }`,
      '  rows:',
      '    evaluator: builtin:sql-row-count',
      '    config: { connection: warehouse, table: sales, min: 2 }',
      '  no-negatives:',
      '    evaluator: builtin:sql-query',
      '    config: { connection: warehouse, query: "select count(*) from sales where amount < 0", expect: { eq: 0 } }',
      '',
    ].join('\n'),
    'data/in/_SUCCESS': '',
  });
  const db = new Database(join(root, 'data', 'warehouse.db'));
  db.exec('CREATE TABLE sales (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO sales (amount) VALUES (1), (2);');
  db.close();
  return root;
}

const ENV = { HEALTH_TOKEN: TOKEN };

describe('builtins through the CLI', () => {
  it('evaluate runs every builtin in-process: READY, then NOT_READY with each reason code', async () => {
    const root = project();
    healthy = true;
    const ok = await cli(['evaluate', 'p', '--json'], { cwd: root, env: ENV });
    expect(ok.code, show(ok)).toBe(0);
    const ready = json(ok).readiness;
    expect(ready.outcome).toBe('READY');
    const byTrait = Object.fromEntries(
      ready.traits.map((t: { result: { trait: string } }) => [t.result.trait, t.result]),
    );
    expect(byTrait.landed).toMatchObject({ status: 'PASS', value: { path: 'data/in/_SUCCESS', exists: true } });
    expect(byTrait.rows).toMatchObject({ status: 'PASS', value: { rows: 2, min: 2 } });
    expect(byTrait['no-negatives']).toMatchObject({ status: 'PASS', value: { result: 0 } });
    expect(byTrait['api-up']).toMatchObject({ status: 'PASS', value: { status: 200, found: 'ok' } });
    // The server got the token; the result shows it masked, and the store never holds it.
    expect(urls.at(-1)).toBe(`/health?token=${TOKEN}`);
    expect(byTrait['api-up'].value.url).toBe(`${base}/health?token=***`);
    expect(readFileSync(join(root, '.interlock', 'state.db')).toString('latin1')).not.toContain(TOKEN);

    // Now everything goes wrong at once.
    healthy = false;
    const old = (Date.now() - 2 * 3600_000) / 1000;
    utimesSync(join(root, 'data/in/_SUCCESS'), old, old);
    const db = new Database(join(root, 'data', 'warehouse.db'));
    db.exec('INSERT INTO sales (amount) VALUES (-5)');
    db.close();
    const bad = await cli(['evaluate', 'p', '--json'], { cwd: root, env: ENV });
    expect(bad.code, show(bad)).toBe(1);
    const not = json(bad).readiness;
    expect(not.outcome).toBe('NOT_READY');
    const codes = Object.fromEntries(
      not.traits.map((t: { result: { trait: string; reasonCode?: string } }) => [t.result.trait, t.result.reasonCode]),
    );
    expect(codes).toEqual({
      landed: 'CHECK_FAILED',
      'api-up': 'CHECK_FAILED',
      rows: undefined,
      'no-negatives': 'CHECK_FAILED',
    });
  });

  it('a broken connection FAILs its trait (CONNECTION_FAILED) and the others still run', async () => {
    const root = project();
    writeFiles(root, {
      'interlock.yaml': 'provider: sqlite\nconnections:\n  warehouse: { url: "sqlite:data/gone.db" }\n',
    });
    healthy = true;
    const r = await cli(['evaluate', 'p', '--json'], { cwd: root, env: ENV });
    expect(r.code, show(r)).toBe(1);
    const traits = json(r).readiness.traits as Array<{
      result: { trait: string; status: string; reasonCode?: string };
    }>;
    expect(traits.map((t) => [t.result.trait, t.result.status, t.result.reasonCode])).toEqual([
      ['landed', 'PASS', undefined],
      ['api-up', 'PASS', undefined],
      ['rows', 'FAIL', 'CONNECTION_FAILED'],
      ['no-negatives', 'FAIL', 'CONNECTION_FAILED'],
    ]);
  });

  it('a PostgreSQL connection whose URL comes from a listed ${VAR}: the check runs, the password never shows', async () => {
    const schema = `builtin_e2e_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.query(`CREATE TABLE ${schema}.events (loaded_at timestamptz)`);
      await admin.query(`INSERT INTO ${schema}.events VALUES (now() - interval '30 seconds')`);
      const root = tmp();
      writeFiles(root, {
        'interlock.yaml': 'provider: sqlite\nconnections:\n  pg: { url: "${PG_URL}" }\n',
        'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: fresh\n',
        'pipelines/p.yaml': [
          'name: p',
          'archetype: gate',
          'traits:',
          '  fresh:',
          '    evaluator: builtin:sql-freshness',
          '    env: [PG_URL]',
          `    config: { connection: pg, table: ${schema}.events, column: loaded_at, maxLag: 5m }`,
          '',
        ].join('\n'),
      });
      const PG_URL = 'postgres://postgres:pw-never-shown-42@127.0.0.1:5432/test';
      const r = await cli(['evaluate', 'p', '--json'], { cwd: root, env: { PG_URL } });
      expect(r.code, show(r)).toBe(0);
      const result = json(r).readiness.traits[0].result;
      expect(result).toMatchObject({ status: 'PASS', value: { clock: 'database', maxLagSeconds: 300 } });
      expect(result.value.lagSeconds).toBeLessThan(120);
      expect(r.stdout).not.toContain('pw-never-shown-42');
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('validate reports builtin config errors at file:line:col and exits 2', async () => {
    const root = project();
    writeFiles(root, {
      'pipelines/q.yaml': [
        'name: q',
        'archetype: gate',
        'traits:',
        '  rows:',
        '    evaluator: builtin:sql-row-count',
        '    config: { connection: warehouse, table: "sales; drop table sales" }',
        '  api-up:',
        '    evaluator: builtin:htp',
        '',
      ].join('\n'),
    });
    const r = await cli(['validate'], { cwd: root });
    expect(r.code, show(r)).toBe(2);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^pipelines\/q\.yaml:6:45 traits\.rows\.config\.table: builtin:sql-row-count table: expected a table name/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^pipelines\/q\.yaml:8:16 traits\.api-up\.evaluator: unknown builtin 'htp'/),
    );
  });
});
