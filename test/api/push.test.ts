// POST /api/pipelines/{id}/traits/{type} through a real listening server: 201 with the stored result, the decision
// recorded (source push), 400 naming the field, 404 unknown pipeline or trait, 409 INVALID registered pipeline, auth.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/core/types.js';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers } from '../support/api-server.js';
import { api } from '../support/http-request.js';

const { dir, start } = useServers('interlock-api-push-');

/** The API project plus pipeline `fed`: trait a pushed (`evaluator: push`), b by the fixture pass evaluator. */
function project(): string {
  const root = makeProject(dir(), {
    files: {
      'pipelines/fed.yaml':
        'name: fed\narchetype: gate\ntraits:\n  a:\n    evaluator: push\n  b:\n    evaluator: pass\n',
      // An evaluator named push that records its spawns: `evaluator: push` must never run it.
      'evaluators/push':
        '#!/bin/sh\necho spawned >> "$INTERLOCK_PROJECT_DIR/push-spawned"\necho \'{"status":"PASS"}\'\n',
    },
  });
  writeFileSync(join(root, 'evaluators', 'push'), readFileSync(join(root, 'evaluators', 'push')), { mode: 0o755 });
  return root;
}

const path = (p: string, t: string) => `/api/pipelines/${p}/traits/${t}`;

