// Local stand-ins for Slack incoming webhooks and PagerDuty's Events API v2 that check each request the way the
// services document it and answer as they do (status and body), so a sink that sends a bad request fails here too.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServiceRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The parsed body, when it was JSON. */
  json?: unknown;
  /** The status the mock answered. */
  status: number;
  /** Why it was refused (the service's error string or message), when it was. */
  error?: string;
}

export interface ServiceMock {
  /** Base URL (http://127.0.0.1:port). */
  base: string;
  requests: ServiceRequest[];
  /** Answer the next `n` valid requests with 429 (and Retry-After: `retryAfter` seconds). */
  rateLimit(n: number, retryAfter?: number): void;
  close(): Promise<void>;
}

type Check = (req: ServiceRequest) => { status: number; body: string; type: string; headers?: Record<string, string> };

async function startMock(check: Check): Promise<ServiceMock> {
  const requests: ServiceRequest[] = [];
  let limited = 0;
  let retryAfter = 1;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: ServiceRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        status: 0,
      };
      try {
        r.json = JSON.parse(body);
      } catch {
        // Left undefined: the check answers as the service does for a body that is not JSON.
      }
      let answer = check(r);
      if (answer.status < 300 && limited > 0) {
        limited--;
        answer = {
          status: 429,
          body: '{"status":"throttle event","message":"Requests for this service are arriving too quickly."}',
          type: 'application/json',
          headers: { 'retry-after': String(retryAfter) },
        };
      }
      r.status = answer.status;
      if (answer.status >= 300) r.error = answer.body;
      requests.push(r);
      res.writeHead(answer.status, { 'content-type': answer.type, ...(answer.headers ?? {}) }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    rateLimit(n, seconds = 1) {
      limited = n;
      retryAfter = seconds;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const text = (status: number, body: string) => ({ status, body, type: 'text/html' });

const BLOCK_TYPES = ['section', 'header', 'context', 'divider', 'actions', 'image', 'rich_text'];

/** Why a Slack `blocks` array is invalid (Block Kit limits), or undefined when it is valid. */
function badBlocks(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks is not an array';
  if (blocks.length > 50) return 'more than 50 blocks';
  for (const b of blocks as Array<Record<string, unknown>>) {
    if (!b || typeof b !== 'object' || !BLOCK_TYPES.includes(String(b.type))) return `unknown block type ${b?.type}`;
    const t = b.text as { type?: string; text?: unknown } | undefined;
    if (b.type === 'header') {
      if (t?.type !== 'plain_text' || typeof t.text !== 'string' || t.text.length > 150) return 'bad header text';
    }
    if (b.type === 'section') {
      const fields = b.fields as Array<{ type?: string; text?: unknown }> | undefined;
      if (!t && !fields) return 'section without text or fields';
      if (t && (typeof t.text !== 'string' || t.text.length === 0 || t.text.length > 3000)) return 'bad section text';
      if (t && t.type !== 'mrkdwn' && t.type !== 'plain_text') return 'bad section text type';
      if (fields && (fields.length > 10 || fields.some((f) => typeof f.text !== 'string' || f.text.length > 2000)))
        return 'bad section fields';
    }
    if (b.type === 'context') {
      const els = b.elements as Array<{ type?: string; text?: unknown }> | undefined;
      if (!Array.isArray(els) || els.length === 0 || els.length > 10) return 'bad context elements';
      if (els.some((e) => typeof e.text !== 'string' || e.text.length > 3000)) return 'bad context element text';
    }
  }
  return undefined;
}

/**
 * Slack incoming webhooks: POST /services/T…/B…/<secret> with a JSON body that has `text` (or `blocks`, which must
 * be valid Block Kit). Answers 200 `ok`; 400 `invalid_payload` (not JSON, wrong type, bad blocks) or
 * `missing_text_or_fallback_or_attachments`; 404 `no_service` for a hook that does not exist (any other path);
 * 403 `no_team` for a revoked one (`revoked` lists their paths); 405 for another method.
 */
export async function startSlackMock(opts: { hookPath?: string; revoked?: string[] } = {}) {
  const hookPath = opts.hookPath ?? '/services/T0001/B0001/XXXXsecretXXXX';
  const mock = await startMock((r) => {
    if (r.method !== 'POST') return text(405, 'invalid_method');
    if (opts.revoked?.includes(r.path)) return text(403, 'no_team');
    if (r.path !== hookPath) return text(404, 'no_service');
    if (!String(r.headers['content-type'] ?? '').startsWith('application/json')) return text(400, 'invalid_payload');
    const j = r.json as Record<string, unknown> | undefined;
    if (!j || typeof j !== 'object' || Array.isArray(j)) return text(400, 'invalid_payload');
    if (j.text !== undefined && typeof j.text !== 'string') return text(400, 'invalid_payload');
    if (j.blocks !== undefined && badBlocks(j.blocks)) return text(400, 'invalid_blocks');
    if (!j.text && !j.blocks) return text(400, 'missing_text_or_fallback_or_attachments');
    return text(200, 'ok');
  });
  return { ...mock, url: `${mock.base}${hookPath}`, hookPath };
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];

/** Why a PagerDuty Events API v2 event is invalid, as the service lists it, or [] when it is valid. */
function eventErrors(j: unknown): string[] {
  if (!j || typeof j !== 'object' || Array.isArray(j)) return ['Event object is invalid'];
  const e = j as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof e.routing_key !== 'string' || !/^[A-Za-z0-9]{32}$/.test(e.routing_key))
    errors.push("'routing_key' is invalid (must be a 32 character string)");
  if (!ACTIONS.includes(String(e.event_action))) errors.push("'event_action' is invalid");
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255))
    errors.push("'dedup_key' must be a string of at most 255 characters");
  if (e.event_action !== 'trigger' && e.dedup_key === undefined) errors.push("'dedup_key' is missing");
  if (e.event_action === 'trigger') {
    const p = e.payload as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object') errors.push("'payload' is missing or not an object");
    else {
      if (typeof p.summary !== 'string' || p.summary.length === 0) errors.push("'payload.summary' is missing");
      else if (p.summary.length > 1024) errors.push("'payload.summary' must be at most 1024 characters");
      if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is missing");
      if (!SEVERITIES.includes(String(p.severity))) errors.push("'payload.severity' is invalid");
      if (p.timestamp !== undefined && Number.isNaN(Date.parse(String(p.timestamp))))
        errors.push("'payload.timestamp' is invalid");
      for (const k of ['component', 'group', 'class'])
        if (p[k] !== undefined && typeof p[k] !== 'string') errors.push(`'payload.${k}' must be a string`);
      if (p.custom_details !== undefined && (typeof p.custom_details !== 'object' || p.custom_details === null))
        errors.push("'payload.custom_details' must be an object");
    }
  }
  return errors;
}

