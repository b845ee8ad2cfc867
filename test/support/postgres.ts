// The real PostgreSQL server of this machine (127.0.0.1:5432, user postgres, trust, database `test`): a URL, fresh
// schemas with unique names, and a cleanup that drops them. Tests, chaos and soak import this file directly.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test server (INTERLOCK_TEST_PG_URL overrides it). */
export const PG_URL = process.env.INTERLOCK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name nobody else uses: `il_test_<random>` (valid for the store: lower-case, short). */
export function freshSchemaName(prefix = 'il_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A connection for the test's own checks (pg_terminate_backend, raw rows). Fails, never skips, without a server. */
export async function pgAdmin(url = PG_URL): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: 'interlock-test-admin' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Drops the schemas (and everything in them). */
export async function dropSchemas(names: Iterable<string>, url = PG_URL): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const c = await pgAdmin(url);
  try {
    for (const s of list) {
      if (!/^[a-z_][a-z0-9_]*$/.test(s)) throw new Error(`not a schema name: ${s}`);
      await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    }
  } finally {
    await c.end();
  }
}
