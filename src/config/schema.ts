// Zod schemas for interlock.yaml, archetype and pipeline files, and the human messages their issues turn into.
import { z } from 'zod';
import { builtinNameOf, CONNECTION_URL, isBuiltinName, unknownBuiltinMessage } from '../core/builtin-config.js';
import { DURATION_FORMS, DURATION_PATTERN, parseDuration } from '../core/duration.js';
import {
  AIRFLOW_API_VERSIONS,
  ALERT_KINDS,
  ALERT_LEVELS,
  BUILTIN_NAMES,
  BUILTIN_PREFIX,
  HTTP_METHODS,
  PUSH_EVALUATOR,
  READINESS_RULES,
} from '../core/lists.js';
import { NAME_MAX, NAME_PATTERN } from '../core/names.js';
import { PIPELINE_SCHEDULE_FIELDS, PROJECT_WATCHER_FIELDS } from './schedule-schema.js';
import { type ConfigIssue, strict, unknownKeyMessage, whenPresent } from './schema-kit.js';

export { type ConfigIssue, strict, unknownKeyMessage, whenPresent };

/** Messages tests and docs rely on, word for word. */
export const MESSAGES = {
  required: 'required',
  positiveNumber: 'expected a positive number',
  positiveInteger: 'expected a positive integer',
  pgSchema: 'expected a schema name: lower-case letters, digits and _, at most 48, not starting with a digit',
  nonNegativeInteger: 'expected a non-negative integer',
  name: `must match ${NAME_PATTERN.source.replace(/^\^/, '').replace(/\$$/, '')} (at most ${NAME_MAX} characters)`,
  httpUrl: 'expected an http(s) URL',
  threshold: 'expected a number greater than 0 and at most 1',
  nonEmpty: 'must not be empty',
  alerts: 'expected a list of alert sinks, or a mapping with sinks (and repeatAfter)',
  headerName: "expected an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)",
  headerValue: 'expected one line of printable text (Latin-1, no control characters)',
  forbiddenHeader:
    'cannot be configured: the HTTP client sets Host, Content-Length, Transfer-Encoding, Connection and the other hop-by-hop headers itself',
  origin: 'expected an origin: scheme://host[:port] with no path (e.g. https://dash.example.com)',
  hostname: 'expected a host name or IP address without a port or scheme',
  envName: 'expected an environment variable name (letters, digits and _, not starting with a digit)',
  envToken: 'INTERLOCK_API_TOKEN is never passed to evaluators or commands',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the literal syntax being described.
  triggerUrl: 'expected an http:// or https:// URL (a ${VAR} at the very start may supply it)',
  listenAddress: 'expected host:port, [ipv6]:port or :port (e.g. 127.0.0.1:3000)',
  duration: `expected a positive duration: ${DURATION_FORMS}`,
  nonNegativeDuration: `expected a duration (0 allowed): ${DURATION_FORMS}`,
  connectionUrl:
    'expected a sqlite:PATH URL (relative to interlock.yaml, or absolute), a postgres:// / postgresql:// URL or a mysql:// / mariadb:// URL',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the literal syntax being described.
  secretUrl: 'expected an https:// URL, or a ${VAR} naming the environment variable that holds it',
  routingKey:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the literal syntax being described.
    'expected a 32-character PagerDuty integration key (letters and digits), or a ${VAR} naming the environment variable that holds it',
  publicUrl: 'expected an http(s) URL with no query or fragment (e.g. https://interlock.example.com)',
  awsRegion: 'expected an AWS region (e.g. us-east-1)',
  stateMachineArn: 'expected a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)',
  lambdaFunction:
    'expected a function name, ARN or partial ARN (my-fn, my-fn:alias, arn:aws:lambda:REGION:ACCOUNT:function:my-fn)',
  glueRunKeyArgument: '--interlock-run-key is set by Interlock (the run key, to find the job run again)',
} as const;

const positiveNumber = () =>
  z.number({ error: whenPresent(MESSAGES.positiveNumber) }).positive({ error: MESSAGES.positiveNumber });
const positiveInt = () =>
  z
    .number({ error: whenPresent(MESSAGES.positiveInteger) })
    .int({ error: MESSAGES.positiveInteger })
    .positive({ error: MESSAGES.positiveInteger });
const nonNegativeInt = () =>
  z
    .number({ error: whenPresent(MESSAGES.nonNegativeInteger) })
    .int({ error: MESSAGES.nonNegativeInteger })
    .min(0, { error: MESSAGES.nonNegativeInteger });
/**
 * A duration: a number of seconds, or a string core/duration reads (90s, 15m, 2h, 1d, 1h30m); the output is
 * seconds. `min: 0` allows zero. Every failure says which forms are accepted.
 */
