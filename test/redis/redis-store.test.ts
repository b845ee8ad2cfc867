// The Redis store against real redis-server processes: the conformance suite (single server and a 3-node
// cluster) and what is specific to Redis: native TTL, key isolation, one hash slot per pipeline, big values, races.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunState, RunStatus, TraitResult } from '../../src/core/types.js';
import { decideReadiness } from '../../src/engine/readiness.js';
import { newRun, transition } from '../../src/engine/run-state.js';
import { traitState } from '../../src/engine/trait-state.js';
import { createStore } from '../../src/store/index.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { encodePart, KeyLayout } from '../../src/store/redis/keys.js';
import { decision, readiness, result, spec, storeConformance } from '../store-conformance.js';
import { type RedisCluster, type RedisServer, startCluster, startRedis } from '../support/redis.js';

let single: RedisServer;
let cluster: RedisCluster;

beforeAll(async () => {
  [single, cluster] = await Promise.all([startRedis(), startCluster()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([single?.destroy(), cluster?.destroy()]);
});

/** A fresh prefix per open(): every conformance test starts from an empty store on a shared server. */
const freshPrefix = () => `t-${randomUUID().slice(0, 8)}:`;

type Target = 'redis' | 'redis-cluster';
const connect = (target: Target, keyPrefix: string) =>
  target === 'redis'
    ? RedisStore.connect({ addr: single.addr, keyPrefix, connectTimeoutMs: 3000 })
    : RedisStore.connect({ cluster: cluster.seeds, keyPrefix, connectTimeoutMs: 3000 });

for (const target of ['redis', 'redis-cluster'] as const) {
  let last = '';
  storeConformance(target, {
    open: async () => connect(target, (last = freshPrefix())),
    reopen: async () => connect(target, last),
    // Leases are reckoned on the server's TIME; the change feed is pub/sub over a second connection.
    ownClock: true,
    feedSettleMs: 300,
  });
}

const T0 = 1_700_000_000_000;
const run = (pipeline: string, runId: string, now = T0): RunState =>
  newRun({ runId, pipeline, source: 'test', now, deadlineAt: now + 60_000 });
const step = (r: RunState, to: RunStatus, now = T0 + 1): RunState => {
  const t = transition(r, to, now);
  if (!t.ok) throw new Error(t.reason);
  return t.run;
};

/** Opens a store (fresh prefix unless given), runs fn, closes it. */
async function withStore<T>(target: Target, fn: (s: RedisStore) => Promise<T>, prefix = freshPrefix()): Promise<T> {
  const s = await connect(target, prefix);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Every key under `prefix` on every master (SCAN per node: a cluster has no global keyspace). */
async function allKeys(s: RedisStore, prefix: string): Promise<string[]> {
  const client = s.redis;
  const nodes: Redis[] = 'nodes' in client ? (client as Cluster).nodes('master') : [client as Redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys.sort();
}

describe('redis specifics', () => {
  it('a result with expiresAt expires natively (PTTL set), then reads back as an expired tombstone, not as missing', async () => {
    await withStore('redis', async (s) => {
      const now = Date.now();
      await s.saveEvaluation({
        results: [
          result('p', 'short', { evaluatedAt: now, expiresAt: now + 300 }),
          result('p', 'forever', { evaluatedAt: now }),
          result('p', 'dead', { evaluatedAt: now - 2000, expiresAt: now - 1000 }),
        ],
        readiness: readiness('p', now),
        decision: decision('p', 'd1', now),
      });
      const k = s.keys.pipeline('p');
      const pttl = await s.redis.pttl(k.trait('short'));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(300);
      expect(await s.redis.pttl(k.trait('forever'))).toBe(-1);
      expect(await s.redis.exists(k.traitTomb('forever'))).toBe(0);
      // Already past its expiry when written: no live key, only the tombstone, read as expired.
      expect(await s.redis.exists(k.trait('dead'))).toBe(0);
      expect(await s.getTraitResult('p', 'dead')).toMatchObject({ expiresAt: now - 1000, expired: true });
      expect(await s.getTraitResult('p', 'short')).toEqual(
        result('p', 'short', { evaluatedAt: now, expiresAt: now + 300 }),
      );
      expect((await s.getTraitResults('p')).map((r) => r.trait)).toEqual(['dead', 'forever', 'short']);

      const deadline = Date.now() + 3000;
      while ((await s.redis.exists(k.trait('short'))) === 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(Date.now() - now).toBeGreaterThanOrEqual(290);
      expect(await s.redis.exists(k.trait('short'))).toBe(0);
      const tomb = await s.getTraitResult('p', 'short');
      expect(tomb).toMatchObject({ status: 'PASS', expiresAt: now + 300, expired: true });
      // STALE whatever the reader's clock says (here one that runs a minute behind), with the SQLite message.
      expect(traitState(tomb, now - 60_000)).toBe('STALE');
      const rd = decideReadiness(
        'p',
        [{ type: 'short', required: true, config: {}, timeoutSeconds: 5 }],
        [tomb as TraitResult],
        { type: 'all-required-pass' },
        now - 60_000,
      );
      expect(rd.blocking[0].reason).toBe(
        `result expired (TTL passed) at ${new Date(now + 300).toISOString()}; evaluate again`,
      );
      expect((await s.getTraitResults('p')).map((r) => [r.trait, r.expired ?? false])).toEqual([
        ['dead', true],
        ['forever', false],
        ['short', true],
      ]);
      // A later evaluation without a ttl replaces the result and drops the tombstone.
      await s.saveEvaluation({
        results: [result('p', 'short', { evaluatedAt: now + 500 })],
        readiness: readiness('p', now + 500),
        decision: decision('p', 'd2', now + 500),
      });
      expect(await s.getTraitResult('p', 'short')).toEqual(result('p', 'short', { evaluatedAt: now + 500 }));
      expect(await s.redis.exists(k.traitTomb('short'))).toBe(0);
      // The readiness and the decision do not expire with the result.
      expect(await s.getReadiness('p')).toBeDefined();
      expect((await s.listDecisions('p')).map((d) => d.id)).toEqual(['d2', 'd1']);
    });
  });

  for (const target of ['redis', 'redis-cluster'] as const) {
    it(`a timeout is decided on the Redis server's clock (TIME in cas-run), not the caller's (${target})`, async () => {
      await withStore(target, async (s) => {
        // A run whose deadline is 60 s away by the real (server) clock; the caller's clock runs 3 min ahead.
        const deadline = Date.now() + 60_000;
        const r = newRun({
          runId: 'skew',
          pipeline: 'p',
          source: 'test',
          now: deadline - 120_000,
          deadlineAt: deadline,
        });
        expect(await s.createRun(r)).toEqual({ ok: true });
        const running = step(step(r, 'TRIGGERING', deadline - 100_000), 'RUNNING', deadline - 90_000);
        expect(await s.casRun(step(r, 'TRIGGERING', deadline - 100_000), 1)).toEqual({ ok: true });
        expect(await s.casRun(running, 2)).toEqual({ ok: true });
        const ahead = Date.now() + 180_000;
        expect(await s.casRun(step(running, 'TIMED_OUT', ahead), 3, { ifOverdue: true })).toEqual({
          ok: false,
          current: running,
        });
        expect((await s.getRun('skew'))?.status).toBe('RUNNING');
        expect((await s.getActiveRun('p'))?.runId).toBe('skew');
        // The store's clock is the server's: within a second of TIME, whatever this host's clock says.
        const [sec] = (await s.redis.call('TIME')) as [string, string];
        expect(Math.abs(s.clock.now() - Number(sec) * 1000)).toBeLessThan(2000);
      });
    });

    it(`pipelines 'a', 'a:b', 'a}x', 'a{b}' and '' do not collide (${target})`, async () => {
      const prefix = freshPrefix();
      await withStore(
        target,
        async (s) => {
          const names = ['a', 'a:b', 'a}x', 'a{b}', '{a}', ''];
          for (const [i, p] of names.entries()) {
            await s.saveEvaluation({
              results: [result(p, 'x', { value: { i } }), result(p, `only-${i}`)],
              readiness: readiness(p, T0 + i),
              decision: decision(p, `d-${i}`, T0 + i),
            });
            expect(await s.createRun(run(p, `r-${i}`))).toEqual({ ok: true });
            expect(await s.claimAlert({ pipeline: p, kind: 'readiness' }, `fp-${i}`, T0, 1000)).toEqual({ fire: true });
          }
          for (const [i, p] of names.entries()) {
            expect((await s.getTraitResults(p)).map((r) => r.trait)).toEqual(['only-' + i, 'x'].sort());
            expect((await s.getTraitResult(p, 'x'))?.value).toEqual({ i });
            expect((await s.getReadiness(p))?.decidedAt).toBe(T0 + i);
            expect((await s.listDecisions(p)).map((d) => d.id)).toEqual([`d-${i}`]);
            expect((await s.listRuns(p)).map((r) => r.runId)).toEqual([`r-${i}`]);
            expect((await s.getActiveRun(p))?.runId).toBe(`r-${i}`);
            expect((await s.getRun(`r-${i}`))?.pipeline).toBe(p);
            expect(await s.claimAlert({ pipeline: p, kind: 'readiness' }, `fp-${i}`, T0 + 1, 1000)).toEqual({
              fire: false,
              previous: `fp-${i}`,
            });
          }
          // Every stored key of a pipeline starts with exactly its own tag: no key is shared.
          const keys = await allKeys(s, prefix);
          const owners = keys.map((key) => names.filter((p) => key.startsWith(`${prefix}{${encodePart(p)}}:`)));
          const perPipeline = keys.filter((_, i) => owners[i].length > 0);
          expect(owners.every((o) => o.length <= 1)).toBe(true);
          expect(perPipeline.length).toBeGreaterThan(names.length * 10);
        },
        prefix,
      );
    });
  }

  it('all keys of one pipeline hash to one cluster slot (CLUSTER KEYSLOT)', async () => {
    const prefix = freshPrefix();
    await withStore(
      'redis-cluster',
      async (s) => {
        const names = ['daily-sales', 'a:b', 'a}x', 'x{y}z', ''];
        for (const p of names) {
          await s.saveEvaluation({
            results: [result(p, 'fresh'), result(p, 'rows', { expiresAt: T0 + 60_000 })],
            readiness: readiness(p),
            decision: decision(p, `d-${p}`),
          });
          const r = run(p, `run-${p}`);
          await s.createRun(r);
          await s.casRun(step(r, 'TRIGGERING'), 1);
          await s.claimAlert({ pipeline: p, kind: 'trait', trait: 'fresh' }, 'fp', T0, 1000);
        }
        const keyslot = async (key: string) => Number(await s.redis.call('CLUSTER', 'KEYSLOT', key));
        const layout = new KeyLayout(prefix);
        const stored = await allKeys(s, prefix);
        for (const p of names) {
          const k = layout.pipeline(p);
          const declared = [
            k.traits,
            k.trait('fresh'),
            k.trait('rows'),
            k.traitTomb('rows'),
            k.readiness,
            k.seq,
            k.decisions,
            k.decisionData,
            k.runs,
            k.runData,
            k.active,
            k.events,
            k.eventData,
            layout.alert({ pipeline: p, kind: 'trait', trait: 'fresh' }),
          ];
          const mine = stored.filter((key) => key.startsWith(`${prefix}${k.tag}:`));
          // Everything the store wrote for p is one of the declared keys (the lock was taken, so all exist).
          expect(mine.sort()).toEqual([...declared].sort());
          const slots = new Set(await Promise.all(declared.map(keyslot)));
          expect(slots.size).toBe(1);
        }
        // The two global keys are the only ones outside a pipeline's tag.
        const globals = stored.filter((key) => !names.some((p) => key.startsWith(`${prefix}{${encodePart(p)}}:`)));
        expect(globals).toEqual([layout.runIndex]);
      },
      prefix,
    );
  });

  for (const target of ['redis', 'redis-cluster'] as const) {
    it(`concurrent CAS from 8 separate connections: exactly one winner (${target})`, async () => {
      const prefix = freshPrefix();
      const handles = await Promise.all(Array.from({ length: 8 }, () => connect(target, prefix)));
      try {
        const a = run('race', 'r1');
        expect(await handles[0].createRun(a)).toEqual({ ok: true });
        const targets: RunStatus[] = ['TRIGGERING', 'CANCELLED', 'BLOCKED', 'FAILED'];
        const results = await Promise.all(handles.map((h, i) => h.casRun(step(a, targets[i % 4], T0 + i), 1)));
        const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
        expect(winners).toHaveLength(1);
        const stored = await handles[1].getRun('r1');
        expect(stored).toEqual(step(a, targets[winners[0] % 4], T0 + winners[0]));
        for (const r of results) if (!r.ok) expect(r.current).toEqual(stored);
        const events = await handles[2].listRunEvents('race');
        expect(events.map((e) => [e.from, e.to, e.version])).toEqual([
          ['PENDING', stored?.status, 2],
          [null, 'PENDING', 1],
        ]);
        // A terminal winner released the lock; a TRIGGERING winner still holds it.
        expect((await handles[3].getActiveRun('race'))?.runId).toBe(stored?.status === 'TRIGGERING' ? 'r1' : undefined);
      } finally {
        await Promise.all(handles.map((h) => h.close()));
      }
    });
  }

  it('1 MiB values round-trip (trait value, decision, run reason)', async () => {
    for (const target of ['redis', 'redis-cluster'] as const) {
      await withStore(target, async (s) => {
        const big = 'ü'.repeat(512 * 1024); // 1 MiB of UTF-8
        await s.saveEvaluation({
          results: [result('big', 'a', { value: { big } })],
          readiness: readiness('big'),
          decision: { ...decision('big', 'd1'), note: big },
        });
        expect((await s.getTraitResult('big', 'a'))?.value).toEqual({ big });
        expect((await s.listDecisions('big'))[0].note).toBe(big);
        const r = run('big', 'r1');
        await s.createRun(r);
        const blocked = { ...step(r, 'BLOCKED'), reason: big };
        expect(await s.casRun(blocked, 1)).toEqual({ ok: true });
        expect((await s.getRun('r1'))?.reason).toBe(big);
        expect((await s.listRunEvents('big'))[0].reason).toBe(big);
      });
    }
  });

  it('close() twice is fine, and an operation after close is STORE_UNAVAILABLE', async () => {
    const s = await connect('redis', freshPrefix());
    await s.putPipeline(spec('p'));
    await s.close();
    await s.close();
    await expect(s.getPipeline('p')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(s.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(s.redis.status).toBe('end');
  });

  it('a refused createRun leaves no run-index entry; a reused run id is ALREADY_EXISTS', async () => {
    await withStore('redis', async (s) => {
      await s.createRun(run('p', 'r1'));
      expect((await s.createRun(run('p', 'r2'))).ok).toBe(false);
      expect(await s.redis.hexists(s.keys.runIndex, 'r2')).toBe(0);
      expect(await s.getRun('r2')).toBeUndefined();
      // The same id again while it holds the lock: refused with itself, and its index entry is kept.
      expect(await s.createRun(run('p', 'r1'))).toEqual({ ok: false, active: run('p', 'r1') });
      expect((await s.getRun('r1'))?.runId).toBe('r1');
      await s.casRun(step(run('p', 'r1'), 'CANCELLED'), 1);
      await expect(s.createRun(run('p', 'r1', T0 + 5))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(s.createRun(run('q', 'r1', T0 + 5))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect((await s.getRun('r1'))?.status).toBe('CANCELLED');
    });
  });

  it('a stored value that is not JSON is STORE_CORRUPT; a key of the wrong type too', async () => {
    await withStore('redis', async (s) => {
      await s.redis.set(s.keys.pipeline('p').readiness, '{not json');
      await expect(s.getReadiness('p')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      await s.redis.set(s.keys.pipelines, 'a string, not a hash');
      await expect(s.listPipelines()).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    });
  });

  it("a key prefix with braces is refused (CONFIG_INVALID): it would move a pipeline's keys apart", async () => {
    await expect(RedisStore.connect({ addr: single.addr, keyPrefix: 'a{b}:' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it("createStore({ provider: 'redis' }) connects with the configured options", async () => {
    const keyPrefix = freshPrefix();
    const s = await createStore({ provider: 'redis', redis: { addr: single.addr, keyPrefix } });
    try {
      expect(s.kind).toBe('redis');
      await s.putPipeline(spec('p'));
      const again = await createStore({ provider: 'redis', redis: { url: `redis://${single.addr}/0`, keyPrefix } });
      expect((await again.listPipelines()).map((p) => p.name)).toEqual(['p']);
      await again.close();
      const viaCluster = await createStore({ provider: 'redis', redis: { cluster: cluster.seeds, keyPrefix } });
      expect(await viaCluster.listPipelines()).toEqual([]);
      await viaCluster.close();
    } finally {
      await s.close();
    }
  });
});
