// The PagerDuty sink against a local Events API v2 stand-in that validates each event as PagerDuty documents it.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the literal config syntax tested here.
import { afterEach, describe, expect, it } from 'vitest';
import { startPagerDutyMock } from '../../test/support/alert-services.js';
import type { Alert, AlertKind } from '../core/types.js';
import { makeAlert } from './alert.js';
import { AlertDispatcher } from './dispatcher.js';
import { dedupKey, PagerDutySink, pagerDutyEvents } from './pagerduty-sink.js';
import { createSinks } from './sink.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function pagerduty() {
  const m = await startPagerDutyMock();
  closers.push(m.close);
  return m;
}

const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const NOW = Date.UTC(2025, 0, 6, 6, 2, 0);
const WINDOW = 'daily-sales@daily@2025-01-06T05:00:00Z';
const alert = (kind: AlertKind, over: Partial<Parameters<typeof makeAlert>[1]> = {}): Alert =>
  makeAlert(kind, { pipeline: 'daily-sales', message: `${kind} happened`, ...over }, NOW);

function sinkFor(url: string, routingKey = KEY, retries = 2) {
  const waits: number[] = [];
  const sink = new PagerDutySink({
    routingKey,
    url,
    timeoutSeconds: 2,
    retries,
    publicUrl: 'https://interlock.example.com',
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { sink, waits };
}

describe('pagerduty sink', () => {
  it('enqueues a trigger PagerDuty accepts (202), dedup_key = window key + kind, severity from the level', async () => {
    const m = await pagerduty();
    await sinkFor(m.url).sink.send(alert('TRIGGER_FAILED', { window: WINDOW, runId: 'r-1' }));
    const [event] = m.accepted();
    expect(m.requests.map((r) => r.status)).toEqual([202]);
    expect(event).toMatchObject({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: `${WINDOW}/TRIGGER_FAILED`,
      payload: {
        summary: 'TRIGGER_FAILED daily-sales: TRIGGER_FAILED happened',
        source: 'interlock',
        severity: 'error',
        timestamp: '2025-01-06T06:02:00.000Z',
        component: 'daily-sales',
        group: 'daily',
        class: 'TRIGGER_FAILED',
        custom_details: { window: WINDOW, runId: 'r-1', kind: 'TRIGGER_FAILED' },
      },
      client_url: `https://interlock.example.com/api/pipelines/daily-sales/why?window=${encodeURIComponent(WINDOW)}`,
    });
  });

  it('without a window, dedup_key is pipeline + kind; levels map onto the four severities', () => {
    for (const level of ['info', 'warning', 'error', 'critical'] as const) {
      const [e] = pagerDutyEvents(alert('RUN_FAILED', { level }), { routingKey: KEY });
      expect(e?.dedup_key).toBe('daily-sales/RUN_FAILED');
      expect((e?.payload as { severity?: string } | undefined)?.severity).toBe(level);
    }
    expect(
      dedupKey({ pipeline: 'p', window: `${'p'.repeat(128)}@${'s'.repeat(128)}@2025-01-06T05:00:00Z` }, 'RUN_FAILED'),
    ).toHaveLength(255);
  });

  it('a recovery (PIPELINE_READY) resolves the incidents the blocked pipeline opened, with the same dedup_key', async () => {
    const m = await pagerduty();
    const { sink } = sinkFor(m.url);
    await sink.send(alert('PIPELINE_BLOCKED'));
    await sink.send(alert('TRAIT_FAILED', { trait: 'fresh' }));
    await sink.send(alert('PIPELINE_READY'));
    const events = m.accepted();
    expect(events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', 'daily-sales/PIPELINE_BLOCKED'],
      ['trigger', 'daily-sales/TRAIT_FAILED'],
      ['resolve', 'daily-sales/PIPELINE_BLOCKED'],
      ['resolve', 'daily-sales/TRAIT_FAILED'],
    ]);
    expect(events[2]).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: 'daily-sales/PIPELINE_BLOCKED' });
  });

  it("RECOVERED resolves the window's SLA_AT_RISK, SLA_BREACHED and WINDOW_MISSED, each with its trigger's dedup_key", async () => {
    const m = await pagerduty();
    const { sink } = sinkFor(m.url);
    await sink.send(alert('SLA_AT_RISK', { window: WINDOW, details: { kind: 'evaluation' } }));
    await sink.send(alert('SLA_BREACHED', { window: WINDOW, details: { kind: 'evaluation' } }));
    await sink.send(alert('RECOVERED', { window: WINDOW }));
    expect(m.accepted().map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', `${WINDOW}/SLA_AT_RISK`],
      ['trigger', `${WINDOW}/SLA_BREACHED`],
      ['resolve', `${WINDOW}/SLA_AT_RISK`],
      ['resolve', `${WINDOW}/SLA_BREACHED`],
      ['resolve', `${WINDOW}/WINDOW_MISSED`],
    ]);
  });

  it('a summary past 1024 characters is cut so PagerDuty still accepts it', async () => {
    const m = await pagerduty();
    await sinkFor(m.url).sink.send(alert('RUN_FAILED', { message: 'z'.repeat(5000) }));
    expect(m.requests.map((r) => r.status)).toEqual([202]);
    expect((m.accepted()[0]?.payload as { summary?: string } | undefined)?.summary?.length).toBe(1024);
  });

  it('400 (invalid event) fails at once without a retry, and the routing key is masked in the message', async () => {
    const m = await pagerduty();
    const bad = 'short-key-is-not-32-chars';
    const { sink, waits } = sinkFor(m.url, bad);
    const err = await sink.send(alert('RUN_FAILED')).catch((e: Error) => e);
    expect(m.requests.map((r) => r.status)).toEqual([400]);
    expect(waits).toEqual([]);
    expect(String(err)).toContain('HTTP 400');
    expect(String(err)).toContain('routing_key');
    expect(String(err)).toContain('not retried');
    expect(String(err)).not.toContain(bad);
  });

  it('429 is retried with backoff (Retry-After respected) until accepted', async () => {
    const m = await pagerduty();
    m.rateLimit(2, 2);
    const { sink, waits } = sinkFor(m.url);
    await sink.send(alert('RUN_TIMED_OUT'));
    expect(m.requests.map((r) => r.status)).toEqual([429, 429, 202]);
    expect(waits).toEqual([2000, 2000]);
  });

  it('a 429 that outlasts the retries fails, and the dispatcher reports it', async () => {
    const m = await pagerduty();
    m.rateLimit(10, 0);
    const errors: string[] = [];
    const d = new AlertDispatcher([sinkFor(m.url, KEY, 1).sink], { onError: (_s, e) => errors.push(String(e)) });
    await d.dispatch([alert('RUN_FAILED')]);
    expect(m.requests.map((r) => r.status)).toEqual([429, 429]);
    expect(errors[0]).toContain('gave up after 2 attempts');
  });

  it('createSinks reads ${PAGERDUTY_ROUTING_KEY} from the environment and honours url', async () => {
    const m = await pagerduty();
    const d = new AlertDispatcher(
      createSinks([{ type: 'pagerduty', routingKey: '${PAGERDUTY_ROUTING_KEY}', url: m.url, source: 'etl-host' }], {
        env: { PAGERDUTY_ROUTING_KEY: KEY },
      }),
    );
    await d.dispatch([alert('RUN_FAILED')]);
    expect(m.accepted().map((e) => [e.routing_key, (e.payload as { source: string }).source])).toEqual([
      [KEY, 'etl-host'],
    ]);
  });
});