export const durationSchema = (opts: { min?: 0 } = {}) => {
  const message = opts.min === 0 ? MESSAGES.nonNegativeDuration : MESSAGES.duration;
  const seconds = z.number({ error: message });
  return z
    .union(
      [
        opts.min === 0 ? seconds.min(0, { error: message }) : seconds.positive({ error: message }),
        z.string({ error: message }).regex(DURATION_PATTERN, { error: message }),
      ],
      { error: whenPresent(message) },
    )
    .transform((v, ctx) => {
      const s = parseDuration(v);
      if (s === undefined || (opts.min !== 0 && s <= 0)) {
        ctx.addIssue({ code: 'custom', message, input: v });
        return z.NEVER;
      }
      return s;
    })
    .meta({ description: `Seconds: ${DURATION_FORMS}.` });
};

const nonEmptyString = () => z.string().min(1, { error: MESSAGES.nonEmpty });
const stringList = () => z.array(nonEmptyString());
const configObject = () => z.record(z.string(), z.unknown());
/** Names of environment variables handed to a child process (never the API token, which children never get). */
const envList = () =>
  z.array(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: MESSAGES.envName })
      .refine((n) => n !== 'INTERLOCK_API_TOKEN', { error: MESSAGES.envToken }),
  );

/** A pipeline, archetype or trait-type name (see core/names). */
export const nameSchema = z
  .string({ error: whenPresent(MESSAGES.name) })
  .max(NAME_MAX, { error: MESSAGES.name })
  .regex(NAME_PATTERN, { error: MESSAGES.name });

// ---------------------------------------------------------------- interlock.yaml

const D = ' (a duration: seconds, or 90s, 15m, 2h, 1d, 1h30m)';

export const PROVIDERS = ['sqlite', 'redis', 'postgres', 'memory'] as const;

/** A PostgreSQL schema name the store accepts (store/postgres SCHEMA_PATTERN says the same). */
export const PG_SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

/** Defaults of the `alerts` block, in seconds / counts as written in interlock.yaml. */
export const ALERT_DEFAULTS = { repeatAfter: 3600, timeout: 5, webhookTimeout: 2, webhookRetries: 2 } as const;

// RFC 9110 token characters; a bad name would otherwise fail on every send, long after `validate` said OK.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers that describe the connection or the body framing, which fetch (undici) sets itself: a request carrying one
 * would fail or be re-framed at send time, so config refuses them up front.
 */
export const FORBIDDEN_HEADERS: readonly string[] = [
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'expect',
  'te',
  'trailer',
];

/**
 * Request headers as fetch can send them, checked when the config is read rather than when a request is sent:
 * RFC 9110 token names, one line of Latin-1 (a line break would be header injection), and none of FORBIDDEN_HEADERS.
 */
const headersSchema = () =>
  z.record(
    z
      .string()
      .regex(HEADER_NAME, { error: MESSAGES.headerName })
      .refine((n) => !FORBIDDEN_HEADERS.includes(n.toLowerCase()), {
        error: (iss) => `header '${String(iss.input)}' ${MESSAGES.forbiddenHeader}`,
      }),
    z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, { error: MESSAGES.headerValue }),
  );

/** A value that is exactly one `${VAR}` reference: the secret lives in the environment, not in the file. */
export const SECRET_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** PagerDuty integration (routing) keys: 32 characters. */
export const ROUTING_KEY = /^[A-Za-z0-9]{32}$/;

/** PagerDuty's Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Filters every sink may carry: which kinds it gets, and from which level up. */
const sinkFilterFields = {
  kinds: z
    .array(z.enum(ALERT_KINDS))
    .min(1, { error: MESSAGES.nonEmpty })
    .optional()
    .describe('Only these alert kinds go to this sink (default: every kind).'),
  minLevel: z
    .enum(ALERT_LEVELS)
    .optional()
    .describe(`Only alerts at this level or above go to this sink (${ALERT_LEVELS.join(' < ')}; default: all).`),
};

const retryFields = {
  timeout: positiveNumber()
    .default(ALERT_DEFAULTS.webhookTimeout)
    .describe('Seconds to wait for each delivery attempt.'),
  retries: nonNegativeInt()
    .default(ALERT_DEFAULTS.webhookRetries)
    .describe(
      'Retries after a network error, timeout, 5xx, 408 or 429 (429 waits its Retry-After), backing off from 250 ms; other statuses fail at once.',
    ),
};

