// The Redis store when Redis is not there: unreachable at start, stopped mid-use, restarted, wrong password.
// Each test stops and starts real redis-server processes, so nothing here shares a server with other files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterlockError } from '../../src/core/errors.js';
import { newRun } from '../../src/engine/run-state.js';
import { createStore } from '../../src/store/index.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { decision, readiness, result, spec } from '../store-conformance.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/poll.js';
import { freePort, RedisServer, requireRedis, startRedis } from '../support/redis.js';

const CONNECT_TIMEOUT = 1000;

/** Rejection of `p` and how long it took; fails the test if `p` resolves. */
async function rejection(p: Promise<unknown>): Promise<{ error: InterlockError; ms: number }> {
  const start = performance.now();
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InterlockError);
    return { error: e as InterlockError, ms: performance.now() - start };
  }
  throw new Error('expected a rejection');
}

beforeAll(() => requireRedis());

describe('redis store: failure behaviour', () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.destroy()));
  });

  it('unreachable at start: connect rejects within ~connectTimeout with STORE_UNAVAILABLE', async () => {
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    // Directly, through createStore (what the CLI does), and as a cluster whose only seed is down; at once.
    const [direct, viaConfig, viaCluster] = await Promise.all([
      rejection(RedisStore.connect({ addr, connectTimeoutMs: CONNECT_TIMEOUT })),
      rejection(createStore({ provider: 'redis', redis: { addr, connectTimeoutMs: CONNECT_TIMEOUT } })),
      rejection(RedisStore.connect({ cluster: [addr], connectTimeoutMs: CONNECT_TIMEOUT })),
    ]);
    for (const { error, ms } of [direct, viaConfig, viaCluster]) {
      expect(error.code).toBe('STORE_UNAVAILABLE');
      expect(error.message).toContain(`cannot reach redis at ${addr}: `);
      // It keeps retrying until the deadline (Redis may be starting), then gives up: never hangs.
      expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT - 50);
      expect(ms).toBeLessThan(CONNECT_TIMEOUT + 1500);
    }
    expect(direct.error.message).toMatch(/ECONNREFUSED/);
  });

  it('the connect deadline runs on the injected clock: a 60 s wait ends when that clock passes it', async () => {
    const port = await freePort();
    const clock = new FakeClock();
    const started = performance.now();
    let settled = false;
    const pending = rejection(RedisStore.connect({ addr: `127.0.0.1:${port}`, connectTimeoutMs: 60_000, clock }));
    void pending.then(() => {
      settled = true;
    });
    expect(await until(() => clock.pending > 0, 5000, 5)).toBe(true); // the deadline timer is set on our clock
    await clock.advanceAsync(59_999);
    expect(settled).toBe(false);
    await clock.advanceAsync(1);
    const { error } = await pending;
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain(`cannot reach redis at 127.0.0.1:${port}: `);
    expect(performance.now() - started).toBeLessThan(5000); // not 60 s of real time
    expect(clock.pending).toBe(0);
  });

  it('a server that comes up during connect is reached within the deadline', async () => {
    const port = await freePort();
    const pending = RedisStore.connect({ addr: `127.0.0.1:${port}`, connectTimeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 300));
    const server = await RedisServer.start({ port });
    servers.push(server);
    const store = await pending;
    try {
      await store.putPipeline(spec('p'));
      expect((await store.getPipeline('p'))?.name).toBe('p');
    } finally {
      await store.close();
    }
  });

  it('stopped mid-use: the next operations reject fast; restarted: the same store works again by itself', async () => {
    const server = await startRedis();
    servers.push(server);
    const store = await RedisStore.connect({ addr: server.addr, connectTimeoutMs: CONNECT_TIMEOUT });
    try {
      await store.saveEvaluation({
        results: [result('p', 'a')],
        readiness: readiness('p'),
        decision: decision('p', 'd1'),
      });
      expect((await store.listDecisions('p')).map((d) => d.id)).toEqual(['d1']);

      await server.stop();
      // Reads, writes (scripts) and ping: each fails with STORE_UNAVAILABLE quickly instead of queueing.
      for (const op of [
        () => store.getReadiness('p'),
        () => store.saveEvaluation({ results: [], readiness: readiness('p'), decision: decision('p', 'd2') }),
        () => store.createRun(newRun({ runId: 'r1', pipeline: 'p', source: 'test', now: 1, deadlineAt: 2 })),
        () => store.listDecisions('p'),
        () => store.ping(),
      ]) {
        const { error, ms } = await rejection(op());
        expect(error.code).toBe('STORE_UNAVAILABLE');
        expect(error.message).toContain(server.addr);
        expect(ms).toBeLessThan(3000);
      }

      await server.restart();
      const deadline = Date.now() + 8000;
      let back = false;
      while (!back && Date.now() < deadline) {
        back = await store.ping().then(
          () => true,
          () => false,
        );
        if (!back) await new Promise((r) => setTimeout(r, 100));
      }
      expect(back).toBe(true);
      // The restarted server has no data (no persistence) and no cached scripts: scripts load again by themselves.
      await store.saveEvaluation({
        results: [result('p', 'a')],
        readiness: readiness('p'),
        decision: decision('p', 'd3'),
      });
      expect((await store.listDecisions('p')).map((d) => d.id)).toEqual(['d3']);
      expect(await store.claimAlert({ pipeline: 'p', kind: 'readiness' }, 'A', 1, 1000)).toEqual({ fire: true });
    } finally {
      await store.close();
    }
  });

  it('a frozen server (SIGSTOP): a command fails after commandTimeoutMs instead of hanging; then works again', async () => {
    const server = await startRedis();
    servers.push(server);
    const store = await RedisStore.connect({
      addr: server.addr,
      connectTimeoutMs: CONNECT_TIMEOUT,
      commandTimeoutMs: 500,
    });
    try {
      await store.putPipeline(spec('p'));
      server.signal('SIGSTOP');
      try {
        const { error, ms } = await rejection(store.getPipeline('p'));
        expect(error.code).toBe('STORE_UNAVAILABLE');
        expect(error.message).toContain('timed out');
        expect(ms).toBeLessThan(1500);
      } finally {
        server.signal('SIGCONT');
      }
      expect((await store.getPipeline('p'))?.name).toBe('p');
    } finally {
      await store.close();
    }
  });

  it('a write in flight when the server crashes fails fast and is not re-sent after the restart', async () => {
    const server = await startRedis();
    servers.push(server);
    const store = await RedisStore.connect({
      addr: server.addr,
      connectTimeoutMs: CONNECT_TIMEOUT,
      commandTimeoutMs: 2000,
    });
    try {
      await store.saveEvaluation({ results: [], readiness: readiness('p'), decision: decision('p', 'd1') });
      server.signal('SIGSTOP'); // the write below is sent, but never answered
      const inFlight = rejection(
        store.saveEvaluation({ results: [], readiness: readiness('p'), decision: decision('p', 'd2') }),
      );
      await new Promise((r) => setTimeout(r, 50));
      await server.kill();
      await server.restart(); // back at once, so a client that re-sent unanswered commands would re-send d2 here
      const { error, ms } = await inFlight;
      expect(error.code).toBe('STORE_UNAVAILABLE');
      expect(ms).toBeLessThan(3000);
      const deadline = Date.now() + 8000;
      while (
        !(await store.ping().then(
          () => true,
          () => false,
        )) &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // The restarted server starts empty (no persistence): d2 must not have been written there behind our back.
      expect(await store.listDecisions('p')).toEqual([]);
      await new Promise((r) => setTimeout(r, 300));
      expect(await store.listDecisions('p')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a wrong password fails at once (no waiting out the deadline); the right one connects', async () => {
    const server = await startRedis({ extraArgs: ['--requirepass', 's3cret'] });
    servers.push(server);
    const { error, ms } = await rejection(
      RedisStore.connect({ addr: server.addr, password: 'wrong', connectTimeoutMs: 5000 }),
    );
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toMatch(/cannot reach redis at .*WRONGPASS/);
    expect(ms).toBeLessThan(2000);
    // The URL form; its password never shows up in messages.
    const bad = await rejection(
      RedisStore.connect({ url: `redis://:wrong@${server.addr}/0`, connectTimeoutMs: CONNECT_TIMEOUT }),
    );
    expect(bad.error.message).not.toContain('wrong@');
    const store = await RedisStore.connect({
      addr: server.addr,
      password: 's3cret',
      connectTimeoutMs: CONNECT_TIMEOUT,
    });
    await store.putPipeline(spec('p'));
    expect((await store.listPipelines()).map((p) => p.name)).toEqual(['p']);
    await store.close();
  });
});
