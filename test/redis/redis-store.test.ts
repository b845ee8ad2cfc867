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
import { encodePart, KeyLayout, WATCH_TAG } from '../../src/store/redis/keys.js';
import type { StoreChange } from '../../src/store/types.js';
import { decision, readiness, result, spec, storeConformance } from '../store-conformance.js';
import { window } from '../store-conformance-watch.js';
import { sleep, waitFor } from '../support/poll.js';
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

describe('redis watcher storage', () => {
  const keyslot = (s: RedisStore, key: string) => s.redis.call('CLUSTER', 'KEYSLOT', key).then(Number);
  const subscribers = async (s: RedisStore) => {
    // PUBSUB NUMSUB on every master: a cluster node counts only its own subscribers.
    const client = s.redis;
    const nodes: Redis[] = 'nodes' in client ? (client as Cluster).nodes('master') : [client as Redis];
    let n = 0;
    for (const node of nodes) n += Number(((await node.call('PUBSUB', 'NUMSUB', s.keys.changes)) as unknown[])[1]);
    return n;
  };

  for (const target of ['redis', 'redis-cluster'] as const) {
    it(`a run key naming another pipeline is refused (INTERNAL) and nothing is written (${target})`, async () => {
      await withStore(target, async (s) => {
        const key = 'p@daily@2023-11-14T22:13:20.000Z#1';
        const other = { ...run('q', 'r1'), runKey: key };
        await expect(s.createRun(other)).rejects.toMatchObject({ code: 'INTERNAL' });
        await expect(s.createRun({ ...run('q', 'r2'), runKey: 'no-pipeline#1' })).rejects.toMatchObject({
          code: 'INTERNAL',
        });
        expect(await s.getRun('r1')).toBeUndefined();
        expect(await s.getActiveRun('q')).toBeUndefined();
        expect(await s.getRunByKey(key)).toBeUndefined();
        // Under its own pipeline the key is claimed, in that pipeline's slot.
        expect(await s.createRun({ ...run('p', 'r3'), runKey: key })).toEqual({ ok: true });
        expect(await s.redis.hget(s.keys.pipeline('p').runKeys, key)).toBe('r3');
        expect((await s.getRunByKey(key))?.runId).toBe('r3');
      });
    });

    it(`leases are reckoned on the server's clock: the caller's now is ignored (${target})`, async () => {
      await withStore(target, async (s) => {
        const before = Date.now();
        // A caller whose clock says 2023, then one 30 years ahead: both get server time + ttl.
        const a = await s.acquireLease('watcher', 'A', 60_000, T0);
        expect(a.ok).toBe(true);
        expect(a.lease.expiresAt).toBeGreaterThanOrEqual(before + 60_000 - 1000);
        expect(a.lease.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000 + 1000);
        // By the far-future caller's clock A expired long ago; by the server's it is live: B is refused.
        expect(await s.acquireLease('watcher', 'B', 60_000, Date.now() + 1e12)).toEqual({ ok: false, lease: a.lease });
        const stored = await s.redis.hgetall(s.keys.watch.lease('watcher'));
        expect(stored).toEqual({ holder: 'A', epoch: '1', expiresAt: String(a.lease.expiresAt) });
        // Release keeps the epoch and expires the lease at 0.
        expect(await s.releaseLease('watcher', 'A', 1)).toBe(true);
        expect(await s.getLease('watcher')).toEqual({ name: 'watcher', holder: 'A', epoch: 1, expiresAt: 0 });
        expect((await s.acquireLease('watcher', 'A', 1000, 0)).lease.epoch).toBe(2);
      });
    });

    it(`garbage in stored windows and leases is STORE_CORRUPT, never a record (${target})`, async () => {
      await withStore(target, async (s) => {
        const w = window('p', T0);
        await s.createWindow(w);
        const wk = s.keys.watch;
        await s.redis.hset(wk.windowData, w.key, JSON.stringify({ ...w, version: 'one' }));
        await expect(s.getWindow(w.key)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        await expect(s.listWindows('p')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        await expect(s.windowHeads()).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        await s.redis.hset(wk.windowData, w.key, '{not json');
        await expect(s.casWindow({ ...w, version: 2 }, 1)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        await s.redis.hset(wk.lease('watcher'), 'holder', 'A', 'epoch', 'x', 'expiresAt', '1');
        await expect(s.getLease('watcher')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        await expect(s.acquireLease('watcher', 'B', 1000, 0)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        // A fence against a corrupt epoch never holds.
        const fenced = await s.createWindow(window('p', T0 + 1), { name: 'watcher', epoch: 1 });
        expect(fenced.ok === false && fenced.fenced).toBe(true);
      });
    });

    it(`the change feed opens one subscriber on the first listener and closes it with the last (${target})`, async () => {
      await withStore(target, async (s) => {
        expect(await subscribers(s)).toBe(0);
        const seen: StoreChange[] = [];
        const stopA = s.watchChanges((c) => seen.push(c));
        const stopB = s.watchChanges(() => {
          throw new Error('a failing listener is its own problem');
        });
        await waitFor('the subscription', 3000, async () => (await subscribers(s)) === 1);
        // Garbage on the channel (anyone may PUBLISH) is dropped; a real write comes through.
        await s.redis.publish(s.keys.changes, 'not json');
        await s.redis.publish(s.keys.changes, JSON.stringify({ kind: 'nonsense', pipeline: 'x' }));
        await s.redis.publish(s.keys.changes, JSON.stringify({ kind: 'run', pipeline: 42 }));
        await s.putPipeline(spec('reg'));
        await s.deletePipeline('reg');
        await s.deletePipeline('reg'); // nothing to delete: nothing published
        await waitFor('two pipeline notifications', 3000, async () => seen.length >= 2);
        await sleep(200);
        expect(seen).toEqual([
          { kind: 'pipeline', pipeline: 'reg' },
          { kind: 'pipeline', pipeline: 'reg' },
        ]);
        stopA();
        expect(await subscribers(s)).toBe(1);
        stopB();
        stopB();
        await waitFor('the subscriber to close', 3000, async () => (await subscribers(s)) === 0);
        // A later listener opens a new one; close() closes it (seen from another connection).
        s.watchChanges(() => undefined);
        await waitFor('a new subscription', 3000, async () => (await subscribers(s)) === 1);
        await withStore(
          target,
          async (other) => {
            await s.close();
            await waitFor('close() to end the subscriber', 3000, async () => (await subscribers(other)) === 0);
          },
          s.keys.prefix,
        );
      });
    });

    it(`a refused write publishes nothing; every kind of write publishes its own kind (${target})`, async () => {
      await withStore(target, async (s) => {
        const seen: StoreChange[] = [];
        const stop = s.watchChanges((c) => seen.push(c));
        try {
          await sleep(300);
          const w = window('k', T0);
          await s.createWindow(w);
          await s.createWindow(w); // refused
          await s.casWindow(w, 5); // refused
          const r = run('k', 'r1');
          await s.createRun(r);
          await s.createRun(run('k', 'r2')); // refused: the lock
          await s.casRun(step(r, 'TRIGGERING'), 1);
          await s.casRun(step(r, 'TRIGGERING'), 1); // refused
          await s.saveEvaluation({
            results: [result('k', 't')],
            readiness: readiness('k'),
            decision: decision('k', 'd'),
          });
          await s.releaseLock('k', 'r1', 1); // refused: version 2 now
          await waitFor('the notifications', 3000, async () => seen.length >= 4);
          await sleep(300);
          expect(seen.map((c) => `${c.kind}:${c.pipeline}`)).toEqual(['window:k', 'run:k', 'run:k', 'evaluation:k']);
        } finally {
          stop();
        }
      });
    });
  }

  it("windows and leases share one cluster slot; run keys live in their pipeline's slot", async () => {
    const prefix = freshPrefix();
    await withStore(
      'redis-cluster',
      async (s) => {
        const a = await s.acquireLease('watcher', 'A', 60_000, 0);
        const fence = { name: 'watcher', epoch: a.lease.epoch };
        for (const p of ['daily-sales', 'b', 'c.d']) {
          expect(await s.createWindow(window(p, T0), fence)).toEqual({ ok: true });
          expect(await s.createRun({ ...run(p, `r-${p}`), runKey: `${window(p, T0).key}#1` })).toEqual({ ok: true });
        }
        const stored = await allKeys(s, prefix);
        const watchKeys = stored.filter((k) => k.startsWith(`${prefix}${WATCH_TAG}:`));
        // window-data, window-pipelines, one lease, and per pipeline windows, live and newest.
        expect(watchKeys).toHaveLength(3 + 3 * 3);
        expect(new Set(await Promise.all(watchKeys.map((k) => keyslot(s, k)))).size).toBe(1);
        for (const p of ['daily-sales', 'b', 'c.d']) {
          const k = s.keys.pipeline(p);
          expect(await keyslot(s, k.runKeys)).toBe(await keyslot(s, k.runData));
        }
      },
      prefix,
    );
  });

  it('on a cluster, writes in slots of every node reach one subscriber (PUBLISH is cluster-wide)', async () => {
    await withStore('redis-cluster', async (s) => {
      const layout = s.keys;
      // Pipelines whose slots fall on each of the three masters.
      const nodes = (s.redis as Cluster).nodes('master');
      const owner = async (key: string) => {
        const slot = await keyslot(s, key);
        const slots = (await s.redis.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
        const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
        return range ? `${range[2][0]}:${range[2][1]}` : '';
      };
      const byNode = new Map<string, string>();
      for (let i = 0; byNode.size < nodes.length && i < 200; i++) {
        const p = `p${i}`;
        const node = await owner(layout.pipeline(p).runData);
        if (!byNode.has(node)) byNode.set(node, p);
      }
      expect(byNode.size).toBe(3);
      const seen: StoreChange[] = [];
      const stop = s.watchChanges((c) => seen.push(c));
      try {
        await sleep(300);
        const pipelines = [...byNode.values()];
        for (const p of pipelines) await s.createRun(run(p, `r-${p}`));
        await waitFor('a notification from every node', 3000, async () =>
          pipelines.every((p) => seen.some((c) => c.pipeline === p && c.kind === 'run')),
        );
      } finally {
        stop();
      }
    });
  });

  it('windowHeads of all pipelines reads them in batches (more than one script call)', async () => {
    await withStore('redis', async (s) => {
      const names = Array.from({ length: 520 }, (_, i) => `h${i}`);
      await Promise.all(names.map((p) => s.createWindow(window(p, T0))));
      const heads = await s.windowHeads();
      expect(heads.map((w) => w.pipeline).sort()).toEqual([...names].sort());
      expect((await s.windowHeads('h7')).map((w) => w.key)).toEqual([window('h7', T0).key]);
    });
  });
});
