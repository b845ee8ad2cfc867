// Issue 12 (trigger side): the run key and a schedule window's variables reach triggers and evaluators, and every
// failed trigger outcome carries its failure category; an http request lost after sending is UNKNOWN (FAILED,
// recorded on the run, alerted). Real local http servers, real scripts, memory store, fake clock.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs and configs are the subject under test.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gatePipeline, openGateContext, recordAlerts, writeGateProject } from '../../test/support/runtime-context.js';
import { InterlockError } from '../core/errors.js';
import type { Alert, PipelineSpec, RunState, TriggerSpec } from '../core/types.js';
import type { MemoryStore } from '../store/memory/memory-store.js';
import type { Context } from './context.js';
import { type RunResult, type RunWindow, runPipeline } from './run.js';

const T0 = Date.parse('2026-12-01T04:00:05Z');
const OPEN = Date.parse('2026-12-01T04:00:00Z');
const KEY = 'p@daily@2026-12-01T04:00:00.000Z';
/** Opened 05:00 Europe/Berlin on 2026-12-01. */
const WINDOW: RunWindow = {
  key: KEY,
  schedule: 'daily',
  openAt: OPEN,
  date: '2026-12-01',
  attempt: 1,
  runKey: `${KEY}#1`,
};

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

interface Setup {
  ctx: Context;
  root: string;
  store: MemoryStore;
  sent: Alert[];
}

/**
 * A project with one trait `a` whose evaluator writes its environment and stdin (the expanded config) to files and
 * passes, and a context recording the alerts sent. `env` is the context's environment.
 */
async function setup(env: NodeJS.ProcessEnv = process.env): Promise<Setup> {
  const root = mkdtempSync(join(tmpdir(), 'interlock-run-window-'));
  dirs.push(root);
  writeGateProject(root, {
    files: {
      'evaluators/gate': [
        '#!/bin/sh',
        `env > '${join(root, 'eval-env')}'`,
        `cat > '${join(root, 'eval-stdin')}'`,
        `echo '{"status":"PASS"}'`,
        '',
      ].join('\n'),
    },
  });
  const { ctx, store } = await openGateContext(root, { env, start: T0 });
  return { ctx, root, store, sent: recordAlerts(ctx) };
}

function spec(root: string, trigger: TriggerSpec, config: Record<string, unknown> = {}): PipelineSpec {
  return gatePipeline(root, trigger, { config });
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real http server on 127.0.0.1: reads each request whole, records it, then lets `answer` respond (or not). */
async function server(
  answer: (req: Received, res: import('node:http').ServerResponse) => void,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      answer(r, res);
    });
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, received };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function runOf(r: RunResult): RunState {
  if (!('run' in r)) throw new Error(`no run: ${r.kind}`);
  return r.run;
}

/** KEY=VALUE lines of an `env` dump. */
function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

