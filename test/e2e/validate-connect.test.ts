// `interlock validate --connect` through the built CLI: opens each connection the SQL builtins use (SQLite, the real
// PostgreSQL and MariaDB, each with its own schema/database dropped after) and reports a connection that fails, a
// missing table or column as errors (exit 2) and a sql-schema contract the table breaks as warnings, at file:line:col.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in configs are the subject under test.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-validate-connect-');
const name = `vc_${randomBytes(5).toString('hex')}`;
const pgAdmin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
let my: mysql.Connection;

beforeAll(async () => {
  await pgAdmin.connect();
  await pgAdmin.query(`CREATE SCHEMA ${name}`);
  await pgAdmin.query(`CREATE TABLE ${name}.sales (id integer, loaded_at timestamptz, amount numeric)`);
  my = await mysql.createConnection({ uri: 'mysql://root@127.0.0.1:3306/test' });
  await my.query(`CREATE DATABASE ${name}`);
  await my.query(`CREATE TABLE ${name}.sales (id int, loaded_at timestamp NULL, amount decimal(10,2))`);
});
afterAll(async () => {
  await pgAdmin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await pgAdmin.end();
  await my.query(`DROP DATABASE IF EXISTS ${name}`);
  await my.end();
});

const ARCHETYPE = ['name: gate', 'requiredTraits:', '  - type: a', 'optionalTraits:', '  - type: b', '  - type: c', ''];

function project(pipelines: Record<string, string[]>): string {
  const root = tmp();
  writeFiles(root, {
    'interlock.yaml': [
      'provider: memory',
      'connections:',
      '  lite: { url: "sqlite:wh.db" }',
      '  pgwh: { url: "postgres://postgres@127.0.0.1:5432/test" }',
      '  mywh: { url: "mysql://root:${MY_PW}@127.0.0.1:3306/' + name + '" }',
      '  down: { url: "mariadb://root:hunter2-secret@127.0.0.1:1/x" }',
      '',
    ].join('\n'),
    'archetypes/gate.yaml': ARCHETYPE.join('\n'),
    ...Object.fromEntries(Object.entries(pipelines).map(([f, l]) => [`pipelines/${f}`, `${l.join('\n')}\n`])),
  });
  const db = new Database(join(root, 'wh.db'));
  db.exec('CREATE TABLE events (id INTEGER, at TEXT)');
  db.close();
  return root;
}

const trait = (type: string, builtin: string, config: string, env?: string) => [
  `  ${type}:`,
  `    evaluator: builtin:${builtin}`,
  ...(env ? [`    env: [${env}]`] : []),
  `    config: ${config}`,
];

describe('validate --connect', () => {
  it('every table and column present on all three engines: exit 0, each connection ok', async () => {
    const root = project({
      'p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        ...trait('a', 'sql-freshness', `{ connection: pgwh, table: ${name}.sales, column: loaded_at, maxLag: 1h }`),
        ...trait(
          'b',
          'sql-schema',
          '{ connection: mywh, table: sales, columns: { id: integer, loaded_at: timestamptz, amount: numeric } }',
          'MY_PW',
        ),
        ...trait('c', 'sql-row-count', '{ connection: lite, table: events }'),
      ],
    });
    const r = await cli(['validate', '--connect'], { cwd: root, env: { MY_PW: '' } });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/connection pgwh \(postgres:\/\/postgres@127\.0\.0\.1:5432\/test\): ok/);
    expect(r.stdout).toMatch(/connection mywh \(mysql:\/\/root:\*\*\*@127\.0\.0\.1:3306\/vc_[0-9a-f]+\): ok/);
    expect(r.stdout).toMatch(/connection lite \(sqlite:wh\.db\): ok/);
    expect(r.stdout).toMatch(/^valid: 1 pipeline/m);
    // Without --connect nothing is opened (and nothing said about connections).
    const plain = await cli(['validate'], { cwd: root });
    expect(plain.code, show(plain)).toBe(0);
    expect(plain.stdout).not.toMatch(/connection /);
  });

  it('a missing table or column, a connection that fails: errors at file:line:col, exit 2; contract breaks warn', async () => {
    const root = project({
      'p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        ...trait('a', 'sql-row-count', `{ connection: pgwh, table: ${name}.nope }`),
        ...trait('b', 'sql-freshness', '{ connection: mywh, table: sales, column: landed, maxLag: 1h }', 'MY_PW'),
        ...trait('c', 'sql-schema', '{ connection: lite, table: events, columns: { id: text, gone: int } }'),
      ],
      'q.yaml': [
        'name: q',
        'archetype: gate',
        'traits:',
        ...trait('a', 'sql-query', '{ connection: down, query: "select 1" }'),
      ],
    });
    const r = await cli(['validate', '--connect', '--json'], { cwd: root, env: { MY_PW: '' } });
    expect(r.code, show(r)).toBe(2);
    const out = json<{
      valid: boolean;
      errors: Array<{ file: string; line: number; col: number; path: string; message: string }>;
      warnings: Array<{ file: string; line: number; path: string; message: string }>;
      connections: Array<{ name: string; url: string; ok: boolean; error?: string }>;
    }>(r);
    expect(out.valid).toBe(false);
    const errs = out.errors.map((e) => `${e.file}:${e.line}:${e.col} ${e.path}: ${e.message}`);
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^pipelines/p\\.yaml:6:\\d+ traits\\.a\\.config\\.table: --connect: table ${name}\\.nope does not exist on connection 'pgwh'`,
          ),
        ),
        expect.stringMatching(
          /^pipelines\/p\.yaml:10:\d+ traits\.b\.config\.column: --connect: column landed does not exist in sales on connection 'mywh'/,
        ),
        expect.stringMatching(
          /^pipelines\/q\.yaml:6:\d+ traits\.a\.config\.connection: --connect: connection 'down': .*ECONNREFUSED/,
        ),
      ]),
    );
    expect(errs).toHaveLength(3);
    expect(out.warnings.map((w) => `${w.file}:${w.line} ${w.path}: ${w.message}`)).toEqual([
      'pipelines/p.yaml:13 traits.c.config.columns.id: --connect: events.id is INTEGER, not text: the check will FAIL',
      'pipelines/p.yaml:13 traits.c.config.columns.gone: --connect: events has no column gone: the check will FAIL',
    ]);
    expect(out.connections).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'down', ok: false, url: 'mariadb://root:***@127.0.0.1:1/x' }),
        expect.objectContaining({ name: 'pgwh', ok: true }),
      ]),
    );
    // The password of a URL never shows.
    expect(r.stdout).not.toContain('hunter2-secret');
  });

  it('an unset ${VAR} in a connection URL is an error naming it (nothing is opened for it)', async () => {
    const root = project({
      'p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        ...trait('a', 'sql-row-count', '{ connection: mywh, table: sales }', 'MY_PW'),
      ],
    });
    const r = await cli(['validate', '--connect'], { cwd: root, env: {} });
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toMatch(
      /^pipelines\/p\.yaml:7:\d+ traits\.a\.config\.connection: --connect: connection 'mywh' URL uses \$\{MY_PW\}, not set in the environment/m,
    );
  });
});
