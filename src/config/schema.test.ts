// Zod schemas: defaults, strictness and the exact human messages.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger URLs are tested here.
import { describe, expect, it } from 'vitest';
import { archetypeSchema, checkSchema, MESSAGES, pipelineSchema, projectSchema } from './schema.js';
import { closest, editDistance } from './suggest.js';

const issues = (schema: Parameters<typeof checkSchema>[0], data: unknown) => {
  const r = checkSchema(schema, data);
  return r.issues.map((i) => `${i.path.join('.')}: ${i.message}${i.atKey ? ' [key]' : ''}`);
};

describe('project schema', () => {
  it('applies every default to an empty mapping', () => {
    const r = checkSchema(projectSchema, {});
    expect(r.ok).toBe(true);
    expect(r.ok && r.value).toEqual({
      provider: 'sqlite',
      sqlite: { path: '.interlock/state.db' },
      redis: { addr: 'localhost:6379', keyPrefix: 'interlock:', connectTimeout: 5 },
      postgres: { schema: 'interlock', poolSize: 10, connectTimeout: 5 },
      retention: { decisions: 30 * 86_400, runs: 90 * 86_400, windows: 90 * 86_400 },
      server: { addr: '127.0.0.1:3000' },
      archetypeDirs: ['./archetypes'],
      calendarDirs: ['./calendars'],
      timezone: 'UTC',
      watcher: { enabled: true, sweep: '60s' },
      evaluatorDirs: ['./evaluators'],
      pipelineDirs: ['./pipelines'],
      alerts: [],
    });
  });

  it('does not share default arrays between parses', () => {
    const a = checkSchema(projectSchema, {});
    const b = checkSchema(projectSchema, {});
    if (!a.ok || !b.ok) throw new Error('expected valid');
    a.value.archetypeDirs.push('x');
    if (!Array.isArray(a.value.alerts)) throw new Error('expected the list form');
    a.value.alerts.push({ type: 'console' });
    expect(b.value.archetypeDirs).toEqual(['./archetypes']);
    expect(b.value.alerts).toEqual([]);
  });

  it('accepts every documented field', () => {
    const r = checkSchema(projectSchema, {
      provider: 'redis',
      redis: { addr: 'r:6379', keyPrefix: 'p:', password: 's', db: 0, tls: true, url: 'rediss://r', cluster: ['a:1'] },
      server: { addr: ':3000', authToken: 't', allowCommandRegistration: false, allowedHosts: ['localhost'] },
      alerts: [
        { type: 'console' },
        { type: 'webhook', url: 'https://h/x', timeout: 2.5, retries: 0, headers: { Authorization: 'Bearer t' } },
        { type: 'file', path: 'a.log' },
      ],
      evaluatorConcurrency: 4,
    });
    expect(r.issues).toEqual([]);
    const mapping = checkSchema(projectSchema, { alerts: { repeatAfter: 90.5, sinks: [{ type: 'console' }] } });
    expect(mapping.issues).toEqual([]);
  });

  it('words enum, URL, integer and discriminator problems', () => {
    expect(
      issues(projectSchema, {
        provider: 'mysql',
        redis: { db: 1.5 },
        alerts: [{ type: 'teams' }, { url: 'http://x' }, { type: 'webhook', url: 'ftp://x', retries: -1 }],
        evaluatorConcurrency: 0,
      }),
    ).toEqual([
      'provider: expected one of: sqlite, redis, postgres, memory',
      'redis.db: expected a non-negative integer',
      'alerts.0.type: expected one of: console, webhook, file, slack, pagerduty',
      'alerts.1.type: required',
      'alerts.2.url: expected an http(s) URL',
      'alerts.2.retries: expected a non-negative integer',
      'evaluatorConcurrency: expected a positive integer',
    ]);
  });
});