describe('the run key and the window variables reach http triggers', () => {
  it("a window run sends X-Interlock-Run-Key (the attempt's run key) and expands the window's ${…}s unmasked", async () => {
    const { ctx, root, store } = await setup();
    const target = await server((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echoed: r.headers['x-date'] }));
    });
    await store.putPipeline(
      spec(root, {
        type: 'http',
        url: `${target.url}/dags/\${INTERLOCK_WINDOW_DATE}?w=\${INTERLOCK_WINDOW}`,
        headers: { 'X-Date': '${INTERLOCK_WINDOW_DATE}', 'Idempotency-Token': '${INTERLOCK_RUN_KEY}' },
        body: '{"key":"${INTERLOCK_RUN_KEY}","start":"${INTERLOCK_WINDOW_START}","schedule":"${INTERLOCK_SCHEDULE}"}',
        async: false,
      }),
    );
    const result = await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW });
    expect(result.kind).toBe('triggered');
    const run = runOf(result);
    expect(run.status).toBe('COMPLETED');
    expect(run.runKey).toBe(WINDOW.runKey);

    expect(target.received).toHaveLength(1);
    const req = target.received[0] as Received;
    expect(req.headers['x-interlock-run-key']).toBe(WINDOW.runKey);
    expect(req.headers['x-interlock-run-id']).toBe(run.runId);
    expect(req.headers['x-date']).toBe('2026-12-01');
    expect(req.headers['idempotency-token']).toBe(WINDOW.runKey);
    expect(req.url).toBe(`/dags/2026-12-01?w=${KEY}`);
    expect(JSON.parse(req.body)).toEqual({ key: WINDOW.runKey, start: '2026-12-01T04:00:00.000Z', schedule: 'daily' });
    // The window date is an identifier, not a secret: the response excerpt keeps it.
    expect(run.trigger?.bodyExcerpt).toBe('{"echoed":"2026-12-01"}');
    await ctx.close();
  });

  it('a manual run sends its run id as the run key', async () => {
    const { ctx, root, store } = await setup();
    const target = await server((_r, res) => res.writeHead(202).end());
    await store.putPipeline(spec(root, { type: 'http', url: `${target.url}/run?k=\${INTERLOCK_RUN_KEY}` }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'test' }));
    expect(run.status).toBe('RUNNING');
    expect(run.runKey).toBeUndefined();
    expect(target.received[0]?.headers['x-interlock-run-key']).toBe(run.runId);
    expect(target.received[0]?.url).toBe(`/run?k=${run.runId}`);
    await ctx.close();
  });

  it('a manual run of a trigger that uses a window variable is refused before any run, even if the parent env has one', async () => {
    const { ctx, root, store } = await setup({ ...process.env, INTERLOCK_WINDOW_DATE: '1999-01-01' });
    const target = await server((_r, res) => res.writeHead(200).end());
    await store.putPipeline(spec(root, { type: 'http', url: `${target.url}/dags/\${INTERLOCK_WINDOW_DATE}` }));
    const err = await runPipeline(ctx, 'p', { source: 'test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterlockError);
    expect((err as InterlockError).code).toBe('TRIGGER_ENV_MISSING');
    expect((err as InterlockError).message).toContain("INTERLOCK_WINDOW_DATE is set only in a schedule window's runs");
    expect(target.received).toHaveLength(0);
    expect(await store.listRuns('p')).toHaveLength(0);
    // The same trigger in a window run fires with the window's date, not the parent's.
    const run = runOf(await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW }));
    expect(run.status).toBe('RUNNING');
    expect(target.received.map((r) => r.url)).toEqual(['/dags/2026-12-01']);
    await ctx.close();
  });
});

