// Nothing read back from the store is trusted more than what the API accepts (issue 9 item 2): specs written
// straight into Redis are checked like a registration on every read; failing ones are INVALID, never run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { useServers } from '../support/api-server.js';
import { api } from '../support/http-request.js';
import { cli } from '../support/run-cli.js';
import { useRedis } from '../support/use-redis.js';

const { dir, start } = useServers('interlock-api-stored-');
const redis = useRedis();

function hset(key: string, field: string, value: string): void {
  execFileSync('redis-cli', ['-p', String(redis.server.port), 'HSET', key, field, value]);
}

describe('registered pipelines read from Redis', () => {
  it('a spec written into the store with a command trigger is INVALID: listed with its problems, never run', async () => {
    const prefix = `t${Math.random().toString(36).slice(2)}:`;
    const root = makeProject(dir(), {
      config: `provider: redis\nredis:\n  addr: ${redis.server.addr}\n  keyPrefix: "${prefix}"\n  connectTimeout: 2\n`,
    });
    const rce = join(root, 'rce');
    const spec = (extra: Record<string, unknown>) =>
      JSON.stringify({
        name: 'x',
        archetype: 'gate',
        traits: [
          {
            type: 'a',
            required: true,
            evaluatorRef: 'pass',
            evaluator: join(root, 'evaluators', 'pass'),
            config: {},
            ttlSeconds: 600,
            timeoutSeconds: 30,
          },
        ],
        readinessRule: { type: 'all-required-pass' },
        trigger: { type: 'command', command: `id > ${rce}` },
        source: 'api',
        ...extra,
      });
    const s = await start(root);
    // A good registration, to show one bad entry breaks nothing else.
    const good = await api(s.url, 'POST', '/api/pipelines', {
      name: 'reg',
      archetype: 'gate',
      traits: { a: { evaluator: 'pass' } },
      trigger: { type: 'http', url: 'https://airflow.example.com/x' },
    });
    expect(good.status, good.text).toBe(201);
    hset(`${prefix}pipelines`, 'x', spec({}));
    hset(`${prefix}pipelines`, 'garbage', '{not json');
    // Claiming to be a YAML pipeline does not make it trusted.
    hset(`${prefix}pipelines`, 'claims-yaml', spec({ name: 'claims-yaml', source: 'pipelines/x.yaml' }));
    // An evaluator path outside evaluatorDirs, with a harmless evaluatorRef: the path is re-derived, not trusted.
    hset(
      `${prefix}pipelines`,
      'evil-path',
      spec({
        name: 'evil-path',
        trigger: { type: 'http', url: 'https://airflow.example.com/x' },
        traits: [
          {
            type: 'a',
            required: true,
            evaluatorRef: '/bin/sh',
            evaluator: '/bin/sh',
            config: { x: `$(id > ${rce})` },
            timeoutSeconds: 30,
          },
        ],
      }),
    );

    // Neither the API nor the CLI evaluates or runs it.
    for (const what of ['run', 'evaluate']) {
      const r = await api(s.url, 'POST', `/api/pipelines/x/${what}`);
      expect(r.status, r.text).toBe(409);
      expect(r.body.error.code).toBe('PIPELINE_INVALID');
      expect(r.body.error.details.problems.map((p: { path: string }) => p.path)).toContain('trigger.type');
      const c = await cli([what, 'x'], { cwd: root });
      expect(c.code, c.stderr).toBe(2);
      expect(c.stderr).toContain('INVALID');
    }
    expect((await api(s.url, 'POST', '/api/pipelines/evil-path/evaluate')).status).toBe(409);
    expect(existsSync(rce)).toBe(false);
    // Reading it shows it INVALID with its problems (that is how it is found and cleaned up).
    const got = await api(s.url, 'GET', '/api/pipelines/x');
    expect(got.status).toBe(200);
    expect(got.body.status).toBe('INVALID');

    // The listing keeps working and shows each bad entry as INVALID with its problems.
    const list = await api(s.url, 'GET', '/api/pipelines');
    expect(list.status, list.text).toBe(200);
    const byName = Object.fromEntries(list.body.map((p: { name: string }) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(['claims-yaml', 'evil-path', 'garbage', 'no-trigger', 'p', 'reg', 'x']);
    expect(byName.x).toMatchObject({ status: 'INVALID', origin: 'api' });
    expect(byName.x.problems[0].message).toContain('command triggers cannot be registered over HTTP');
    expect(byName.garbage).toMatchObject({ status: 'INVALID', problems: [{ path: '' }] });
    expect(byName['claims-yaml'].problems.map((p: { path: string }) => p.path)).toEqual(['source']);
    expect(byName['evil-path'].problems.map((p: { path: string }) => p.path)).toEqual(['traits.a.evaluator']);
    expect(byName.reg.status).toBeUndefined();
    expect((await api(s.url, 'POST', '/api/pipelines/reg/evaluate')).body.outcome).toBe('READY');

    // status lists them as INVALID and still reports the others.
    const st = await cli(['status', '--json'], { cwd: root });
    expect(st.code, st.stderr).toBe(0);
    const rows = JSON.parse(st.stdout);
    expect(rows.map((r: { pipeline: string; outcome: string }) => `${r.pipeline}:${r.outcome}`)).toEqual([
      'claims-yaml:INVALID',
      'evil-path:INVALID',
      'garbage:INVALID',
      'no-trigger:NOT_READY',
      'p:NOT_READY',
      'reg:READY',
      'x:INVALID',
    ]);
    const human = await cli(['status'], { cwd: root });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/x\s+INVALID/);
    const one = await cli(['status', 'x'], { cwd: root });
    expect(one.code).toBe(2); // INVALID is a config error, like evaluate of it
    expect(one.stdout).toContain('INVALID');
    expect(one.stdout).toContain('trigger.type: command triggers cannot be registered');

    // An INVALID entry can be deleted (that is how it is cleaned up).
    const del = await api(s.url, 'DELETE', '/api/pipelines/x');
    expect(del.status, del.text).toBe(200);
    expect(del.body.status).toBe('INVALID');
    expect((await api(s.url, 'GET', '/api/pipelines/x')).status).toBe(404);
    expect(existsSync(rce)).toBe(false);
  }, 60_000);
});
