// What every SQL builtin shares: take a session of its connection's pool, run, map failures to CONNECTION_FAILED /
// QUERY_FAILED, give the session back.
import { ConnectionFailure, SqlPools, type SqlSession } from './sql-connection.js';
import { type BuiltinContext, type BuiltinOutcome, errMessage, failed } from './types.js';

/** The database's message, cut to a readable length. */
const dbMessage = (err: unknown) => errMessage(err).slice(0, 1000);

/**
 * Runs `body` on a session of connection `name` (from `ctx.sql`'s pool of it, or, without pools, a connection opened
 * for this check only); the session is given back afterwards whatever happens.
 */
export async function withSession(
  name: string,
  ctx: BuiltinContext,
  body: (s: SqlSession) => Promise<BuiltinOutcome>,
): Promise<BuiltinOutcome> {
  const conn = ctx.connections[name];
  if (!conn) return failed('CONNECTION_FAILED', `unknown connection '${name}' (not in interlock.yaml connections)`);
  const own = ctx.sql === undefined ? new SqlPools() : undefined;
  const pools = ctx.sql ?? (own as SqlPools);
  let session: SqlSession;
  try {
    session = await pools.session(conn.url, ctx.projectDir, ctx.timeoutMs, ctx.signal);
  } catch (err) {
    void own?.close();
    if (ctx.signal.aborted) return failed('EVALUATOR_TIMEOUT', `connection '${name}': cancelled while connecting`);
    const why = err instanceof ConnectionFailure ? err.message : `cannot connect: ${dbMessage(err)}`;
    return failed('CONNECTION_FAILED', `connection '${name}': ${why}`, { connection: name });
  }
  try {
    return await body(session);
  } catch (err) {
    if (ctx.signal.aborted) return failed('EVALUATOR_TIMEOUT', `connection '${name}': the query was cancelled`);
    return failed('QUERY_FAILED', `connection '${name}': ${dbMessage(err)}`, { connection: name });
  } finally {
    // Not awaited: after a timeout the connection goes once the server stopped the query; the result does not wait.
    const given = session.close();
    if (own) void given.then(() => own.close());
  }
}

/** `where` (trusted YAML config) as a clause: parenthesised so it cannot change the rest of the statement's shape. */
export const whereClause = (where: string | undefined) => (where === undefined ? '' : ` WHERE (${where})`);

/** A number from a driver value (SQLite integer, bigint, numeric string), or undefined. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}
