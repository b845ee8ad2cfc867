// Alert construction: kind → level and UCA, the documented payload, safe JSON, the console line and createSinks.
import { describe, expect, it } from 'vitest';
import type { AlertKind } from '../core/types.js';
import { alertJson, alertPayload, MAX_ALERT_JSON_BYTES, makeAlert } from './alert.js';
import { ConsoleSink, consoleLine } from './console-sink.js';
import { FileSink } from './file-sink.js';
import { createSinks } from './sink.js';
import { defaultLevel, ucaFor } from './uca.js';
import { WebhookSink } from './webhook-sink.js';

const NOW = Date.UTC(2025, 0, 6, 6, 2, 0, 123);

describe('ucaFor and default levels', () => {
  it('maps every kind to its STAMP category and default level', () => {
    const table: Array<[AlertKind, string, string]> = [
      ['TRAIT_FAILED', 'provided-unsafe', 'warning'],
      ['PIPELINE_BLOCKED', 'provided-unsafe', 'warning'],
      ['PIPELINE_READY', 'provided-unsafe', 'info'],
      ['TRIGGER_FAILED', 'not-provided', 'error'],
      ['RUN_FAILED', 'wrong-duration', 'error'],
      ['RUN_TIMED_OUT', 'wrong-duration', 'error'],
      ['CONFIG_RELOAD_FAILED', 'not-provided', 'error'],
    ];
    for (const [kind, category, level] of table) {
      expect(ucaFor(kind).category, kind).toBe(category);
      expect(defaultLevel(kind), kind).toBe(level);
    }
  });

  it('describes each kind in its own sentence', () => {
    const kinds: AlertKind[] = [
      'TRAIT_FAILED',
      'PIPELINE_BLOCKED',
      'PIPELINE_READY',
      'TRIGGER_FAILED',
      'RUN_FAILED',
      'RUN_TIMED_OUT',
      'CONFIG_RELOAD_FAILED',
    ];
    const descriptions = kinds.map((k) => ucaFor(k).description);
    expect(new Set(descriptions).size).toBe(kinds.length);
    for (const d of descriptions) expect(d).toMatch(/^[A-Z].{20,}\.$/);
  });
});

describe('makeAlert', () => {
  it('fills level, uca and timestamp from kind and now, leaving out undefined fields', () => {
    const a = makeAlert('PIPELINE_BLOCKED', { pipeline: 'p', message: 'blocked', runId: undefined }, NOW);
    expect(a).toEqual({
      level: 'warning',
      kind: 'PIPELINE_BLOCKED',
      pipeline: 'p',
      message: 'blocked',
      timestamp: NOW,
      uca: ucaFor('PIPELINE_BLOCKED'),
    });
    expect('runId' in a).toBe(false);
  });

  it('keeps an explicit level, run, trait and details', () => {
    const a = makeAlert(
      'TRAIT_FAILED',
      { pipeline: 'p', message: 'm', level: 'critical', runId: 'r1', trait: 't', details: { n: 1 } },
      NOW,
    );
    expect(a).toMatchObject({ level: 'critical', runId: 'r1', trait: 't', details: { n: 1 } });
  });
});

describe('alertPayload', () => {
  it('has the documented shape, in order, with an ISO 8601 timestamp and the epoch ms beside it', () => {
    const a = makeAlert(
      'RUN_FAILED',
      { pipeline: 'daily', message: 'exit 1', runId: 'r1', trait: 't', details: { exitCode: 1 } },
      NOW,
    );
    const p = alertPayload(a);
    expect(p).toEqual({
      level: 'error',
      kind: 'RUN_FAILED',
      pipeline: 'daily',
      runId: 'r1',
      trait: 't',
      message: 'exit 1',
      details: { exitCode: 1 },
      timestamp: '2025-01-06T06:02:00.123Z',
      timestampMs: NOW,
      uca: { category: 'wrong-duration', description: ucaFor('RUN_FAILED').description },
    });
    expect(Object.keys(p)).toEqual([
      'level',
      'kind',
      'pipeline',
      'runId',
      'trait',
      'message',
      'details',
      'timestamp',
      'timestampMs',
      'uca',
    ]);
    const bare = alertPayload(makeAlert('PIPELINE_READY', { pipeline: 'daily', message: 'ok' }, NOW));
    expect(Object.keys(bare)).toEqual(['level', 'kind', 'pipeline', 'message', 'timestamp', 'timestampMs', 'uca']);
  });

  it('serialises to JSON that never throws: unserialisable or oversized details are replaced by a note', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const a = makeAlert('TRAIT_FAILED', { pipeline: 'p', message: 'm', details: cyclic }, NOW);
    expect(JSON.parse(alertJson(a)).details.detailsOmitted).toMatch(/^not serialisable: /);

    const big = makeAlert('TRAIT_FAILED', { pipeline: 'p', message: 'm', details: { s: 'x'.repeat(300_000) } }, NOW);
    const text = alertJson(big);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_ALERT_JSON_BYTES);
    expect(JSON.parse(text)).toMatchObject({ kind: 'TRAIT_FAILED', details: { detailsOmitted: expect.any(String) } });

    const plain = makeAlert('TRAIT_FAILED', { pipeline: 'p', message: 'm', details: { a: [1, 'b'] } }, NOW);
    expect(JSON.parse(alertJson(plain))).toEqual(alertPayload(plain));
  });
});

describe('console sink', () => {
  it('writes one human line per alert, naming run and trait when set', async () => {
    const lines: string[] = [];
    const sink = new ConsoleSink((l) => lines.push(l));
    await sink.send(makeAlert('PIPELINE_BLOCKED', { pipeline: 'example', message: 'source-freshness failed' }, NOW));
    await sink.send(
      makeAlert(
        'TRAIT_FAILED',
        { pipeline: 'example', message: 'stale\n  by 5 min\r\n', runId: 'r-1', trait: 'fresh' },
        NOW,
      ),
    );
    await sink.send(makeAlert('RUN_TIMED_OUT', { pipeline: 'example', message: 'over 60s', runId: 'r-2' }, NOW));
    expect(lines).toEqual([
      '[interlock] WARNING PIPELINE_BLOCKED example: source-freshness failed',
      '[interlock] WARNING TRAIT_FAILED example: stale by 5 min (run r-1, trait fresh)',
      '[interlock] ERROR RUN_TIMED_OUT example: over 60s (run r-2)',
    ]);
    expect(consoleLine(makeAlert('PIPELINE_READY', { pipeline: 'x', message: 'ok', trait: 't' }, NOW))).toBe(
      '[interlock] INFO PIPELINE_READY x: ok (trait t)',
    );
  });
});

describe('createSinks', () => {
  it('builds one sink per config, in order, naming a webhook by its origin only', () => {
    const sinks = createSinks([
      { type: 'console' },
      { type: 'webhook', url: 'https://user:pw@hooks.example.com/services/T0/B0/SECRET?x=1', timeout: 1, retries: 0 },
      { type: 'file', path: '/tmp/alerts.jsonl' },
    ]);
    expect(sinks.map((s) => s.constructor)).toEqual([ConsoleSink, WebhookSink, FileSink]);
    expect(sinks.map((s) => s.name)).toEqual([
      'console',
      'webhook https://hooks.example.com',
      'file /tmp/alerts.jsonl',
    ]);
  });

  it('refuses a sink type it does not know', () => {
    expect(() => createSinks([{ type: 'teams' } as never])).toThrow(/unknown alert sink type 'teams'/);
  });
});
