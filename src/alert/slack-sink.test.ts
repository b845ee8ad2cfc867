// The Slack sink against a local stand-in that checks requests as Slack documents incoming webhooks.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the literal config syntax tested here.
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackMock } from '../../test/support/alert-services.js';
import type { Alert } from '../core/types.js';
import { makeAlert } from './alert.js';
import { AlertDispatcher } from './dispatcher.js';
import { createSinks } from './sink.js';
import { SlackSink, slackMessage } from './slack-sink.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function slack(opts: Parameters<typeof startSlackMock>[0] = {}) {
  const m = await startSlackMock(opts);
  closers.push(m.close);
  return m;
}

const NOW = Date.UTC(2025, 0, 6, 6, 2, 0);
const WINDOW = 'daily-sales@daily@2025-01-06T05:00:00Z';
const blocked = (over: Partial<Parameters<typeof makeAlert>[1]> = {}): Alert =>
  makeAlert(
    'PIPELINE_BLOCKED',
    {
      pipeline: 'daily-sales',
      message: 'daily-sales is NOT_READY: upstream <dep> & co',
      window: WINDOW,
      details: { blocking: [{ trait: 'upstream-dependency', reasonCode: 'PUSHED_FAIL', reason: 'marker missing' }] },
      ...over,
    },
    NOW,
  );

function sinkFor(url: string, publicUrl?: string) {
  const waits: number[] = [];
  const sink = new SlackSink({
    url,
    timeoutSeconds: 2,
    retries: 2,
    publicUrl,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { sink, waits };
}

describe('slack sink', () => {
  it('posts text and valid blocks naming pipeline, window, kind, level, the why and the dashboard link', async () => {
    const m = await slack();
    await sinkFor(m.url, 'https://interlock.example.com/').sink.send(blocked());
    expect(m.requests.map((r) => r.status)).toEqual([200]);
    const [req] = m.requests;
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/json');
    const body = JSON.stringify(req?.json);
    for (const s of ['daily-sales', WINDOW, 'PIPELINE_BLOCKED', 'warning', 'upstream-dependency', 'marker missing'])
      expect(body).toContain(s);
    // mrkdwn control characters are escaped; the link is Slack's <url|label> form.
    expect(body).toContain('upstream &lt;dep&gt; &amp; co');
    expect(body).toContain(
      `<https://interlock.example.com/api/pipelines/daily-sales/why?window=${encodeURIComponent(WINDOW)}|Open in Interlock>`,
    );
  });

  it('has no link without server.publicUrl, and no window field for an alert without one', () => {
    const msg = JSON.stringify(slackMessage(blocked({ window: undefined })));
    expect(msg).not.toContain('Open in Interlock');
    expect(msg).not.toContain('*Window*');
  });

  it('keeps every text within Slack limits for a huge message (Slack would answer invalid_blocks)', async () => {
    const m = await slack();
    await sinkFor(m.url).sink.send(blocked({ message: 'x'.repeat(10_000), details: { big: 'y'.repeat(10_000) } }));
    expect(m.requests.map((r) => r.status)).toEqual([200]);
  });

  it('fails at once on 404 no_service and 403 no_team (a bad or revoked hook), never showing the secret path', async () => {
    const m = await slack({ revoked: ['/services/T0001/B0002/REVOKEDsecret'] });
    const wrong = sinkFor(`${m.base}/services/T0001/B0001/WRONGsecret`);
    const err = await wrong.sink.send(blocked()).catch((e: Error) => e);
    expect(String(err)).toContain('HTTP 404');
    expect(String(err)).toContain('no_service');
    expect(String(err)).toContain('not retried');
    expect(String(err)).not.toContain('WRONGsecret');
    const revoked = sinkFor(`${m.base}/services/T0001/B0002/REVOKEDsecret`);
    const err2 = await revoked.sink.send(blocked()).catch((e: Error) => e);
    expect(String(err2)).toContain('HTTP 403');
    expect(String(err2)).not.toContain('REVOKEDsecret');
    expect(m.requests).toHaveLength(2);
    expect(wrong.sink.name).toBe(`slack ${m.base}`);
  });

  it('retries a 429 after its Retry-After, then delivers', async () => {
    const m = await slack();
    m.rateLimit(1, 3);
    const { sink, waits } = sinkFor(m.url);
    await sink.send(blocked());
    expect(m.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(waits).toEqual([3000]);
  });

  it('goes through createSinks with the URL from ${SLACK_WEBHOOK_URL}; unset, it fails naming the variable only', async () => {
    const m = await slack();
    const errors: string[] = [];
    const d = new AlertDispatcher(
      createSinks([{ type: 'slack', url: '${SLACK_WEBHOOK_URL}' }], { env: { SLACK_WEBHOOK_URL: m.url } }),
      { onError: (_s, e) => errors.push(String(e)) },
    );
    await d.dispatch([blocked()]);
    expect(m.requests.map((r) => r.status)).toEqual([200]);
    const unset = new AlertDispatcher(createSinks([{ type: 'slack', url: '${SLACK_WEBHOOK_URL}' }], { env: {} }), {
      onError: (_s, e) => errors.push(String(e)),
    });
    await unset.dispatch([blocked()]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('SLACK_WEBHOOK_URL is not set');
  });
});
