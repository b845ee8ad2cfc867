// Use-cases: register and remove pipelines at run time (POST/DELETE /api/pipelines), and the public view of a spec.
// YAML is the source of truth: a name a YAML file defines can be neither registered nor deleted here.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import {
  checkPipelineDocument,
  checkSchema,
  type DocumentProblem,
  formatPath,
  type ProjectConfig,
} from '../config/index.js';
import { InterlockError } from '../core/errors.js';
import { isInvalid } from '../core/invalid.js';
import { SQL_BUILTINS } from '../core/lists.js';
import { isWindowVar } from '../core/run-vars.js';
import type { InvalidPipeline, PipelineSpec } from '../core/types.js';
import { confineEvaluator } from '../evaluator/index.js';
import type { StoredPipeline } from '../store/index.js';
import {
  type AddressPolicy,
  checkHost,
  literalHostReason,
  missingTriggerVars,
  redactCredentialParams,
  redactUrlUserinfo,
} from '../trigger/index.js';
import type { Context } from './context-type.js';

/** The structural schema of a pipeline document (a pipeline YAML file's shape), for adapters that document it. */

/** What a caller of the HTTP API may register without being trusted like a YAML author. */
export interface RegistrationPolicy {
  /**
   * Trust registrations like YAML: command triggers, evaluators outside evaluatorDirs and `${VAR}` environment
   * expansion in http triggers are allowed. Default false.
   */
  allowCommandRegistration: boolean;
  /** Loopback/private hosts that http triggers may target anyway (hostnames or IPs, no port). */
  allowedHosts: readonly string[];
}

/**
 * The policy interlock.yaml's `server:` block sets: the one place it is built (the use-cases here and the HTTP
 * server's settings both take it from this).
 */
export function registrationPolicy(config: Pick<ProjectConfig, 'server'>): RegistrationPolicy {
  return {
    allowCommandRegistration: config.server.allowCommandRegistration ?? false,
    allowedHosts: [...(config.server.allowedHosts ?? [])],
  };
}

/**
 * True for a pipeline that must be held to the registration policy at every use: one from the store (registered
 * over the API), unless server.allowCommandRegistration trusts those like YAML.
 */
export function isUntrusted(ctx: Context, spec: PipelineSpec): boolean {
  return spec.source === 'api' && !registrationPolicy(ctx.project.config).allowCommandRegistration;
}

/** Where untrusted http triggers may connect (server.allowedHosts), with the context's resolver. */
export function addressPolicy(ctx: Context): AddressPolicy {
  return {
    allowedHosts: registrationPolicy(ctx.project.config).allowedHosts,
    ...(ctx.resolveHost ? { resolve: ctx.resolveHost } : {}),
  };
}

/** The host of an http trigger's URL when its scheme and host are written out, else undefined. */
function literalUrlHost(url: string): string | undefined {
  const authority = authorityOf(url);
  if (authority === undefined || authority.includes('${')) return undefined;
  try {
    return new URL(authority).hostname;
  } catch {
    return undefined;
  }
}

export interface Registration {
  pipeline: PipelineSpec;
  /** false: the same document was already registered (nothing changed). */
  created: boolean;
  /** Problems that do not block (an evaluator not found yet: the trait evaluates FAIL until it exists). */
  warnings: DocumentProblem[];
}

/** The part of a URL template before its path: `scheme://userinfo@host:port`. */
function authorityOf(url: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(url);
  return m ? m[0] : undefined;
}