/**
 * PagerDuty Events API v2: POST /v2/enqueue with Content-Type application/json. Answers 202
 * `{"status":"success","message":"Event processed","dedup_key":…}`; 400 `{"status":"invalid event",
 * "message":"Event object is invalid","errors":[…]}`; 404 for another path, 405 for another method; 429 while
 * rate-limited (rateLimit). `events` are the accepted ones.
 */
export async function startPagerDutyMock() {
  const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body), type: 'application/json' });
  const mock = await startMock((r) => {
    if (r.path !== '/v2/enqueue') return json(404, { status: 'not found' });
    if (r.method !== 'POST') return json(405, { status: 'method not allowed' });
    if (!String(r.headers['content-type'] ?? '').startsWith('application/json'))
      return json(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['not JSON'] });
    const errors = eventErrors(r.json);
    if (errors.length) return json(400, { status: 'invalid event', message: 'Event object is invalid', errors });
    const dedup = (r.json as { dedup_key?: string }).dedup_key ?? 'generated';
    return json(202, { status: 'success', message: 'Event processed', dedup_key: dedup });
  });
  return {
    ...mock,
    url: `${mock.base}/v2/enqueue`,
    /** The events PagerDuty accepted (202), in order. */
    accepted: () => mock.requests.filter((r) => r.status === 202).map((r) => r.json as Record<string, unknown>),
  };
}