describe('http trigger outcomes have a failure category', () => {
  it('a server that reads the request and then drops the connection: UNKNOWN, FAILED, recorded, alerted', async () => {
    const { ctx, root, store, sent } = await setup();
    const target = await server((_r, res) => res.socket?.destroy());
    await store.putPipeline(spec(root, { type: 'http', url: `${target.url}/start` }));
    const result = await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW });
    expect(result.kind).toBe('trigger-failed');
    expect(target.received).toHaveLength(1);
    const run = (await store.getRun(runOf(result).runId)) as RunState;
    expect(run.status).toBe('FAILED');
    expect(run.outcome).toBe('UNKNOWN');
    expect(run.trigger).toMatchObject({ ok: false, requestSent: true, category: 'UNKNOWN' });
    expect(run.trigger?.error).toContain('the request was sent');
    const unknown = sent.filter((a) => a.kind === 'TRIGGER_OUTCOME_UNKNOWN');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ level: 'critical', runId: run.runId, details: { runKey: WINDOW.runKey } });
    expect(sent.some((a) => a.kind === 'TRIGGER_FAILED')).toBe(false);
    await ctx.close();
  });

  it('a request sent and never answered within the timeout: UNKNOWN (timed out after sending)', async () => {
    const { ctx, root, store, sent } = await setup();
    const target = await server(() => undefined);
    await store.putPipeline(spec(root, { type: 'http', url: `${target.url}/start`, timeout: 0.3 }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'test' }));
    expect(target.received).toHaveLength(1);
    expect(run.status).toBe('FAILED');
    expect(run.outcome).toBe('UNKNOWN');
    expect(run.trigger).toMatchObject({ timedOut: true, requestSent: true, category: 'UNKNOWN' });
    expect(sent.map((a) => a.kind)).toContain('TRIGGER_OUTCOME_UNKNOWN');
    await ctx.close();
  });

  it.each([
    [503, 'TRANSIENT'],
    [429, 'TRANSIENT'],
    [404, 'PERMANENT'],
    [400, 'PERMANENT'],
  ] as const)('HTTP %i → %s, FAILED with TRIGGER_FAILED and no UNKNOWN outcome', async (status, category) => {
    const { ctx, root, store, sent } = await setup();
    const target = await server((_r, res) => res.writeHead(status).end('no'));
    await store.putPipeline(spec(root, { type: 'http', url: `${target.url}/start` }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW }));
    expect(run.status).toBe('FAILED');
    expect(run.outcome).toBeUndefined();
    expect(run.trigger).toMatchObject({ httpStatus: status, requestSent: true, category });
    expect(sent.map((a) => a.kind)).toContain('TRIGGER_FAILED');
    expect(sent.map((a) => a.kind)).not.toContain('TRIGGER_OUTCOME_UNKNOWN');
    await ctx.close();
  });

  it('connection refused (nothing listening): the request was never sent → TRANSIENT', async () => {
    const { ctx, root, store, sent } = await setup();
    const port = await closedPort();
    await store.putPipeline(spec(root, { type: 'http', url: `http://127.0.0.1:${port}/start` }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW }));
    expect(run.status).toBe('FAILED');
    expect(run.outcome).toBeUndefined();
    expect(run.trigger).toMatchObject({ requestSent: false, category: 'TRANSIENT' });
    expect(run.trigger?.error).toContain('ECONNREFUSED');
    expect(sent.map((a) => a.kind)).toContain('TRIGGER_FAILED');
    await ctx.close();
  });
});

describe('command triggers', () => {
  it('get INTERLOCK_RUN_KEY and the window variables (a real script writes them), unmasked in output', async () => {
    const { ctx, root, store } = await setup({ ...process.env, INTERLOCK_SCHEDULE: 'from-parent' });
    const out = join(root, 'trigger-env');
    await store.putPipeline(spec(root, { type: 'command', command: `env > '${out}'; echo "key=$INTERLOCK_RUN_KEY"` }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW }));
    expect(run.status).toBe('COMPLETED');
    const env = envFile(out);
    expect(env).toMatchObject({
      INTERLOCK_RUN_KEY: WINDOW.runKey,
      INTERLOCK_RUN_ID: run.runId,
      INTERLOCK_SCHEDULE: 'daily',
      INTERLOCK_WINDOW: KEY,
      INTERLOCK_WINDOW_START: '2026-12-01T04:00:00.000Z',
      INTERLOCK_WINDOW_DATE: '2026-12-01',
    });
    // INTERLOCK_RUN_KEY has KEY in its name, but it is an identifier: never masked.
    expect(run.trigger?.stdoutTail).toBe(`key=${WINDOW.runKey}\n`);
    await ctx.close();
  });

  it("a manual run's command gets its run id as INTERLOCK_RUN_KEY and no window variable, not even the parent's", async () => {
    const { ctx, root, store } = await setup({ ...process.env, INTERLOCK_WINDOW_DATE: '1999-01-01' });
    const out = join(root, 'trigger-env');
    await store.putPipeline(spec(root, { type: 'command', command: `env > '${out}'` }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'test' }));
    expect(run.status).toBe('COMPLETED');
    const env = envFile(out);
    expect(env.INTERLOCK_RUN_KEY).toBe(run.runId);
    expect(Object.keys(env).filter((n) => n === 'INTERLOCK_SCHEDULE' || n.startsWith('INTERLOCK_WINDOW'))).toEqual([]);
    await ctx.close();
  });

  it.each([
    ['exit 75', 'TRANSIENT'],
    ['kill -TERM $$', 'TRANSIENT'],
    ['exit 1', 'PERMANENT'],
    ['exit 127', 'PERMANENT'],
  ] as const)('`%s` → %s', async (command, category) => {
    const { ctx, root, store, sent } = await setup();
    await store.putPipeline(spec(root, { type: 'command', command }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW }));
    expect(run.status).toBe('FAILED');
    expect(run.outcome).toBeUndefined();
    expect(run.trigger?.category).toBe(category);
    expect(sent.map((a) => a.kind)).toContain('TRIGGER_FAILED');
    await ctx.close();
  });

  it('a command that outlives its timeout → TIMEOUT', async () => {
    const { ctx, root, store } = await setup();
    await store.putPipeline(spec(root, { type: 'command', command: 'sleep 30', timeout: 0.3 }));
    const run = runOf(await runPipeline(ctx, 'p', { source: 'test' }));
    expect(run.status).toBe('FAILED');
    expect(run.trigger).toMatchObject({ timedOut: true, category: 'TIMEOUT' });
    await ctx.close();
  });
});

