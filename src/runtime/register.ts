// Use-cases: register and remove pipelines at run time (POST/DELETE /api/pipelines), and the public view of a spec.
// YAML is the source of truth: a name a YAML file defines can be neither registered nor deleted here.
import { isAbsolute, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { checkPipelineDocument, type DocumentProblem } from '../config/index.js';
import { InterlockError } from '../core/errors.js';
import type { InvalidPipeline, PipelineSpec } from '../core/types.js';
import { missingTriggerVars, redactCredentialParams, redactUrlUserinfo } from '../trigger/index.js';
import { type Context, isInvalid } from './context.js';
import { isPrivateHost, normaliseHost } from './server-address.js';

/** The structural schema of a pipeline document (a pipeline YAML file's shape), for adapters that document it. */
export { pipelineSchema as pipelineDocumentSchema } from '../config/index.js';

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

/** The policy interlock.yaml's `server:` block sets. */
export function registrationPolicy(ctx: Context): RegistrationPolicy {
  return {
    allowCommandRegistration: ctx.project.config.server.allowCommandRegistration ?? false,
    allowedHosts: ctx.project.config.server.allowedHosts ?? [],
  };
}

export interface Registration {
  pipeline: PipelineSpec;
  /** false: the same document was already registered (nothing changed). */
  created: boolean;
  /** Problems that do not block (an evaluator not found yet: the trait evaluates FAIL until it exists). */
  warnings: DocumentProblem[];
}

/** True when absolute path `p` is inside directory `dir` (after normalisation: `..` cannot escape). */
function isWithin(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
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
  if (!trusted) {
    const dirs = ctx.project.config.evaluatorDirs;
    for (const trait of spec.traits) {
      if (trait.evaluator === undefined || dirs.some((d) => isWithin(d, trait.evaluator as string))) continue;
      out.push({
        path: `traits.${trait.type}.evaluator`,
        message: `evaluator '${trait.evaluatorRef ?? trait.evaluator}' resolves outside evaluatorDirs; pipelines registered over HTTP may only use evaluators from evaluatorDirs (or set server.allowCommandRegistration: true)`,
      });
    }
  }
  if (t?.type === 'http' && !trusted) {
    const authority = authorityOf(t.url);
    let host: string | undefined;
    if (authority === undefined || authority.includes('${')) {
      out.push({
        path: 'trigger.url',
        message: `the scheme and host of an http trigger registered over HTTP must be written out (no \${VAR})`,
      });
    } else {
      try {
        const u = new URL(authority);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') {
          out.push({ path: 'trigger.url', message: `expected an http(s) URL, got ${u.protocol}` });
        } else {
          host = u.hostname;
        }
      } catch {
        out.push({ path: 'trigger.url', message: 'not a valid URL' });
      }
    }
    if (host !== undefined && isPrivateHost(host)) {
      const allowed = new Set(policy.allowedHosts.map(normaliseHost));
      if (!allowed.has(normaliseHost(host))) {
        out.push({
          path: 'trigger.url',
          message: `host '${normaliseHost(host)}' is a loopback, private or link-local address; list it in server.allowedHosts to allow triggers to it`,
        });
      }
    }
    // ${VAR} would send this server's environment (secrets included) wherever the caller points the trigger.
    const vars = missingTriggerVars(t, {});
    if (vars.length) {
      out.push({
        path: 'trigger',
        message: `http triggers registered over HTTP cannot reference environment variables (${vars.map((v) => `\${${v}}`).join(', ')}); only \${INTERLOCK_RUN_ID} and \${INTERLOCK_PIPELINE} are expanded (or set server.allowCommandRegistration: true)`,
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
  policy: RegistrationPolicy = registrationPolicy(ctx),
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
  if (refused.length) {
    throw new InterlockError(
      'FORBIDDEN',
      `pipeline '${spec.name}' cannot be registered over HTTP: ${refused.map((p) => p.message).join('; ')}`,
      { pipeline: spec.name, problems: refused },
    );
  }
  const existing = await ctx.store.getPipeline(spec.name);
  if (existing) {
    if (isDeepStrictEqual(existing, spec)) return { pipeline: existing, created: false, warnings: checked.warnings };
    throw new InterlockError(
      'ALREADY_EXISTS',
      `pipeline '${spec.name}' is already registered with a different definition; DELETE it first`,
      { pipeline: spec.name },
    );
  }
  await ctx.store.putPipeline(spec);
  return { pipeline: spec, created: true, warnings: checked.warnings };
}

/**
 * Removes a pipeline registered over the API (DELETE /api/pipelines/{id}); its history stays in the store.
 * A YAML-defined one → CONFLICT; unknown → PIPELINE_NOT_FOUND; one with a run in progress → CONFLICT.
 */
export async function unregisterPipeline(ctx: Context, name: string): Promise<PipelineSpec> {
  const yaml = ctx.project.pipelines.get(name) ?? ctx.project.invalid.get(name);
  if (yaml) {
    throw new InterlockError(
      'CONFLICT',
      `pipeline '${name}' is defined in ${yaml.source}; YAML-defined pipelines cannot be deleted through the API`,
      { pipeline: name },
    );
  }
  const spec = await ctx.store.getPipeline(name);
  if (!spec) throw new InterlockError('PIPELINE_NOT_FOUND', `unknown pipeline '${name}'`, { pipeline: name });
  const active = await ctx.store.getActiveRun(name);
  if (active) {
    throw new InterlockError(
      'CONFLICT',
      `pipeline '${name}' has a run in progress (${active.runId}, ${active.status}); cancel it first`,
      { pipeline: name, runId: active.runId },
    );
  }
  await ctx.store.deletePipeline(name);
  return spec;
}

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
  }
  return view;
}
