// AlertDispatcher: concurrent fan-out, never rejects, reports each failure; and sinks built from a loaded project.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { loadProject } from '../config/load.js';
import type { Alert } from '../core/types.js';
import { alertPayload, makeAlert } from './alert.js';
import { AlertDispatcher, clockTimer } from './dispatcher.js';
import { type AlertSink, createSinks } from './sink.js';

const NOW = Date.UTC(2025, 0, 6, 6, 2, 0);
const alerts = [
  makeAlert('PIPELINE_BLOCKED', { pipeline: 'p', message: 'blocked' }, NOW),
  makeAlert('TRAIT_FAILED', { pipeline: 'p', trait: 't', message: 'failed' }, NOW),
];

/** A sink that records what it got and behaves as told. */
function recording(name: string, behave: (a: Alert) => Promise<void> = async () => {}) {
  const got: Alert[] = [];
  const sink: AlertSink = {
    name,
    send: (a) => {
      got.push(a);
      return behave(a);
    },
  };
  return { sink, got };
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  vi.restoreAllMocks();
});

describe('AlertDispatcher', () => {
  it('sends every alert to every sink', async () => {
    const a = recording('a');
    const b = recording('b');
    await new AlertDispatcher([a.sink, b.sink]).dispatch(alerts);
    expect(a.got).toEqual(alerts);
    expect(b.got).toEqual(alerts);
  });

  it('reports each delivery once: sent, failed, or undelivered when the budget runs out', async () => {
    const clock = new FakeClock(NOW);
    const ok = recording('ok');
    const bad = recording('bad', async () => Promise.reject(new Error('boom')));
    const slow = recording('slow', () => new Promise<void>(() => {}));
    const results: string[] = [];
    const d = new AlertDispatcher([ok.sink, bad.sink, slow.sink], {
      onError: () => {},
      onUndelivered: () => {},
      onResult: (sink, alert, result) => results.push(`${sink} ${alert.kind} ${result}`),
      budgetMs: 1000,
      startTimer: clockTimer(clock),
    });
    const done = d.dispatch([alerts[0] as Alert]);
    await new Promise((r) => setImmediate(r));
    clock.advance(1000);
    await done;
    expect(results.sort()).toEqual([
      'bad PIPELINE_BLOCKED failed',
      'ok PIPELINE_BLOCKED sent',
      'slow PIPELINE_BLOCKED undelivered',
    ]);
  });

  it('never rejects, even when every sink throws (sync, async) and the error handler throws too', async () => {
    const sinks: AlertSink[] = [
      {
        name: 'sync',
        send: () => {
          throw new Error('sync boom');
        },
      },
      { name: 'async', send: async () => Promise.reject(new Error('async boom')) },
      { name: 'non-error', send: () => Promise.reject('a string') },
    ];
    const reported: Array<[string, unknown]> = [];
    const d = new AlertDispatcher(sinks, {
      onError: (sink, err) => {
        reported.push([sink, err instanceof Error ? err.message : err]);
        throw new Error('handler boom');
      },
    });
    await expect(d.dispatch(alerts)).resolves.toBeUndefined();
    expect(reported.sort()).toEqual(
      [
        ['sync', 'sync boom'],
        ['sync', 'sync boom'],
        ['async', 'async boom'],
        ['async', 'async boom'],
        ['non-error', 'a string'],
        ['non-error', 'a string'],
      ].sort(),
    );
  });

  it('sends concurrently: a slow sink does not hold up the others, and dispatch waits for it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = recording('slow', () => gate);
    const fast = recording('fast');
    let settled = false;
    const done = new AlertDispatcher([slow.sink, fast.sink]).dispatch(alerts).then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(slow.got).toHaveLength(2); // both alerts already in flight to the slow sink
    expect(fast.got).toHaveLength(2);
    expect(settled).toBe(false);
    release();
    await done;
    expect(settled).toBe(true);
  });

  it('reports a failure on stderr when no onError is given', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const failing = recording('broken', async () => {
      throw new Error('disk full');
    });
    await new AlertDispatcher([failing.sink]).dispatch([alerts[0]]);
    expect(write).toHaveBeenCalledWith('interlock: warning: alert sink broken failed: disk full\n');
  });

  it('gives up at the budget: the late deliveries are reported once each and aborted; the fast sink has every alert', async () => {
    // A manual timer: the budget "runs out" when the test says so, no real time passes.
    let fire: (() => void) | undefined;
    let budgetAsked: number | undefined;
    const startTimer = (ms: number, f: () => void) => {
      budgetAsked = ms;
      fire = f;
      return () => (fire = undefined);
    };
    const signals: AbortSignal[] = [];
    const hanging: AlertSink = {
      name: 'webhook http://slow',
      send: (_a, signal) => {
        signals.push(signal as AbortSignal);
        // Rejects when aborted, like fetch: that rejection must not be reported as a second failure.
        return new Promise((_r, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      },
    };
    const fast = recording('file');
    const undelivered: string[] = [];
    const errors: unknown[] = [];
    let settled = false;
    const d = new AlertDispatcher([hanging, fast.sink], {
      budgetMs: 1500,
      startTimer,
      onUndelivered: (sink, alert, ms) => undelivered.push(`${sink} ${alert.kind} ${ms}`),
      onError: (_s, e) => errors.push(e),
    });
    expect(d.budgetMs).toBe(1500);
    const done = d.dispatch(alerts).then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(budgetAsked).toBe(1500);
    expect(fast.got).toEqual(alerts);
    expect(settled).toBe(false);
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
    fire?.();
    await done;
    expect(settled).toBe(true);
    expect(undelivered.sort()).toEqual([
      'webhook http://slow PIPELINE_BLOCKED 1500',
      'webhook http://slow TRAIT_FAILED 1500',
    ]);
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual([]);
  });

  it('the budget runs on the clock given (clockTimer): it ends when that clock passes it, not before', async () => {
    const clock = new FakeClock();
    const hanging: AlertSink = {
      name: 'webhook http://slow',
      send: (_a, signal) =>
        new Promise((_r, reject) => signal?.addEventListener('abort', () => reject(new Error('x')))),
    };
    const undelivered: string[] = [];
    const d = new AlertDispatcher([hanging], {
      budgetMs: 5000,
      startTimer: clockTimer(clock),
      onUndelivered: (sink, alert) => undelivered.push(`${sink} ${alert.kind}`),
    });
    let settled = false;
    const done = d.dispatch(alerts).then(() => (settled = true));
    await clock.advanceAsync(4999);
    expect(settled).toBe(false);
    await clock.advanceAsync(1);
    await done;
    expect(undelivered).toHaveLength(alerts.length);
    expect(clock.pending).toBe(0);
  });

  it('within the budget nothing is reported undelivered and the timer is cancelled', async () => {
    let cancelled = false;
    const undelivered: string[] = [];
    const a = recording('a');
    await new AlertDispatcher([a.sink], {
      startTimer: () => () => (cancelled = true),
      onUndelivered: (sink) => undelivered.push(sink),
    }).dispatch(alerts);
    expect(a.got).toEqual(alerts);
    expect(cancelled).toBe(true);
    expect(undelivered).toEqual([]);
  });

  it('the default budget is 5 s and the default report is a warning on stderr naming alert, sink and budget', async () => {
    expect(new AlertDispatcher([]).budgetMs).toBe(5000);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const hanging: AlertSink = { name: 'webhook http://slow', send: () => new Promise(() => {}) };
    await new AlertDispatcher([hanging], {
      startTimer: (_ms, fire) => {
        fire(); // the budget is spent at once
        return () => {};
      },
    }).dispatch([makeAlert('PIPELINE_BLOCKED', { pipeline: 'p', runId: 'R1', message: 'blocked' }, NOW)]);
    expect(write).toHaveBeenCalledWith(
      'interlock: warning: alert PIPELINE_BLOCKED of p (run R1) not delivered to webhook http://slow within 5 s (alerts.timeout); given up\n',
    );
  });

  it('does nothing, quickly, with no sinks or no alerts', async () => {
    await new AlertDispatcher([]).dispatch(alerts);
    const a = recording('a');
    await new AlertDispatcher([a.sink]).dispatch([]);
    expect(a.got).toEqual([]);
  });
});