describe('project schema: alerts', () => {
  const alertsOf = (alerts: unknown) => {
    const r = checkSchema(projectSchema, { alerts });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.value.alerts;
  };

  it('takes either a list of sinks or a mapping, defaulting webhook timeout/retries and repeatAfter', () => {
    const webhook = { type: 'webhook', url: 'http://h/a' };
    expect(alertsOf([webhook])).toEqual([{ ...webhook, timeout: 2, retries: 2 }]);
    expect(alertsOf({ sinks: [webhook] })).toEqual({
      repeatAfter: 3600,
      timeout: 5,
      sinks: [{ ...webhook, timeout: 2, retries: 2 }],
    });
    expect(alertsOf({})).toEqual({ repeatAfter: 3600, timeout: 5, sinks: [] });
    expect(alertsOf({ repeatAfter: 0 })).toEqual({ repeatAfter: 0, timeout: 5, sinks: [] });
  });

  it('words problems inside the mapping form at their own paths', () => {
    expect(
      issues(projectSchema, {
        alerts: {
          repeatAfter: '1 hour',
          sinks: [
            { type: 'webhook', url: 'http://h', timeout: 0, retries: 1.5, headers: { 'X-A': 'a\nb', 'X-B': '€' } },
          ],
          sink: [],
        },
      }),
    ).toEqual([
      `alerts.repeatAfter: ${MESSAGES.nonNegativeDuration}`,
      'alerts.sinks.0.timeout: expected a positive number',
      'alerts.sinks.0.retries: expected a non-negative integer',
      `alerts.sinks.0.headers.X-A: ${MESSAGES.headerValue}`,
      `alerts.sinks.0.headers.X-B: ${MESSAGES.headerValue}`,
      "alerts.sink: unknown key 'sink' (did you mean 'sinks'?) [key]",
    ]);
  });

  it('says what alerts may be when it is neither a list nor a mapping', () => {
    expect(issues(projectSchema, { alerts: null })).toEqual([`alerts: ${MESSAGES.alerts}, got an empty value`]);
    expect(issues(projectSchema, { alerts: 3 })).toEqual([`alerts: ${MESSAGES.alerts}, got a number (3)`]);
  });

  it('rejects header names that are not HTTP tokens, at the key', () => {
    expect(
      issues(projectSchema, { alerts: [{ type: 'webhook', url: 'http://h', headers: { 'a b': 'x', 'ok-1': 'y' } }] }),
    ).toEqual([`alerts.0.headers.a b: ${MESSAGES.headerName} [key]`]);
  });
});

describe('archetype schema', () => {
  const ok = { name: 'batch', requiredTraits: [{ type: 'fresh' }] };

  it('defaults the readiness rule', () => {
    const r = checkSchema(archetypeSchema, ok);
    expect(r.ok && r.value.readinessRule).toEqual({ type: 'all-required-pass' });
  });

  it('names the supported readiness rules', () => {
    expect(issues(archetypeSchema, { ...ok, readinessRule: { type: 'any-pass' } })).toEqual([
      "readinessRule.type: unsupported readiness rule 'any-pass' (supported: all-required-pass, majority-pass)",
    ]);
  });

  it('bounds the majority threshold to (0, 1]', () => {
    for (const threshold of [0, 1.01, -0.5, '0.5']) {
      expect(issues(archetypeSchema, { ...ok, readinessRule: { type: 'majority-pass', threshold } })).toEqual([
        `readinessRule.threshold: ${MESSAGES.threshold}`,
      ]);
    }
    expect(checkSchema(archetypeSchema, { ...ok, readinessRule: { type: 'majority-pass', threshold: 1 } }).ok).toBe(
      true,
    );
  });

  it('requires a non-empty requiredTraits list and valid names', () => {
    expect(issues(archetypeSchema, { name: 'Batch', requiredTraits: [] })).toEqual([
      'name: must match [a-z0-9][a-z0-9._-]* (at most 128 characters)',
      'requiredTraits: must not be empty',
    ]);
    expect(issues(archetypeSchema, { name: 'a'.repeat(129) })).toEqual([
      'name: must match [a-z0-9][a-z0-9._-]* (at most 128 characters)',
      'requiredTraits: required',
    ]);
    expect(checkSchema(archetypeSchema, { name: 'a'.repeat(128), requiredTraits: [{ type: 'x' }] }).ok).toBe(true);
  });

  it('rejects numbers written as strings and non-positive durations', () => {
    expect(
      issues(archetypeSchema, { ...ok, requiredTraits: [{ type: 'a', defaultTtl: '30', defaultTimeout: 0 }] }),
    ).toEqual([
      `requiredTraits.0.defaultTtl: ${MESSAGES.duration}`,
      `requiredTraits.0.defaultTimeout: ${MESSAGES.duration}`,
    ]);
  });

  it('requires defaultConfig to be a mapping', () => {
    expect(issues(archetypeSchema, { ...ok, requiredTraits: [{ type: 'a', defaultConfig: [1] }] })).toEqual([
      'requiredTraits.0.defaultConfig: expected a mapping, got a list',
    ]);
  });
});