/** A secret URL: `${VAR}` (expanded from the environment when alerts are sent), or written out (https only). */
const secretUrlSchema = () =>
  z
    .string({ error: whenPresent(MESSAGES.secretUrl) })
    .refine((v) => SECRET_REF.test(v) || (/^https:\/\//i.test(v) && URL.canParse(v)), { error: MESSAGES.secretUrl });

const alertSinkSchema = z.discriminatedUnion('type', [
  strict({ type: z.literal('console'), ...sinkFilterFields }).describe('Print alerts to stderr.'),
  strict({
    type: z.literal('webhook'),
    url: z
      .url({ protocol: /^https?$/, error: whenPresent(MESSAGES.httpUrl) })
      .describe('http(s) URL to POST alerts to.'),
    ...retryFields,
    headers: headersSchema().optional().describe('Extra request headers, e.g. Authorization.'),
    ...sinkFilterFields,
  }).describe('POST alerts as JSON to a URL.'),
  strict({
    type: z.literal('file'),
    path: nonEmptyString().describe('File to append alerts to (JSON lines), relative to interlock.yaml.'),
    ...sinkFilterFields,
  }).describe('Append alerts to a file.'),
  strict({
    type: z.literal('slack'),
    url: secretUrlSchema().describe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the literal syntax being described.
      'The Slack incoming-webhook URL, best as ${SLACK_WEBHOOK_URL} (read from the environment when alerts are sent; never printed).',
    ),
    ...retryFields,
    ...sinkFilterFields,
  }).describe('Post alerts to a Slack channel through an incoming webhook.'),
  strict({
    type: z.literal('pagerduty'),
    routingKey: z
      .string({ error: whenPresent(MESSAGES.routingKey) })
      .refine((v) => SECRET_REF.test(v) || ROUTING_KEY.test(v), { error: MESSAGES.routingKey })
      .describe(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the literal syntax being described.
        'The Events API v2 integration key of the PagerDuty service, best as ${PAGERDUTY_ROUTING_KEY} (never printed).',
      ),
    url: z
      .url({ protocol: /^https?$/, error: whenPresent(MESSAGES.httpUrl) })
      .default(PAGERDUTY_EVENTS_URL)
      .describe(`The Events API v2 endpoint (default ${PAGERDUTY_EVENTS_URL}).`),
    source: nonEmptyString()
      .optional()
      .describe("The event's payload.source: where the problem is (default 'interlock')."),
    ...retryFields,
    ...sinkFilterFields,
  }).describe(
    'Send alerts to PagerDuty (Events API v2): trigger per window (or pipeline) and kind, resolve when it recovers.',
  ),
]);

const alertSinksSchema = z.array(alertSinkSchema);

// Two spellings: the seed's bare list of sinks, or a mapping that also sets the repeat interval. The loader
// normalises both to { repeatAfterSeconds, sinks }. xor (JSON Schema oneOf): a list and a mapping never both match.
const alertsSchema = z.xor(
  [
    alertSinksSchema.describe(
      `Alert sinks (repeatAfter ${ALERT_DEFAULTS.repeatAfter} seconds, timeout ${ALERT_DEFAULTS.timeout} seconds).`,
    ),
    strict({
      repeatAfter: durationSchema({ min: 0 })
        .default(ALERT_DEFAULTS.repeatAfter)
        .describe(`How long before an unchanged alert condition is sent again (0: every time)${D}.`),
      timeout: durationSchema()
        .default(ALERT_DEFAULTS.timeout)
        .describe(
          `How long all sinks together may take to deliver one batch of alerts, retries included; what is not delivered by then is given up with a warning (other sinks, such as a file, still get it)${D}.`,
        ),
      sinks: alertSinksSchema.default([]),
    }),
  ],
  { error: (iss) => (iss.input === undefined ? undefined : `${MESSAGES.alerts}, got ${describeValue(iss.input)}`) },
);

// What `serve` can listen on (api/address.ts parses it): host:port, [ipv6]:port or :port.
const LISTEN_ADDRESS = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]\s]*):\d{1,5}$/;