describe('sinks from a loaded interlock.yaml', () => {
  it('config.alerts.sinks feeds createSinks directly: console line, file line and webhook POST for one alert', async () => {
    const posted: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posted.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'interlock-alert-cfg-'));
    cleanup.push(() => fs.rmSync(root, { recursive: true, force: true }));
    fs.mkdirSync(path.join(root, 'logs'));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    fs.writeFileSync(
      path.join(root, 'interlock.yaml'),
      [
        'archetypeDirs: []',
        'pipelineDirs: []',
        'alerts:',
        '  repeatAfter: 60',
        '  sinks:',
        '    - type: console',
        `    - { type: webhook, url: "${url}", headers: { X-Token: abc } }`,
        '    - { type: file, path: logs/alerts.jsonl }',
        '',
      ].join('\n'),
    );
    const project = loadProject(path.join(root, 'interlock.yaml'));
    expect(project.diagnostics).toEqual([]);
    const lines: string[] = [];
    const sinks = createSinks(project.config.alerts.sinks, { stderr: (l) => lines.push(l) });
    const errors: unknown[] = [];
    await new AlertDispatcher(sinks, { onError: (_s, e) => errors.push(e) }).dispatch([alerts[0]]);
    expect(errors).toEqual([]);
    expect(lines).toEqual(['[interlock] WARNING PIPELINE_BLOCKED p: blocked']);
    expect(posted.map((b) => JSON.parse(b))).toEqual([alertPayload(alerts[0])]);
    const written = fs.readFileSync(path.join(root, 'logs', 'alerts.jsonl'), 'utf8');
    expect(written).toBe(`${JSON.stringify(alertPayload(alerts[0]))}\n`);
  });
});