describe("a window's evaluators", () => {
  it('get INTERLOCK_WINDOW_DATE (and the others) in their env and as ${…} in their config, without listing them', async () => {
    const { ctx, root, store } = await setup({ ...process.env, INTERLOCK_WINDOW_DATE: '1999-01-01' });
    const fired = join(root, 'fired');
    await store.putPipeline(
      spec(
        root,
        { type: 'command', command: `touch '${fired}'` },
        { partition: 'dt=${INTERLOCK_WINDOW_DATE}', window: '${INTERLOCK_WINDOW}' },
      ),
    );
    const run = runOf(await runPipeline(ctx, 'p', { source: 'watcher', window: WINDOW }));
    expect(run.status).toBe('COMPLETED');
    const env = envFile(join(root, 'eval-env'));
    expect(env).toMatchObject({
      INTERLOCK_WINDOW_DATE: '2026-12-01',
      INTERLOCK_WINDOW: KEY,
      INTERLOCK_SCHEDULE: 'daily',
      INTERLOCK_WINDOW_START: '2026-12-01T04:00:00.000Z',
    });
    // The run key belongs to the trigger, not to the evidence.
    expect(env.INTERLOCK_RUN_KEY).toBeUndefined();
    expect(readFileSync(fired, 'utf8')).toBe('');
    expect(JSON.parse(readFileSync(join(root, 'eval-stdin'), 'utf8'))).toEqual({
      partition: 'dt=2026-12-01',
      window: KEY,
    });
    await ctx.close();
  });

  it('outside a window, a config that uses a window variable fails the trait: BLOCKED, the evaluator never runs, nothing fires', async () => {
    const { ctx, root, store } = await setup({ ...process.env, INTERLOCK_WINDOW_DATE: '1999-01-01' });
    const fired = join(root, 'fired');
    await store.putPipeline(
      spec(root, { type: 'command', command: `touch '${fired}'` }, { partition: 'dt=${INTERLOCK_WINDOW_DATE}' }),
    );
    const result = await runPipeline(ctx, 'p', { source: 'test' });
    expect(result.kind).toBe('blocked');
    if (result.kind !== 'blocked') return;
    expect(result.evaluation.results[0]).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(result.evaluation.results[0]?.reason).toContain("set only in a schedule window's evaluations");
    expect(() => readFileSync(join(root, 'eval-stdin'))).toThrow();
    expect(() => readFileSync(fired)).toThrow();
    await ctx.close();
  });

  it('a manual evaluation gets no window variable in its env, not even the parent one', async () => {
    const { ctx, root, store } = await setup({ ...process.env, INTERLOCK_WINDOW_DATE: '1999-01-01' });
    await store.putPipeline(spec(root, { type: 'command', command: 'true' }));
    expect(runOf(await runPipeline(ctx, 'p', { source: 'test' })).status).toBe('COMPLETED');
    expect(envFile(join(root, 'eval-env')).INTERLOCK_WINDOW_DATE).toBeUndefined();
    await ctx.close();
  });
});