export const projectSchema = strict({
  provider: z.enum(PROVIDERS).default('sqlite').describe('Where state lives.'),
  sqlite: strict({
    path: nonEmptyString().default('.interlock/state.db').describe('Database file, relative to interlock.yaml.'),
  }).prefault({}),
  redis: strict({
    addr: nonEmptyString().default('localhost:6379').describe('host:port'),
    keyPrefix: z.string().default('interlock:'),
    password: z.string().optional(),
    db: nonNegativeInt().optional(),
    tls: z.boolean().optional(),
    url: nonEmptyString().optional().describe('redis:// or rediss:// URL; overrides addr/password/db/tls.'),
    cluster: stringList().optional().describe('Cluster seed nodes as host:port.'),
    connectTimeout: durationSchema()
      .default(5)
      .describe(`How long to wait for Redis at start before failing (exit 3); also the per-command timeout${D}.`),
    allowEviction: z
      .boolean()
      .optional()
      .describe(
        'Accept a Redis whose maxmemory-policy is not noeviction (or cannot be read). Off: such a server is refused (exit 3), because an evicted run lock lets a second run fire while the first job still runs.',
      ),
  }).prefault({}),
  postgres: strict({
    url: nonEmptyString()
      .optional()
      .describe(
        `postgres:// or postgresql:// URL, e.g. "\${DATABASE_URL}" (\${VAR}s are expanded from the environment when the store opens). Required with provider: postgres.`,
      ),
    schema: z
      .string({ error: whenPresent(MESSAGES.pgSchema) })
      .regex(PG_SCHEMA_PATTERN, { error: MESSAGES.pgSchema })
      .default('interlock')
      .describe("The schema holding Interlock's tables; created (with its tables) at the first start when missing."),
    poolSize: positiveInt().default(10).describe('Connections in the pool (plus one for the change feed).'),
    connectTimeout: durationSchema()
      .default(5)
      .describe(`How long to wait for a PostgreSQL connection before failing (exit 3)${D}.`),
  }).prefault({}),
  server: strict({
    addr: z
      .string({ error: whenPresent(MESSAGES.listenAddress) })
      .regex(LISTEN_ADDRESS, { error: MESSAGES.listenAddress, abort: true })
      .refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, { error: MESSAGES.listenAddress })
      .default('127.0.0.1:3000')
      .describe('host:port, [ipv6]:port or :port (":3000" = all interfaces).'),
    authToken: z
      .string()
      .optional()
      .describe('Bearer token the HTTP API requires (INTERLOCK_API_TOKEN overrides it). Required off loopback.'),
    allowCommandRegistration: z
      .boolean()
      .optional()
      .describe(
        `Trust pipelines registered over HTTP like YAML ones: allow command triggers, evaluators outside evaluatorDirs and \${VAR} expansion in their http triggers.`,
      ),
    allowedHosts: z
      .array(z.string())
      .optional()
      .describe(
        'Loopback/private hosts that http triggers of pipelines registered over HTTP may target (refused otherwise): host names as written in the URL, IP addresses, or CIDR ranges (10.0.0.0/8). Names are resolved and every address checked, at registration and at every fire.',
      ),
    allowedHostnames: z
      .array(z.string().regex(/^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])$/, { error: MESSAGES.hostname }))
      .optional()
      .describe(
        'Host names (besides localhost and loopback addresses) the API answers to in the Host header, e.g. the name a reverse proxy forwards; other Host values get 421.',
      ),
    metricsPublic: z
      .boolean()
      .optional()
      .describe(
        'Serve GET /metrics (Prometheus) without the bearer token, for a scraper that cannot send one. Off: /metrics needs the token like the API.',
      ),
    publicUrl: z
      .string({ error: whenPresent(MESSAGES.publicUrl) })
      .regex(/^https?:\/\/[^\s?#]+$/i, { error: MESSAGES.publicUrl, abort: true })
      .refine((u) => URL.canParse(u), { error: MESSAGES.publicUrl })
      .optional()
      .describe(
        'The URL people reach this server at (behind a proxy, say): alerts (Slack, PagerDuty) link to the pipeline there.',
      ),
    allowedOrigins: z
      .array(z.string().regex(/^https?:\/\/[^/?#@\s]+$/, { error: MESSAGES.origin }))
      .optional()
      .describe(
        "Origins (besides the server's own) whose browser requests the API accepts; a request with any other Origin header gets 403.",
      ),
  }).prefault({}),
  archetypeDirs: stringList().default(['./archetypes']).describe('Directories of archetype YAML files.'),
  evaluatorDirs: stringList().default(['./evaluators']).describe('Directories searched for bare evaluator names.'),
  pipelineDirs: stringList().default(['./pipelines']).describe('Directories of pipeline YAML files.'),
  alerts: alertsSchema.default([]).describe('Where alerts go: a list of sinks, or { repeatAfter, timeout, sinks }.'),
  evaluatorConcurrency: positiveInt().optional().describe('Most evaluators run at once.'),
  connections: z
    .record(
      nameSchema,
      strict({
        url: z
          .string({ error: whenPresent(MESSAGES.connectionUrl) })
          .regex(CONNECTION_URL, { error: MESSAGES.connectionUrl })
          .describe(
            // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the literal syntax being described.
            'sqlite:PATH (relative to interlock.yaml, or absolute), postgres://user:password@host:port/db or mysql:// (mariadb://) user:password@host:port/db. May contain ${VAR}, which the traits using it must list in env.',
          ),
      }),
    )
    .optional()
    .describe('Databases the SQL builtins (builtin:sql-freshness, sql-row-count, sql-query) connect to, by name.'),
  retention: strict({
    decisions: durationSchema()
      .default(30 * 86_400)
      .describe('Readiness decisions older than this are deleted (never the newest of a pipeline).'),
    runs: durationSchema()
      .default(90 * 86_400)
      .describe(
        "Runs that ended longer ago than this are deleted with their transitions (a window's runs only once their window is).",
      ),
    windows: durationSchema()
      .default(90 * 86_400)
      .describe('Schedule windows that ended longer ago than this are deleted (never the newest of a schedule).'),
  })
    .prefault({})
    .describe('How long history is kept: the watcher (in serve and watch) prunes older records in small batches.'),
  ...PROJECT_WATCHER_FIELDS,
}).describe('Interlock project configuration (interlock.yaml).');

// ---------------------------------------------------------------- archetypes

const ARCHETYPE_EVALUATOR_MESSAGE = `expected '${PUSH_EVALUATOR}' or '${BUILTIN_PREFIX}<name>' (archetypes name no other evaluator)`;
/** A `builtin:<name>` reference names a known builtin (anything else passes: it is not a builtin reference). */
const knownBuiltin = (v: string) => {
  const name = builtinNameOf(v);
  return name === undefined || isBuiltinName(name);
};

const traitDefSchema = strict({
  type: nameSchema.describe('Trait type, e.g. source-freshness.'),
  description: z.string().optional(),
  defaultConfig: configObject().optional().describe('Config passed to the evaluator (pipelines override per key).'),
  defaultTtl: durationSchema().optional().describe(`How long a result stays valid${D}.`),
  defaultTimeout: durationSchema().optional().describe(`How long before the evaluator is killed${D}.`),
  defaultEnv: envList()
    .optional()
    .describe(
      'Environment variables passed to the evaluator besides the minimal set (pipelines may replace the list with env); their values are masked in results.',
    ),
  evaluator: z
    .string({ error: whenPresent(ARCHETYPE_EVALUATOR_MESSAGE) })
    .refine((v) => v === PUSH_EVALUATOR || v.startsWith(BUILTIN_PREFIX), {
      error: ARCHETYPE_EVALUATOR_MESSAGE,
      abort: true,
    })
    .refine(knownBuiltin, { error: (iss) => unknownBuiltinMessage(builtinNameOf(String(iss.input)) ?? '') })
    .optional()
    .describe(
      `'${PUSH_EVALUATOR}': results of this trait are pushed (POST /api/pipelines/{id}/traits/{type}, \`interlock push\`), no evaluator runs; a missing or expired result is STALE. '${BUILTIN_PREFIX}<name>' (${BUILTIN_NAMES.join(', ')}): a built-in check run in the Interlock process with defaultConfig. Pipelines may set their own evaluator instead.`,
    ),
});

const readinessRuleSchema = strict({
  type: z.enum(READINESS_RULES, {
    error: (iss) =>
      iss.input === undefined
        ? undefined
        : `unsupported readiness rule '${String(iss.input)}' (supported: ${READINESS_RULES.join(', ')})`,
  }),
  threshold: z
    .number({ error: whenPresent(MESSAGES.threshold) })
    .gt(0, { error: MESSAGES.threshold })
    .lte(1, { error: MESSAGES.threshold })
    .optional()
    .describe('majority-pass: fraction of traits that must pass, in (0, 1].'),
});

export const archetypeSchema = strict({
  name: nameSchema,
  description: z.string().optional(),
  requiredTraits: z.array(traitDefSchema).min(1, { error: MESSAGES.nonEmpty }),
  optionalTraits: z.array(traitDefSchema).optional(),
  readinessRule: readinessRuleSchema.default({ type: 'all-required-pass' }),
}).describe('Interlock archetype: a reusable set of safety traits.');

// ---------------------------------------------------------------- pipelines

const pipelineTraitSchema = strict({
  evaluator: nonEmptyString()
    .refine(knownBuiltin, { error: (iss) => unknownBuiltinMessage(builtinNameOf(String(iss.input)) ?? '') })
    .optional()
    .describe(
      `Executable: a path (contains "/") relative to interlock.yaml, or a name looked up in evaluatorDirs; or '${BUILTIN_PREFIX}<name>' (${BUILTIN_NAMES.join(', ')}): a built-in check run in the Interlock process with this config; or '${PUSH_EVALUATOR}': only pushed results count (POST /api/pipelines/{id}/traits/{type}, \`interlock push\`), nothing runs, a missing or expired result is STALE (an evaluator script named push is ./evaluators/push).`,
    ),
  config: configObject().optional().describe('Merged over the archetype defaultConfig (shallow; pipeline wins).'),
  ttl: durationSchema().optional().describe(`How long a result stays valid${D}.`),
  timeout: durationSchema().optional().describe(`How long before the evaluator is killed${D}.`),
  env: envList()
    .optional()
    .describe(
      `Environment variables passed to the evaluator besides the minimal set (replaces the archetype defaultEnv); config values may reference them as \${VAR}; their values are masked in results.`,
    ),
});

const TRIGGER_TIMEOUT = `How long the trigger may take before it is killed or abandoned${D}.`;
const MAX_RUN = `How long a run may stay unfinished before it is TIMED_OUT${D}.`;

// http or https only, written out, unless the URL starts with a ${VAR} (then the scheme is checked when it fires).
const TRIGGER_URL = /^(?:[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s/?#]|\$\{)/;

/** With each ${VAR} standing in as a plain word, the URL parses (catches `http://` alone, spaces, bad ports). */
function parsesAsUrl(url: string): boolean {
  return url.startsWith('${') || URL.canParse(url.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x'));
}

/** Airflow credentials: a bearer token, or basic auth (username and password); values may be ${VAR}s. */
const airflowAuthSchema = strict({
  bearer: nonEmptyString().optional().describe(`Sent as Authorization: Bearer <token>; e.g. \${AIRFLOW_TOKEN}.`),
  username: nonEmptyString().optional().describe('Basic auth user name.'),
  password: nonEmptyString().optional().describe(`Basic auth password; e.g. \${AIRFLOW_PASSWORD}.`),
}).superRefine((a, ctx) => {
  const basic = a.username !== undefined || a.password !== undefined;
  if (a.bearer !== undefined && basic)
    ctx.addIssue({
      code: 'custom',
      message: 'give either bearer or username and password, not both',
      path: ['bearer'],
    });
  else if (basic && a.username === undefined)
    ctx.addIssue({ code: 'custom', message: 'basic auth needs a username too', path: ['username'] });
  else if (basic && a.password === undefined)
    ctx.addIssue({ code: 'custom', message: 'basic auth needs a password too', path: ['password'] });
  else if (a.bearer === undefined && !basic)
    ctx.addIssue({ code: 'custom', message: 'give bearer, or username and password' });
});

/** AWS regions as written in ARNs and endpoints (us-east-1, us-gov-west-1, cn-north-1, eu-central-2). */
const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
/** Step Functions state machine ARNs (optionally with a version or alias qualifier). */
export const STATE_MACHINE_ARN =
  /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}(?::[A-Za-z0-9_-]+)?$/;
/** Lambda FunctionName as the Invoke API accepts it: a name, a partial ARN or a full ARN, with an optional qualifier. */
const LAMBDA_FUNCTION =
  /^(?:arn:aws[a-zA-Z-]*:lambda:)?(?:[a-z]{2}(?:-gov)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?[a-zA-Z0-9_.-]{1,140}(?::(?:\$LATEST|[a-zA-Z0-9_-]+))?$/;

/** Keys every AWS trigger has: region, profile, endpoint, per-call timeout, maxRunSeconds. */
const awsTargetFields = {
  region: z
    .string({ error: whenPresent(MESSAGES.awsRegion) })
    .regex(AWS_REGION, { error: MESSAGES.awsRegion })
    .optional()
    .describe("The AWS region; default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region (the SDK's chain)."),
  profile: nonEmptyString()
    .optional()
    .describe('A profile of the shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials).'),
  endpoint: z
    .string({ error: whenPresent(MESSAGES.triggerUrl) })
    .regex(TRIGGER_URL, { error: MESSAGES.triggerUrl, abort: true })
    .refine(parsesAsUrl, { error: MESSAGES.triggerUrl })
    .optional()
    .describe("An endpoint override (LocalStack, a VPC endpoint, tests); default: the service's regional endpoint."),
  timeout: durationSchema().optional().describe(`How long each AWS call may take, the SDK's own retries included${D}.`),
  maxRunSeconds: durationSchema().optional().describe(MAX_RUN),
};

const triggerSchema = z.discriminatedUnion('type', [
  strict({
    type: z.literal('command'),
    command: nonEmptyString().describe('Shell command to run.'),
    timeout: durationSchema().optional().describe(TRIGGER_TIMEOUT),
    maxRunSeconds: durationSchema().optional().describe(MAX_RUN),
    env: envList()
      .optional()
      .describe(
        'Environment variables passed to the command besides the minimal set; their values are masked in run records.',
      ),
  }),
  strict({
    type: z.literal('http'),
    method: z.enum(HTTP_METHODS).default('POST'),
    url: z
      .string({ error: whenPresent(MESSAGES.triggerUrl) })
      .regex(TRIGGER_URL, { error: MESSAGES.triggerUrl, abort: true })
      .refine(parsesAsUrl, { error: MESSAGES.triggerUrl })
      .describe(
        `An http:// or https:// URL; may contain \${VAR} references (one at the very start may supply the scheme, checked when the trigger fires).`,
      ),
    headers: headersSchema()
      .optional()
      .describe(
        `Request headers; values may contain \${VAR} references. Host, Content-Length and hop-by-hop headers are refused.`,
      ),
    body: z.string().optional(),
    timeout: durationSchema().optional().describe(TRIGGER_TIMEOUT),
    async: z.boolean().optional(),
    maxRunSeconds: durationSchema().optional().describe(MAX_RUN),
  }),
  strict({
    type: z.literal('airflow'),
    url: z
      .string({ error: whenPresent(MESSAGES.triggerUrl) })
      .regex(TRIGGER_URL, { error: MESSAGES.triggerUrl, abort: true })
      .refine(parsesAsUrl, { error: MESSAGES.triggerUrl })
      .describe(
        `The Airflow webserver's base URL, without /api/v1 (https://airflow.example.com); may contain \${VAR} references.`,
      ),
    dag: nonEmptyString().describe('The DAG id to trigger.'),
    conf: configObject()
      .optional()
      .describe(
        `The DAG run's conf; string values may contain \${VAR} references. Interlock adds its run id, run key and window under \`interlock\`.`,
      ),
    auth: airflowAuthSchema.optional(),
    apiVersion: z
      .enum(AIRFLOW_API_VERSIONS)
      .default('auto')
      .describe('v1 (Airflow 2: /api/v1), v2 (Airflow 3: /api/v2), or auto: ask the server (GET /api/v2/version).'),
    timeout: durationSchema().optional().describe(`How long each Airflow API call may take${D}.`),
    maxRunSeconds: durationSchema().optional().describe(MAX_RUN),
    poll: durationSchema().optional().describe(`How often a RUNNING run's DAG run state is polled (default 30 s)${D}.`),
  }),
  strict({
    type: z.literal('databricks'),
    host: z
      .string({ error: whenPresent(MESSAGES.triggerUrl) })
      .regex(TRIGGER_URL, { error: MESSAGES.triggerUrl, abort: true })
      .refine(parsesAsUrl, { error: MESSAGES.triggerUrl })
      .describe(`The workspace URL (https://adb-123.azuredatabricks.net); may contain \${VAR} references.`),
    jobId: z
      .number({ error: whenPresent(MESSAGES.positiveInteger) })
      .int({ error: MESSAGES.positiveInteger })
      .positive({ error: MESSAGES.positiveInteger })
      .describe('The job to run (Jobs API job_id).'),
    parameters: z
      .record(z.string(), z.string())
      .optional()
      .describe(`The run's job_parameters (string values; \${VAR} references allowed).`),
    token: nonEmptyString().describe(`A bearer token, e.g. \${DATABRICKS_TOKEN}.`),
    timeout: durationSchema().optional().describe(`How long each Databricks API call may take${D}.`),
    maxRunSeconds: durationSchema().optional().describe(MAX_RUN),
    poll: durationSchema().optional().describe(`How often a RUNNING run's job run state is polled (default 30 s)${D}.`),
  }),
  strict({
    type: z.literal('glue'),
    job: nonEmptyString().max(255).describe('The Glue job name (StartJobRun JobName).'),
    arguments: z
      .record(z.string(), z.string())
      .refine((a) => !Object.hasOwn(a, '--interlock-run-key'), { error: MESSAGES.glueRunKeyArgument })
      .optional()
      .describe(
        `The job run's Arguments (e.g. {"--day": "\${INTERLOCK_WINDOW_DATE}"}); string values, \${VAR} references allowed. Interlock adds --interlock-run-key.`,
      ),
    ...awsTargetFields,
    poll: durationSchema().optional().describe(`How often a RUNNING run's job run state is polled (default 30 s)${D}.`),
  }),
  strict({
    type: z.literal('stepfunctions'),
    stateMachineArn: z
      .string({ error: whenPresent(MESSAGES.stateMachineArn) })
      .regex(STATE_MACHINE_ARN, { error: MESSAGES.stateMachineArn })
      .describe('The Standard state machine to start (its region is the default region).'),
    input: configObject()
      .optional()
      .describe(
        `The execution's input object; string values may contain \${VAR} references. Interlock adds its run key and window under \`interlock\`.`,
      ),
    ...awsTargetFields,
    poll: durationSchema()
      .optional()
      .describe(`How often a RUNNING run's execution status is polled (default 30 s)${D}.`),
  }),
  strict({
    type: z.literal('lambda'),
    function: z
      .string({ error: whenPresent(MESSAGES.lambdaFunction) })
      .regex(LAMBDA_FUNCTION, { error: MESSAGES.lambdaFunction })
      .describe('The function to invoke synchronously (a name, a partial ARN or an ARN, optionally :qualifier).'),
    payload: configObject()
      .optional()
      .describe(
        `The event object; string values may contain \${VAR} references. Interlock adds its run key and window under \`interlock\`.`,
      ),
    ...awsTargetFields,
  }),
]);

const pipelineShape = {
  name: nameSchema,
  archetype: nameSchema,
  tier: nonNegativeInt().optional(),
  description: z.string().optional(),
  traits: z.record(nameSchema, pipelineTraitSchema).optional().describe('Per-trait settings, keyed by trait type.'),
  trigger: triggerSchema.optional(),
};

/**
 * A pipeline registered over the HTTP API: a pipeline file without the watcher's blocks (schedules, exclusions,
 * watch, retry, mode), which are YAML-only in this version.
 */
export const pipelineDocumentSchema = strict(pipelineShape).describe('Interlock pipeline (registered over the API).');

/** The watcher's pipeline keys, which only pipeline YAML files may have. */
export const YAML_ONLY_PIPELINE_KEYS = Object.keys(PIPELINE_SCHEDULE_FIELDS) as Array<
  keyof typeof PIPELINE_SCHEDULE_FIELDS
>;

/** A pipeline YAML file. */
export const pipelineSchema = strict({ ...pipelineShape, ...PIPELINE_SCHEDULE_FIELDS }).describe('Interlock pipeline.');

/** interlock.yaml after defaults (paths still as written). */
export type ProjectFile = z.output<typeof projectSchema>;
/** One alert sink after defaults (a file sink's path still as written). */
export type AlertConfig = z.output<typeof alertSinkSchema>;
export type ArchetypeFile = z.output<typeof archetypeSchema>;
export type PipelineFile = z.output<typeof pipelineSchema>;
/** A pipeline document as the API accepts it (PipelineFile without the watcher's blocks). */
export type PipelineDocumentFile = z.output<typeof pipelineDocumentSchema>;

/** Re-exported from core/lists.ts, where they are declared. */
export { HTTP_METHODS, READINESS_RULES };

// ---------------------------------------------------------------- issues → human messages

function describeValue(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `a string ("${v.length > 40 ? `${v.slice(0, 40)}…` : v}")`;
    case 'number':
      return Number.isFinite(v) ? `a number (${v})` : `${v}`;
    case 'boolean':
      return `a boolean (${v})`;
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** The fallback error map: plain messages for issues no schema worded itself. */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return MESSAGES.required;
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describeValue(iss.input)}`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `expected '${String(iss.values[0])}'`
        : `expected one of: ${iss.values.map(String).join(', ')}`;
    case 'invalid_union': {
      const options = 'options' in iss && Array.isArray(iss.options) ? (iss.options as unknown[]) : undefined;
      if (iss.discriminator !== undefined && options) {
        const input = iss.input as Record<string, unknown> | undefined;
        const got = input && typeof input === 'object' ? input[iss.discriminator] : undefined;
        if (got === undefined) return MESSAGES.required;
        return `expected one of: ${options.map(String).join(', ')}`;
      }
      return 'does not match any allowed form';
    }
    case 'unrecognized_keys':
      return iss.keys.map((k) => unknownKeyMessage(k, [])).join('\n');
    case 'invalid_key':
      return iss.issues[0]?.message ?? 'invalid key';
    case 'too_small':
      if (iss.origin === 'array' || iss.origin === 'string') return MESSAGES.nonEmpty;
      return `expected a number ${iss.inclusive ? '≥' : '>'} ${String(iss.minimum)}`;
    case 'too_big':
      if (iss.origin === 'string') return `at most ${String(iss.maximum)} characters`;
      if (iss.origin === 'array') return `at most ${String(iss.maximum)} items`;
      return `expected a number ${iss.inclusive ? '≤' : '<'} ${String(iss.maximum)}`;
    case 'invalid_format':
      if (iss.format === 'url') return MESSAGES.httpUrl;
      return iss.pattern ? `must match ${iss.pattern}` : `invalid ${iss.format}`;
    default:
      return undefined;
  }
};

export type CheckResult<T> = { ok: true; value: T; issues: [] } | { ok: false; issues: ConfigIssue[] };

/**
 * Validates `data` against one of the config schemas and turns every zod issue into a ConfigIssue with a human
 * message: one per unknown key (pointing at the key), record-key problems pointing at the key.
 */
export function checkSchema<S extends z.ZodType>(schema: S, data: unknown): CheckResult<z.output<S>> {
  const r = schema.safeParse(data, { error: errorMap });
  if (r.success) return { ok: true, value: r.data, issues: [] };
  const issues: ConfigIssue[] = [];
  const add = (iss: z.core.$ZodIssue, prefix: PropertyKey[]) => {
    const path = [...prefix, ...iss.path].map((p) => (typeof p === 'number' ? p : String(p)));
    const branch = matchingBranch(iss);
    if (branch) {
      for (const inner of branch) add(inner, path);
    } else if (iss.code === 'unrecognized_keys') {
      const messages = iss.message.split('\n');
      iss.keys.forEach((key, i) => {
        issues.push({ path: [...path, key], message: messages[i] ?? unknownKeyMessage(key, []), atKey: true });
      });
    } else {
      issues.push({ path, message: iss.message, atKey: iss.code === 'invalid_key' });
    }
  };
  for (const iss of r.error.issues) add(iss, []);
  return { ok: false, issues };
}

/**
 * For a failed plain union (alerts: a list or a mapping), the issues of the one option whose shape the input has:
 * every other option failed on the type of the value itself. Reporting that option's issues, each at its own path,
 * says "alerts.0.type: expected one of: …" instead of "does not match any allowed form".
 */
function matchingBranch(iss: z.core.$ZodIssue): z.core.$ZodIssue[] | undefined {
  if (iss.code !== 'invalid_union' || iss.errors.length === 0) return undefined;
  const wrongType = (b: z.core.$ZodIssue[]) => b.length === 1 && b[0].code === 'invalid_type' && b[0].path.length === 0;
  const candidates = iss.errors.filter((b) => !wrongType(b));
  return candidates.length === 1 ? candidates[0] : undefined;
}