/** Why the policy refuses `spec` (one entry per problem), or []. */
export function policyProblems(ctx: Context, spec: PipelineSpec, policy: RegistrationPolicy): DocumentProblem[] {
  const out: DocumentProblem[] = [];
  const trusted = policy.allowCommandRegistration;
  const t = spec.trigger;
  if (t?.type === 'command' && !trusted) {
    out.push({
      path: 'trigger.type',
      message:
        'command triggers cannot be registered over HTTP (they run shell commands on this server); ' +
        'define the pipeline in YAML, or set server.allowCommandRegistration: true',
    });
  }
  if ((t?.type === 'glue' || t?.type === 'stepfunctions' || t?.type === 'lambda') && !trusted) {
    out.push({
      path: 'trigger.type',
      message:
        `${t.type} triggers cannot be registered over HTTP (they act with this server's AWS credentials); ` +
        'define the pipeline in YAML, or set server.allowCommandRegistration: true',
    });
  }
  if (!trusted) {
    const dirs = ctx.project.config.evaluatorDirs;
    for (const trait of spec.traits) {
      // The archetype (YAML, trusted) may pass variables; a registration may not add any of its own.
      const arch = ctx.project.archetypes.get(spec.archetype);
      const def = [...(arch?.requiredTraits ?? []), ...(arch?.optionalTraits ?? [])].find((d) => d.type === trait.type);
      const added = (trait.env ?? []).filter((n) => !(def?.defaultEnv ?? []).includes(n));
      if (added.length) {
        out.push({
          path: `traits.${trait.type}.env`,
          message: `pipelines registered over HTTP cannot pass environment variables to evaluators beyond the archetype's defaultEnv (${added.join(', ')}): they are this server's (or set server.allowCommandRegistration: true)`,
        });
      }
      if (trait.builtin !== undefined && SQL_BUILTINS.includes(trait.builtin)) {
        out.push({
          path: `traits.${trait.type}.evaluator`,
          message: `builtin:${trait.builtin} runs SQL on this server's databases; pipelines registered over HTTP cannot use SQL builtins (define the pipeline in YAML, or set server.allowCommandRegistration: true)`,
        });
      }
      if (trait.builtin === 'http') {
        // As for http triggers: the host written out, an IP literal or localhost checked now; names at every check.
        const url = typeof trait.config.url === 'string' ? trait.config.url : '';
        const authority = authorityOf(url);
        let why: string | undefined;
        if (authority === undefined || authority.includes('${')) {
          why = `the scheme and host of a builtin:http check registered over HTTP must be written out (no \${VAR})`;
        } else {
          try {
            why = literalHostReason(new URL(authority).hostname, policy.allowedHosts);
          } catch {
            why = 'not a valid URL';
          }
        }
        if (why !== undefined) out.push({ path: `traits.${trait.type}.config.url`, message: why });
      }
      if (trait.evaluator === undefined) continue;
      // By real path: a symlink in evaluatorDirs pointing out of it (to /bin/sh, a linked /usr/bin) is outside.
      const c = confineEvaluator(trait.evaluator, dirs);
      if (c.ok) continue;
      const really = c.real !== undefined && c.real !== trait.evaluator ? ` (really ${c.real})` : '';
      out.push({
        path: `traits.${trait.type}.evaluator`,
        message: `evaluator '${trait.evaluatorRef ?? trait.evaluator}' resolves outside evaluatorDirs${really}; pipelines registered over HTTP may only use evaluators from evaluatorDirs, symlinks resolved (or set server.allowCommandRegistration: true)`,
      });
    }
  }
  // An airflow trigger is an http client too: the same rules (its url, its ${VAR}s in auth and conf).
  if ((t?.type === 'http' || t?.type === 'airflow' || t?.type === 'databricks') && !trusted) {
    const urlField = t.type === 'databricks' ? 'trigger.host' : 'trigger.url';
    const authority = authorityOf(t.type === 'databricks' ? t.host : t.url);
    let host: string | undefined;
    if (authority === undefined || authority.includes('${')) {
      out.push({
        path: urlField,
        message: `the scheme and host of an ${t.type} trigger registered over HTTP must be written out (no \${VAR})`,
      });
    } else {
      try {
        const u = new URL(authority);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') {
          out.push({ path: urlField, message: `expected an http(s) URL, got ${u.protocol}` });
        } else {
          host = u.hostname;
        }
      } catch {
        out.push({ path: urlField, message: 'not a valid URL' });
      }
    }
    // IP literals and localhost names here; names are resolved and checked by registerPipeline and at fire time.
    const why = host === undefined ? undefined : literalHostReason(host, policy.allowedHosts);
    if (why !== undefined) out.push({ path: urlField, message: why });
    // ${VAR} would send this server's environment (secrets included) wherever the caller points the trigger.
    // Interlock's window variables are not the server's environment: allowed (they exist only in window runs).
    const vars = missingTriggerVars(t, {}).filter((v) => !isWindowVar(v));
    if (vars.length) {
      out.push({
        path: 'trigger',
        message: `${t.type} triggers registered over HTTP cannot reference environment variables (${vars.map((v) => `\${${v}}`).join(', ')}); only Interlock's own \${INTERLOCK_RUN_ID}, \${INTERLOCK_PIPELINE}, \${INTERLOCK_RUN_KEY} and the window variables are expanded (or set server.allowCommandRegistration: true)`,
      });
    }
  }
  return out;
}

/**
 * Validates a pipeline document like a pipeline YAML file of the project (schema, then archetype and trait rules).
 * @throws InterlockError CONFIG_INVALID listing every problem in `problems` ({path, message}).
 */
export function validatePipelineDocument(ctx: Context, document: unknown) {
  const checked = checkPipelineDocument(ctx.project, document, 'api');
  if (!checked.ok) {
    const n = checked.problems.length;
    const first = checked.problems[0];
    const where = first?.path ? `${first.path}: ` : '';
    throw new InterlockError(
      'CONFIG_INVALID',
      `invalid pipeline document (${n} ${n === 1 ? 'problem' : 'problems'}): ${where}${first?.message ?? ''}${n > 1 ? '; …' : ''}`,
      { problems: checked.problems },
    );
  }
  return checked;
}

