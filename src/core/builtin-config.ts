// The config of each built-in check, as zod schemas: config validation (file:line:col) and the runtime (after ${VAR}
// expansion) parse with the same schema. Pure.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { BUILTIN_NAMES, BUILTIN_PREFIX } from './lists.js';
import { NAME_PATTERN } from './names.js';
import { familyOfName, SQL_TYPE_NAMES } from './sql-types.js';

export type BuiltinName = (typeof BUILTIN_NAMES)[number];

/** `builtin:file` → 'file'; undefined when `ref` is not a builtin reference (an unknown name is still returned). */
export function builtinNameOf(ref: string | undefined): string | undefined {
  return ref?.startsWith(BUILTIN_PREFIX) ? ref.slice(BUILTIN_PREFIX.length) : undefined;
}

export function isBuiltinName(name: string): name is BuiltinName {
  return (BUILTIN_NAMES as readonly string[]).includes(name);
}

/** `unknown builtin 'x' (known: builtin:file, …)`. */
export function unknownBuiltinMessage(name: string): string {
  return `unknown builtin '${name}' (known: ${BUILTIN_NAMES.map((n) => `${BUILTIN_PREFIX}${n}`).join(', ')})`;
}

const DURATION_MESSAGE = 'expected a duration: a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m';
/** Seconds: a positive number, or 90s / 15m / 2h / 1d / 1h30m. */
const duration = () =>
  z.union([z.number(), z.string()], { error: DURATION_MESSAGE }).transform((v, ctx) => {
    const s = parseDuration(v);
    if (s === undefined || s <= 0) {
      ctx.addIssue({ code: 'custom', message: DURATION_MESSAGE, input: v });
      return z.NEVER;
    }
    return s;
  });

const nonNegativeInt = () =>
  z.number({ error: 'expected a non-negative integer' }).int({ error: 'expected a non-negative integer' }).min(0);
const text = () => z.string().min(1, { error: 'must not be empty' });

/** One identifier part: letters, digits, _ and $, not starting with a digit, at most 63 characters (PostgreSQL's). */
const IDENT_PART = '[A-Za-z_][A-Za-z0-9_$]{0,62}';
/** A table (`name` or `schema.name`) or a column (`name`): validated here, quoted by the driver's rules when used. */
export const IDENTIFIER = new RegExp(`^${IDENT_PART}(?:\\.${IDENT_PART})?$`);
export const COLUMN = new RegExp(`^${IDENT_PART}$`);
const IDENT_MESSAGE =
  'expected a table name: letters, digits, _ and $ (not starting with a digit), optionally schema.table; it is quoted, never pasted into SQL';
const COLUMN_MESSAGE =
  'expected a column name: letters, digits, _ and $ (not starting with a digit); it is quoted, never pasted into SQL';
const table = () => z.string({ error: IDENT_MESSAGE }).regex(IDENTIFIER, { error: IDENT_MESSAGE });
const column = () => z.string({ error: COLUMN_MESSAGE }).regex(COLUMN, { error: COLUMN_MESSAGE });
const connection = () =>
  z
    .string({ error: 'expected the name of a connection in interlock.yaml' })
    .min(1, { error: 'expected the name of a connection in interlock.yaml' });