describe('pipeline schema', () => {
  const ok = { name: 'p', archetype: 'a' };

  it('reports each unknown key at the key, with a hint only when one is close', () => {
    expect(issues(pipelineSchema, { ...ok, traits: { t: { timout: 5, zzzzzz: 1 } }, tirgger: {} })).toEqual([
      "traits.t.timout: unknown key 'timout' (did you mean 'timeout'?) [key]",
      "traits.t.zzzzzz: unknown key 'zzzzzz' [key]",
      "tirgger: unknown key 'tirgger' (did you mean 'trigger'?) [key]",
    ]);
  });

  it('names the accepted duration forms for a bad ttl/timeout', () => {
    for (const bad of [-1, 0, '30', null, true, Number.POSITIVE_INFINITY]) {
      expect(issues(pipelineSchema, { ...ok, traits: { t: { timeout: bad } } })).toEqual([
        `traits.t.timeout: ${MESSAGES.duration}`,
      ]);
    }
  });

  it('says "required" for a missing field', () => {
    expect(issues(pipelineSchema, { name: 'p' })).toEqual(['archetype: required']);
    expect(issues(pipelineSchema, { ...ok, trigger: { type: 'command' } })).toEqual(['trigger.command: required']);
  });

  it('checks trait keys against the name pattern, pointing at the key', () => {
    expect(issues(pipelineSchema, { ...ok, traits: { Bad: {} } })).toEqual([
      'traits.Bad: must match [a-z0-9][a-z0-9._-]* (at most 128 characters) [key]',
    ]);
  });

  it('defaults the http method and accepts env references in URLs', () => {
    const r = checkSchema(pipelineSchema, {
      ...ok,
      trigger: { type: 'http', url: `\${BASE}/run`, headers: { A: 'b' } },
    });
    expect(r.ok && r.value.trigger).toEqual({ type: 'http', method: 'POST', url: `\${BASE}/run`, headers: { A: 'b' } });
  });

  it('words trigger problems', () => {
    expect(
      issues(pipelineSchema, { ...ok, tier: -1, trigger: { type: 'http', method: 'get', url: '', headers: { n: 5 } } }),
    ).toEqual([
      'tier: expected a non-negative integer',
      'trigger.method: expected one of: GET, POST, PUT, PATCH, DELETE',
      `trigger.url: ${MESSAGES.triggerUrl}`,
      'trigger.headers.n: expected a string, got a number (5)',
    ]);
    expect(issues(pipelineSchema, { ...ok, trigger: { type: 'cron' } })).toEqual([
      'trigger.type: expected one of: command, http, airflow, databricks, glue, stepfunctions, lambda',
    ]);
  });
});

describe('trigger URLs and server.addr', () => {
  const url = (u: unknown) => issues(pipelineSchema, { name: 'p', archetype: 'a', trigger: { type: 'http', url: u } });
  it('accepts only http(s) URLs, written out or starting with a ${VAR}', () => {
    for (const good of ['http://h/x', 'https://h:8443/x?y=1', 'HTTP://h', 'http://${HOST}:8080/x', '${BASE}/api']) {
      expect(url(good), good).toEqual([]);
    }
    for (const bad of [
      'htp://h/x',
      '127.0.0.1:18080/x',
      'ftp://h/x',
      'http://',
      'http:///x',
      'http://h:99999/x',
      'file:///etc/passwd',
      '',
    ]) {
      expect(url(bad), bad).toEqual([`trigger.url: ${MESSAGES.triggerUrl}`]);
    }
  });

  it('server.addr must be host:port, [ipv6]:port or :port', () => {
    const addr = (a: unknown) => issues(projectSchema, { server: { addr: a } });
    for (const good of ['127.0.0.1:3000', ':3000', 'localhost:0', '[::1]:3000', 'api.internal:65535']) {
      expect(addr(good), good).toEqual([]);
    }
    for (const bad of ['nonsense', '3000', '127.0.0.1', 'host:port', 'h:65536', '[zz]:80', 'a b:80', '']) {
      expect(addr(bad), bad).toEqual([`server.addr: ${MESSAGES.listenAddress}`]);
    }
  });
});

describe('suggestions', () => {
  it('measures edits, transpositions included', () => {
    expect(editDistance('timout', 'timeout')).toBe(1);
    expect(editDistance('tiemout', 'timeout')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only within two edits', () => {
    expect(closest('evalutor', ['evaluator', 'config'])).toBe('evaluator');
    expect(closest('xyz', ['evaluator', 'config'])).toBeUndefined();
    expect(closest('y', ['x'])).toBeUndefined();
    expect(closest('adr', ['addr'])).toBe('addr');
  });
});
