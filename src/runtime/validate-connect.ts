// Use-case: `interlock validate --connect` — open each connection the SQL builtins name and check that their tables
// (and sql-freshness's column, sql-schema's columns) exist, as diagnostics at the trait's config (file:line:col).
// Loaded only with --connect: it loads the database drivers of the connections it opens.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnosticAt, type LoadedProject, parseYaml } from '../config/index.js';
import { connectionOf } from '../core/builtin-config.js';
import type { Diagnostic } from '../core/errors.js';
import { familiesMatch, familyOfColumn, familyOfName } from '../core/sql-types.js';
import type { PipelineSpec, ResolvedTrait } from '../core/types.js';
import { SqlPools } from '../evaluator/builtin/sql-connection.js';
import { tableColumns } from '../evaluator/builtin/sql-schema.js';

/** What `--connect` found for one connection. */
export interface ConnectionCheck {
  name: string;
  /** The URL with its password masked. */
  url: string;
  ok: boolean;
  error?: string;
}

/** Builtins whose `table` (and columns) are checked; the others (sql-query) only have their connection opened. */
const TABLE_BUILTINS = ['sql-freshness', 'sql-row-count', 'sql-schema'];
const SQL = [...TABLE_BUILTINS, 'sql-query'];
const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** One connection (open + catalogue queries) gives up after this long. */
const CHECK_TIMEOUT_MS = 15_000;

const mask = (url: string) => url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 500);

/**
 * Opens every connection a valid pipeline's SQL builtin uses (`${VAR}` in its URL from `env`, as the trait lists
 * them) and checks what each one names: a connection that cannot be opened, a missing table or a missing
 * sql-freshness column is an error; a sql-schema column that is missing or of another type is a warning (the check
 * itself will FAIL naming it; `--strict` makes it fail validation).
 */
export async function connectDiagnostics(
  project: LoadedProject,
  env: Readonly<NodeJS.ProcessEnv>,
): Promise<{ diagnostics: Diagnostic[]; connections: ConnectionCheck[] }> {
  const pools = new SqlPools();
  const diagnostics: Diagnostic[] = [];
  const checks = new Map<string, ConnectionCheck>();
  const sources = new Map<string, ReturnType<typeof parseYaml> | undefined>();
  const columnsOf = new Map<string, Promise<Awaited<ReturnType<typeof tableColumns>> | Error>>();
  const sourceOf = (p: PipelineSpec) => {
    if (!sources.has(p.source)) {
      try {
        sources.set(p.source, parseYaml(readFileSync(join(project.root, p.source), 'utf8'), p.source));
      } catch {
        sources.set(p.source, undefined);
      }
    }
    return sources.get(p.source);
  };
  const at = (p: PipelineSpec, t: ResolvedTrait, key: Array<string | number>, text: string, warn = false) => {
    const src = sourceOf(p);
    const path = ['traits', t.type, 'config', ...key];
    const severity = warn ? ('warning' as const) : ('error' as const);
    diagnostics.push(
      src
        ? diagnosticAt(src, path, text, { severity })
        : { file: p.source, line: 1, col: 1, path: path.join('.'), message: text, severity },
    );
  };
  try {
    const jobs: Array<Promise<void>> = [];
    for (const p of [...project.pipelines.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      for (const t of p.traits) {
        if (t.builtin === undefined || !SQL.includes(t.builtin)) continue;
        const conn = connectionOf(t.config);
        const written = conn === undefined ? undefined : project.config.connections?.[conn];
        if (conn === undefined || written === undefined) continue; // the config rules already report it
        const unset = [...written.url.matchAll(VAR)].map((m) => m[1] as string).filter((v) => env[v] === undefined);
        if (unset.length) {
          at(
            p,
            t,
            ['connection'],
            `--connect: connection '${conn}' URL uses ${unset.map((v) => `\${${v}}`).join(', ')}, not set in the environment`,
          );
          continue;
        }
        const url = written.url.replace(VAR, (_, v: string) => env[v] ?? '');
        const key = `${conn}\n${url}`;
        if (!checks.has(key)) checks.set(key, { name: conn, url: mask(url), ok: true });
        const check = checks.get(key) as ConnectionCheck;
        const table = typeof t.config.table === 'string' ? t.config.table : undefined;
        const lookup = TABLE_BUILTINS.includes(t.builtin) && table !== undefined && !table.includes('${') ? table : '';
        const ck = `${key}\n${lookup}`;
        if (!columnsOf.has(ck)) columnsOf.set(ck, describe(pools, url, project.root, lookup));
        jobs.push(
          (columnsOf.get(ck) as Promise<Awaited<ReturnType<typeof tableColumns>> | Error>).then((cols) => {
            if (cols instanceof Error) {
              check.ok = false;
              check.error = cols.message;
              at(p, t, ['connection'], `--connect: connection '${conn}': ${cols.message}`);
              return;
            }
            if (lookup === '') return;
            if (cols === undefined) {
              at(p, t, ['table'], `--connect: table ${lookup} does not exist on connection '${conn}'`);
              return;
            }
            const dialect = url.startsWith('sqlite:') ? 'sqlite' : /^postgres/.test(url) ? 'postgres' : 'mysql';
            const find = (name: string) =>
              cols.find((c) => c.name === name) ??
              (dialect === 'postgres' ? undefined : cols.find((c) => c.name.toLowerCase() === name.toLowerCase()));
            const column = t.config.column;
            if (t.builtin === 'sql-freshness' && typeof column === 'string' && !column.includes('${') && !find(column))
              at(p, t, ['column'], `--connect: column ${column} does not exist in ${lookup} on connection '${conn}'`);
            if (t.builtin === 'sql-schema' && t.config.columns && typeof t.config.columns === 'object') {
              for (const [name, type] of Object.entries(t.config.columns as Record<string, unknown>)) {
                const c = find(name);
                const want = typeof type === 'string' ? familyOfName(type) : undefined;
                if (!c)
                  at(p, t, ['columns', name], `--connect: ${lookup} has no column ${name}: the check will FAIL`, true);
                else if (want && !familiesMatch(dialect, want, familyOfColumn(dialect, c.type, c.shown)))
                  at(
                    p,
                    t,
                    ['columns', name],
                    `--connect: ${lookup}.${name} is ${c.shown}, not ${String(type)}: the check will FAIL`,
                    true,
                  );
              }
            }
          }),
        );
      }
    }
    await Promise.all(jobs);
  } finally {
    await pools.close();
  }
  return { diagnostics, connections: [...checks.values()] };
}

/** The columns of `table` on `url` ('' = only open the connection), an Error saying why it could not be asked. */
async function describe(
  pools: SqlPools,
  url: string,
  root: string,
  table: string,
): Promise<Awaited<ReturnType<typeof tableColumns>> | Error> {
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    const s = await pools.session(url, root, CHECK_TIMEOUT_MS, signal);
    try {
      const work = table === '' ? s.query('SELECT 1 AS ok').then(() => []) : tableColumns(s, table);
      const timedOut = new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000}s`)), {
          once: true,
        }),
      );
      return await Promise.race([work, timedOut]);
    } finally {
      void s.close();
    }
  } catch (err) {
    return new Error(message(err));
  }
}