describe('POST /api/pipelines/{id}/traits/{type}', () => {
  it('201 with the stored result (source push, ttl from the trait), Location; the decision is in history', async () => {
    const root = project();
    const s = await start(root);
    const before = Date.now();
    const r = await api(s.url, 'POST', path('fed', 'a'), { status: 'PASS', value: { rows: 3 }, reason: 'loaded' });
    expect(r.status, r.text).toBe(201);
    expect(r.headers.location).toBe('/api/pipelines/fed/traits/a');
    expect(r.body).toMatchObject({
      pipeline: 'fed',
      trait: 'a',
      status: 'PASS',
      state: 'PASS',
      required: true,
      source: 'push',
      value: { rows: 3 },
      reason: 'loaded',
      durationMs: 0,
    });
    // gate's trait a has defaultTtl 600.
    expect(r.body.expiresAt - r.body.evaluatedAt).toBe(600_000);
    expect(r.body.evaluatedAt).toBeGreaterThanOrEqual(before);
    const got = await api(s.url, 'GET', path('fed', 'a'));
    expect(got.body).toEqual(r.body);
    const history = await api(s.url, 'GET', '/api/pipelines/fed/history');
    expect(history.body[0]).toMatchObject({ type: 'decision', source: 'push', outcome: 'READY' });
    // b is optional and was never evaluated: a's push alone makes the pipeline READY under all-required-pass.
    const ev = await api(s.url, 'POST', '/api/pipelines/fed/evaluate');
    expect(ev.body.outcome).toBe('READY');
    expect(ev.body.readiness.traits.find((t: { trait: string }) => t.trait === 'a').result.source).toBe('push');
    expect(existsSync(join(root, 'push-spawned'))).toBe(false);
  });

  it('an explicit ttl as a string or as seconds; a FAIL blocks with PUSHED_FAIL', async () => {
    const s = await start(project());
    const short = await api(s.url, 'POST', path('fed', 'a'), { status: 'PASS', ttl: '1m' });
    expect(short.body.expiresAt - short.body.evaluatedAt).toBe(60_000);
    const secs = await api(s.url, 'POST', path('fed', 'a'), { status: 'PASS', ttl: 30 });
    expect(secs.body.expiresAt - secs.body.evaluatedAt).toBe(30_000);
    const fail = await api(s.url, 'POST', path('fed', 'a'), { status: 'FAIL', reason: 'late' });
    expect(fail.status).toBe(201);
    expect(fail.body).toMatchObject({ status: 'FAIL', state: 'FAIL', reasonCode: 'PUSHED_FAIL', reason: 'late' });
    const readiness = await api(s.url, 'GET', '/api/pipelines/fed/readiness');
    expect(readiness.body.blocking).toEqual([{ trait: 'a', state: 'FAIL', reasonCode: 'PUSHED_FAIL', reason: 'late' }]);
  });

  it('400 for a bad body, naming the field; nothing stored', async () => {
    const s = await start(project());
    const cases: Array<[unknown, string]> = [
      [{}, 'status'],
      [{ status: 'ok' }, 'status'],
      [{ status: 'PASS', value: [1] }, 'value'],
      [{ status: 'PASS', reason: 7 }, 'reason'],
      [{ status: 'PASS', reason: 'x'.repeat(4001) }, 'reason'],
      [{ status: 'PASS', ttl: 'soon' }, 'ttl'],
      [{ status: 'PASS', ttl: -1 }, 'ttl'],
      [{ status: 'PASS', ttl: '1h' }, 'ttl'], // longer than the trait's 600 s
      [{ status: 'PASS', extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const r = await api(s.url, 'POST', path('fed', 'a'), body);
      expect(r.status, `${JSON.stringify(body)}: ${r.text}`).toBe(400);
      expectErrorShape(r);
      expect(r.body.error.message, JSON.stringify(body)).toContain(`${field}`);
      expect(r.body.error.details.problems[0].path, JSON.stringify(body)).toBe(field);
    }
    const notJson = await api(s.url, 'POST', path('fed', 'a'), undefined, {});
    expect(notJson.status).toBe(400);
    expect((await api(s.url, 'GET', '/api/pipelines/fed/traits')).body).toEqual([]);
  });

  it('404 for an unknown pipeline or a trait the pipeline does not have', async () => {
    const s = await start(project());
    const noPipeline = await api(s.url, 'POST', path('nope', 'a'), { status: 'PASS' });
    expect(noPipeline.status).toBe(404);
    expect(noPipeline.body.error.code).toBe('PIPELINE_NOT_FOUND');
    const noTrait = await api(s.url, 'POST', path('fed', 'zzz'), { status: 'PASS' });
    expect(noTrait.status).toBe(404);
    expectErrorShape(noTrait);
    expect(noTrait.body.error.code).toBe('TRAIT_NOT_FOUND');
    expect(noTrait.body.error.details).toMatchObject({ pipeline: 'fed', trait: 'zzz' });
    // p's archetype declares optional b, but p does not use it: not its trait.
    expect((await api(s.url, 'POST', path('p', 'b'), { status: 'PASS' })).status).toBe(404);
  });

  it('409 for a registered pipeline that is INVALID; registration accepts evaluator: push untrusted', async () => {
    const root = project();
    const s = await start(root);
    const reg = await api(s.url, 'POST', '/api/pipelines', {
      name: 'remote',
      archetype: 'gate',
      traits: { a: { evaluator: 'push' } },
    });
    expect(reg.status, reg.text).toBe(201);
    expect(reg.body.pipeline.traits[0]).toMatchObject({ type: 'a', push: true, evaluatorRef: 'push' });
    expect((await api(s.url, 'POST', path('remote', 'a'), { status: 'PASS' })).status).toBe(201);
    expect((await api(s.url, 'POST', '/api/pipelines/remote/evaluate')).body.outcome).toBe('READY');
    expect(existsSync(join(root, 'push-spawned'))).toBe(false);
    // Someone with store access points the trait at a shell: read back, it is INVALID, and a push is refused.
    const spec = JSON.parse((await s.ctx.store.getPipeline('remote'))?.json ?? '{}') as PipelineSpec;
    const t = spec.traits[0] as PipelineSpec['traits'][number];
    delete t.push;
    t.evaluatorRef = '/bin/sh';
    await s.ctx.store.putPipeline(spec);
    const r = await api(s.url, 'POST', path('remote', 'a'), { status: 'PASS' });
    expect(r.status, r.text).toBe(409);
    expect(r.body.error.code).toBe('PIPELINE_INVALID');
  });

  it('needs the token like every other write route', async () => {
    const s = await start(project(), { env: { INTERLOCK_API_TOKEN: 'push-token-123' } });
    const denied = await api(s.url, 'POST', path('fed', 'a'), { status: 'PASS' });
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await api(s.url, 'POST', path('fed', 'a'), { status: 'PASS' }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(await s.ctx.store.getTraitResults('fed')).toEqual([]);
    const ok = await api(
      s.url,
      'POST',
      path('fed', 'a'),
      { status: 'PASS' },
      { authorization: 'Bearer push-token-123' },
    );
    expect(ok.status).toBe(201);
  });
});