/**
 * Registers a pipeline from a document of the YAML file's shape (POST /api/pipelines). In order:
 * invalid (schema, unknown archetype, undeclared trait…) → CONFIG_INVALID with every problem (400);
 * a name a YAML file defines → ALREADY_EXISTS (409); refused by the policy → FORBIDDEN with every problem (403);
 * another document already registered under the name → ALREADY_EXISTS (409; delete it first);
 * the same document again → no change. Registered pipelines live in the store and survive restarts.
 */
export async function registerPipeline(
  ctx: Context,
  document: unknown,
  policy: RegistrationPolicy = registrationPolicy(ctx.project.config),
): Promise<Registration> {
  const checked = validatePipelineDocument(ctx, document);
  const spec = checked.spec;
  const yaml = ctx.project.pipelines.get(spec.name) ?? ctx.project.invalid.get(spec.name);
  if (yaml) {
    throw new InterlockError(
      'ALREADY_EXISTS',
      `pipeline '${spec.name}' is defined in ${yaml.source}; YAML-defined pipelines cannot be replaced through the API`,
      { pipeline: spec.name },
    );
  }
  const refused = policyProblems(ctx, spec, policy);
  const warnings = checked.warnings;
  const host =
    spec.trigger && !policy.allowCommandRegistration
      ? spec.trigger.type === 'http' || spec.trigger.type === 'airflow'
        ? literalUrlHost(spec.trigger.url)
        : spec.trigger.type === 'databricks'
          ? literalUrlHost(spec.trigger.host)
          : undefined
      : undefined;
  if (refused.length === 0 && host !== undefined) {
    // A name is resolved now and again at every fire (where the checked address is the one connected to). One
    // that does not resolve yet is accepted: at fire time it fails closed (nothing is sent).
    const dns = await checkHost(host, { ...addressPolicy(ctx), allowedHosts: policy.allowedHosts });
    if (!dns.ok && !dns.unresolved) refused.push({ path: 'trigger.url', message: dns.reason });
  }
  if (refused.length) {
    throw new InterlockError(
      'FORBIDDEN',
      `pipeline '${spec.name}' cannot be registered over HTTP: ${refused.map((p) => p.message).join('; ')}`,
      { pipeline: spec.name, problems: refused },
    );
  }
  const existing = await ctx.store.getPipeline(spec.name);
  if (existing) {
    if (isDeepStrictEqual(parseOrUndefined(existing.json), spec)) {
      return { pipeline: spec, created: false, warnings };
    }
    throw new InterlockError(
      'ALREADY_EXISTS',
      `pipeline '${spec.name}' is already registered with a different definition; DELETE it first`,
      { pipeline: spec.name },
    );
  }
  await ctx.store.putPipeline(spec);
  return { pipeline: spec, created: true, warnings };
}