/** `$`, then `.key` or `[index]` steps: `$.status`, `$.items[0].id`. */
export const JSON_PATH = /^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$/;
const HTTP_URL = /^(?:[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s/?#]|\$\{)/;
const scalar = () => z.union([z.string(), z.number(), z.boolean(), z.null()]);
const status = () =>
  z
    .number({ error: 'expected an HTTP status code (100-599)' })
    .int({ error: 'expected an HTTP status code (100-599)' })
    .min(100, { error: 'expected an HTTP status code (100-599)' })
    .max(599, { error: 'expected an HTTP status code (100-599)' });

export const fileConfigSchema = z
  .strictObject({
    path: text()
      .optional()
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the literal syntax being described.
      .describe('File to check, relative to the project root; may use ${INTERLOCK_WINDOW_DATE}.'),
    glob: text().optional().describe('Pattern (*, ?, ** segments) relative to the project root; counts matches.'),
    exists: z.boolean().default(true).describe('false: PASS only when the file is absent.'),
    maxAge: duration().optional().describe('The file (every counted match) modified at most this long ago.'),
    minBytes: nonNegativeInt().optional().describe('The file (every counted match) at least this many bytes.'),
    minCount: nonNegativeInt().optional().describe('glob only: at least this many matches (default 1).'),
  })
  .superRefine((c, ctx) => {
    if ((c.path === undefined) === (c.glob === undefined))
      ctx.addIssue({ code: 'custom', message: 'set exactly one of path and glob', path: [] });
    if (c.minCount !== undefined && c.glob === undefined)
      ctx.addIssue({ code: 'custom', message: 'minCount applies only with glob', path: ['minCount'] });
    if (c.exists === false && (c.maxAge !== undefined || c.minBytes !== undefined))
      ctx.addIssue({ code: 'custom', message: 'exists: false cannot be combined with maxAge or minBytes', path: [] });
  });

export const httpConfigSchema = z
  .strictObject({
    url: z
      .string({ error: 'expected an http:// or https:// URL' })
      .regex(HTTP_URL, { error: 'expected an http:// or https:// URL' }),
    expectStatus: z
      .union([status(), z.array(status()).min(1)])
      .default(200)
      .describe('Status (or list of statuses) that passes; redirects are not followed.'),
    jsonPath: z.string().regex(JSON_PATH, { error: 'expected a JSON path like $.status or $.items[0].id' }).optional(),
    equals: scalar().optional().describe('With jsonPath: the value there must equal this.'),
    timeout: duration().optional().describe('Request timeout (at most the trait timeout).'),
  })
  .superRefine((c, ctx) => {
    if (c.equals !== undefined && c.jsonPath === undefined)
      ctx.addIssue({ code: 'custom', message: 'equals needs jsonPath', path: ['equals'] });
  });

export const sqlFreshnessConfigSchema = z.strictObject({
  connection: connection(),
  table: table(),
  column: column(),
  maxLag: duration(),
  where: text().optional(),
});

export const sqlRowCountConfigSchema = z
  .strictObject({
    connection: connection(),
    table: table(),
    min: nonNegativeInt().optional(),
    max: nonNegativeInt().optional(),
    where: text().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.min !== undefined && c.max !== undefined && c.min > c.max)
      ctx.addIssue({ code: 'custom', message: `min (${c.min}) is greater than max (${c.max})`, path: ['min'] });
  });

const comparable = () => z.union([z.number(), z.string()]);
const expectSchema = z.union([
  z.literal('truthy'),
  z.strictObject({ eq: scalar() }),
  z.strictObject({ ne: scalar() }),
  z.strictObject({ lt: comparable() }),
  z.strictObject({ lte: comparable() }),
  z.strictObject({ gt: comparable() }),
  z.strictObject({ gte: comparable() }),
  z.strictObject({ between: z.tuple([comparable(), comparable()]) }),
]);

export const sqlQueryConfigSchema = z.strictObject({
  connection: connection(),
  query: text(),
  expect: expectSchema.default('truthy'),
});

/** The two ways `builtin:pipeline` picks the upstream's window. */
export const UPSTREAM_WINDOW_MODES = ['same-day', 'latest'] as const;

export const pipelineConfigSchema = z
  .strictObject({
    pipeline: z
      .string({ error: 'expected the name of another pipeline of this project' })
      .regex(NAME_PATTERN, { error: 'expected the name of another pipeline of this project' })
      .describe('The upstream pipeline (defined in YAML in this project) whose completion this trait waits for.'),
    window: z
      .enum(UPSTREAM_WINDOW_MODES, { error: "expected 'same-day' or 'latest'" })
      .default('same-day')
      .describe(
        "same-day: the upstream's window with this window's schedule date (INTERLOCK_WINDOW_DATE) is COMPLETED; latest: the upstream's newest COMPLETED window or run ended at most maxAge ago.",
      ),
    schedule: z
      .string({ error: "expected the name of one of the upstream's schedules" })
      .regex(NAME_PATTERN, { error: "expected the name of one of the upstream's schedules" })
      .optional()
      .describe("Only the upstream's windows of this schedule count (default: any of its schedules)."),
    maxAge: duration()
      .optional()
      .describe('latest: the completion at most this long ago (required); same-day: optionally also this recent.'),
  })
  .superRefine((c, ctx) => {
    if (c.window === 'latest' && c.maxAge === undefined)
      ctx.addIssue({ code: 'custom', message: 'window: latest needs maxAge (how old a completion may be)', path: [] });
  });

export type PipelineDependencyConfig = z.output<typeof pipelineConfigSchema>;
const TYPE_MESSAGE = `expected a column type: one of ${SQL_TYPE_NAMES.join(', ')} (parentheses like varchar(20) are ignored)`;

export const sqlSchemaConfigSchema = z.strictObject({
  connection: connection(),
  table: table(),
  columns: z
    .record(
      column(),
      z.string({ error: TYPE_MESSAGE }).refine((t) => familyOfName(t) !== undefined, { error: TYPE_MESSAGE }),
    )
    .refine((c) => Object.keys(c).length > 0, { error: 'expected at least one column: {name: type}' })
    .describe('The columns the table must have, name → type (integer, bigint, numeric, text, timestamptz, …).'),
});

export type FileConfig = z.output<typeof fileConfigSchema>;
export type HttpConfig = z.output<typeof httpConfigSchema>;
export type SqlFreshnessConfig = z.output<typeof sqlFreshnessConfigSchema>;
export type SqlRowCountConfig = z.output<typeof sqlRowCountConfigSchema>;
export type SqlQueryConfig = z.output<typeof sqlQueryConfigSchema>;
export type SqlSchemaConfig = z.output<typeof sqlSchemaConfigSchema>;
export type SqlExpect = z.output<typeof expectSchema>;

/** Each builtin's config schema, by name. */
export const BUILTIN_CONFIG_SCHEMAS: Record<BuiltinName, z.ZodType> = {
  file: fileConfigSchema,
  http: httpConfigSchema,
  'sql-freshness': sqlFreshnessConfigSchema,
  'sql-row-count': sqlRowCountConfigSchema,
  'sql-query': sqlQueryConfigSchema,
  pipeline: pipelineConfigSchema,
  'sql-schema': sqlSchemaConfigSchema,
};

/** The connection a builtin's config names, if it is one that has one. */
export function connectionOf(config: unknown): string | undefined {
  const c = (config as { connection?: unknown } | null)?.connection;
  return typeof c === 'string' ? c : undefined;
}

/** The URL schemes a `connections.*.url` may use in this version. */
export const CONNECTION_URL = /^(?:sqlite:|postgres(?:ql)?:\/\/|mysql:\/\/|mariadb:\/\/|\$\{)/;
