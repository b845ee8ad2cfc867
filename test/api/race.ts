// The one-trigger-wins test of the HTTP API, as a function of the store config so every backend runs it unchanged:
// N concurrent POST /api/pipelines/{id}/run on one pipeline, spread over two servers sharing the store → exactly one
// 202 and one trigger execution; every other request is a 409 naming the winner's runId.
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { type TestServer, useServers, waitForRun } from '../support/api-server.js';
import { api, raw } from '../support/http-request.js';
import { fired } from '../support/trigger-recorder.js';

export interface RaceOptions {
  /** Concurrent requests (default 50). */
  requests?: number;
  /** Servers sharing the store, requests spread round-robin (default 2). */
  servers?: number;
}

/**
 * Registers the race test for one store backend. `storeConfig` returns the interlock.yaml lines that select and
 * configure the store (e.g. `provider: sqlite\n`, or `provider: redis\nredis:\n  addr: …\n  keyPrefix: <unique>\n`);
 * it is called once per test, so a backend can hand out a fresh key prefix or database each time.
 */
export function concurrentRunSuite(name: string, storeConfig: () => string | Promise<string>, o: RaceOptions = {}) {
  const n = o.requests ?? 50;
  const serverCount = o.servers ?? 2;
  describe(`HTTP API race on ${name}`, () => {
    const { dir, start } = useServers('interlock-api-race-');

    it(`${n} concurrent POST /run over ${serverCount} servers: exactly one 202 and one trigger execution, the rest 409`, async () => {
      const root = makeProject(dir(), {
        config: await storeConfig(),
        // The run stays active long enough for every request to meet its lock.
        trigger: 'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log; sleep 2"\n',
      });
      const servers: TestServer[] = [];
      for (let i = 0; i < serverCount; i++) servers.push(await start(root));
      // Warm up every server's store connection, so the race is on the lock and nothing else.
      for (const s of servers) expect((await api(s.url, 'GET', '/api/pipelines/p/runs')).status).toBe(200);

      const replies = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          raw((servers[i % serverCount] as TestServer).url, {
            method: 'POST',
            path: '/api/pipelines/p/run',
            headers: { 'content-type': 'application/json' },
          }),
        ),
      );
      const statuses = replies.map((r) => r.status);
      const won = replies.filter((r) => r.status === 202);
      expect(won, JSON.stringify(statuses)).toHaveLength(1);
      const winner: string = won[0]?.body.run.runId;
      const lost = replies.filter((r) => r.status === 409);
      expect(lost).toHaveLength(n - 1);
      for (const r of lost) {
        expect(r.body.error.code).toBe('ALREADY_RUNNING');
        expect(r.body.error.details.runId).toBe(winner);
      }

      const s0 = servers[0] as TestServer;
      const done = await waitForRun(s0.url, winner, ['COMPLETED', 'FAILED']);
      expect(done.body.status).toBe('COMPLETED');
      expect(fired(root)).toEqual([winner]);
      const runs = await api(s0.url, 'GET', '/api/pipelines/p/runs?limit=1000');
      expect(runs.body.map((r: { runId: string }) => r.runId)).toEqual([winner]);
      const events = (await api(s0.url, 'GET', '/api/pipelines/p/history?limit=1000')).body.filter(
        (e: { type: string }) => e.type === 'run',
      );
      expect(events.map((e: { to: string; version: number }) => `${e.to}@${e.version}`)).toEqual([
        'COMPLETED@4',
        'TRIGGERING@3', // the command's process recorded on the run
        'TRIGGERING@2',
        'PENDING@1',
      ]);
    });
  });
}