function parseOrUndefined(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- registered pipelines read back from the store
// Whoever can write to the store is trusted no more than an API caller: every read is checked like a registration.

export type StoredPipelineCheck = { ok: true; spec: PipelineSpec } | { ok: false; invalid: InvalidPipeline };

// The shape registration writes (a resolved PipelineSpec). Strict: a key registration never writes is a problem.
// Fields whose values the document check below re-derives are only type-checked here.
const storedTrait = z.strictObject({
  type: z.string(),
  description: z.string().optional(),
  required: z.boolean(),
  evaluator: z.string().optional(),
  evaluatorRef: z.string().optional(),
  push: z.literal(true).optional(),
  builtin: z.string().optional(),
  config: z.record(z.string(), z.unknown()),
  ttlSeconds: z.number().optional(),
  timeoutSeconds: z.number(),
  env: z.array(z.string()).optional(),
});
const storedSpec = z.strictObject({
  name: z.string(),
  archetype: z.string(),
  tier: z.unknown().optional(),
  description: z.unknown().optional(),
  traits: z.array(storedTrait),
  readinessRule: z.unknown(),
  trigger: z.unknown().optional(),
  source: z.literal('api'),
});

/** The registration document a stored spec stands for (what POST /api/pipelines would have been sent). */
function documentOf(spec: z.output<typeof storedSpec>): Record<string, unknown> {
  const traits: Record<string, Record<string, unknown>> = {};
  for (const t of spec.traits) {
    const d: Record<string, unknown> = { config: t.config, timeout: t.timeoutSeconds };
    // The stored absolute path is ignored: the reference is located again, as registration did.
    if (t.evaluatorRef !== undefined) d.evaluator = t.evaluatorRef;
    if (t.ttlSeconds !== undefined) d.ttl = t.ttlSeconds;
    if (t.env !== undefined) d.env = t.env;
    traits[t.type] = d;
  }
  const doc: Record<string, unknown> = { name: spec.name, archetype: spec.archetype, traits };
  for (const k of ['tier', 'description', 'trigger'] as const) if (spec[k] !== undefined) doc[k] = spec[k];
  return doc;
}

function invalid(entry: StoredPipeline, problems: DocumentProblem[]): StoredPipelineCheck {
  return { ok: false, invalid: { name: entry.name, source: 'api', status: 'INVALID', problems } };
}

/**
 * Checks one stored registration exactly as POST /api/pipelines checks a document — the same schema, archetype and
 * trait rules, then the same registration policy — and returns the spec those checks derive (not the stored one:
 * a stored evaluator path, readiness rule or `required` flag is never taken on trust). Never throws.
 */
export function checkStoredPipeline(ctx: Context, entry: StoredPipeline): StoredPipelineCheck {
  let data: unknown;
  try {
    data = JSON.parse(entry.json);
  } catch {
    return invalid(entry, [{ path: '', message: 'the stored entry is not valid JSON' }]);
  }
  const shape = checkSchema(storedSpec, data);
  if (!shape.ok) {
    return invalid(
      entry,
      shape.issues.map((i) => ({ path: formatPath(i.path), message: `stored entry: ${i.message}` })),
    );
  }
  const stored = shape.value;
  const problems: DocumentProblem[] = [];
  if (stored.name !== entry.name) {
    problems.push({ path: 'name', message: `the entry stored under '${entry.name}' names '${stored.name}'` });
  }
  const types = stored.traits.map((t) => t.type);
  const dup = types.find((t, i) => types.indexOf(t) !== i);
  if (dup !== undefined) problems.push({ path: 'traits', message: `trait '${dup}' is stored twice` });
  if (problems.length) return invalid(entry, problems);

  const checked = checkPipelineDocument(ctx.project, documentOf(stored), 'api');
  if (!checked.ok) return invalid(entry, checked.problems);
  const refused = policyProblems(ctx, checked.spec, registrationPolicy(ctx.project.config));
  if (refused.length) return invalid(entry, refused);
  return { ok: true, spec: checked.spec };
}

/** An INVALID pipeline as the API lists it. */
const SECRET_HEADER = /auth|cookie|token|secret|passw|key|credential|signature/i;
const ONLY_VARS = /^(\s*(Bearer|Basic|Token)?\s*\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*)+$/i;

/**
 * A pipeline as the API shows it: where it comes from (`origin`), and literal credentials in its trigger masked
 * (secret-looking header values, URL passwords, secret-looking query parameters and body members).
 * `${VAR}` references are kept: they are not secrets.
 */
export function pipelineView(spec: PipelineSpec): ReturnType<typeof specView>;
export function pipelineView(spec: PipelineSpec | InvalidPipeline): ReturnType<typeof specView> | InvalidView;
export function pipelineView(spec: PipelineSpec | InvalidPipeline) {
  if (isInvalid(spec)) return { ...spec, origin: spec.source === 'api' ? ('api' as const) : ('yaml' as const) };
  return specView(spec);
}

type InvalidView = InvalidPipeline & { origin: 'api' | 'yaml' };

function specView(spec: PipelineSpec) {
  const view = { ...spec, origin: spec.source === 'api' ? ('api' as const) : ('yaml' as const) };
  const t = spec.trigger;
  if (t?.type === 'http') {
    const headers = t.headers
      ? Object.fromEntries(
          Object.entries(t.headers).map(([k, v]) => [k, SECRET_HEADER.test(k) && !ONLY_VARS.test(v) ? '***' : v]),
        )
      : undefined;
    view.trigger = {
      ...t,
      url: redactCredentialParams(redactUrlUserinfo(t.url)),
      ...(headers ? { headers } : {}),
      ...(t.body !== undefined ? { body: redactCredentialParams(t.body) } : {}),
    };
  } else if (t?.type === 'airflow') {
    // A literal credential (not a ${VAR} placeholder) is never shown.
    const mask = (v: string | undefined) => (v === undefined || ONLY_VARS.test(v) ? v : '***');
    const auth = t.auth
      ? Object.fromEntries(
          Object.entries({
            bearer: mask(t.auth.bearer),
            username: t.auth.username,
            password: mask(t.auth.password),
          }).filter(([, v]) => v !== undefined),
        )
      : undefined;
    view.trigger = { ...t, url: redactCredentialParams(redactUrlUserinfo(t.url)), ...(auth ? { auth } : {}) };
  } else if (t?.type === 'databricks') {
    view.trigger = { ...t, token: ONLY_VARS.test(t.token) ? t.token : '***' };
  }
  return view;
}
