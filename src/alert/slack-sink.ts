// The Slack sink: an incoming-webhook message (fallback `text` plus Block Kit `blocks`) per alert.
import type { Alert } from '../core/types.js';
import { dashboardLink } from './link.js';
import { WebhookSink } from './webhook-sink.js';

export interface SlackSinkOptions {
  /** The incoming-webhook URL (a secret: its path is the credential). */
  url: string;
  timeoutSeconds: number;
  retries: number;
  /** server.publicUrl: when set, each message links to the pipeline there. */
  publicUrl?: string | undefined;
  fetchImpl?: typeof fetch | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

/** Slack's Block Kit limits: a section's text, a field's text, a header's plain text. */
export const SLACK_LIMITS = { sectionText: 3000, fieldText: 2000, headerText: 150, fields: 10 } as const;

const LEVEL_MARK: Record<Alert['level'], string> = {
  info: ':information_source:',
  warning: ':warning:',
  error: ':x:',
  critical: ':rotating_light:',
};

/** `&`, `<` and `>` escaped the way Slack's mrkdwn requires (otherwise `<…>` is read as a link or mention). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The why of an alert in one short block: details.why (a window alert's why line) with its blocking traits, else the
 * blocking traits of details.blocking, else the details as JSON.
 */
function whyText(alert: Alert): string | undefined {
  const d = alert.details;
  if (!d) return undefined;
  if (typeof d.why === 'string' && d.why.length > 0) {
    const late =
      d.late === true && typeof d.delayMs === 'number' ? `\n(fired ${Math.round(d.delayMs / 1000)} s late)` : '';
    return `${d.why}${late}`;
  }
  const blocking = Array.isArray(d.blocking) ? (d.blocking as Array<Record<string, unknown>>) : undefined;
  if (blocking?.length) {
    return blocking
      .map((b) => `• ${String(b.trait)}: ${String(b.reasonCode ?? '')}${b.reason ? ` (${String(b.reason)})` : ''}`)
      .join('\n');
  }
  try {
    return `\`\`\`${JSON.stringify(d, null, 1)}\`\`\``;
  } catch {
    return undefined;
  }
}

/**
 * The JSON body of one alert as an incoming-webhook message: `text` (the notification and fallback line) and
 * `blocks`: a header (level and kind), the message, fields (pipeline, window, run, trait, level), the why, and a
 * context line with the UCA and the dashboard link. Every text is escaped and cut to Slack's limits.
 */
export function slackMessage(alert: Alert, publicUrl?: string): Record<string, unknown> {
  const mark = LEVEL_MARK[alert.level];
  const text = cut(
    `${mark} ${alert.level.toUpperCase()} ${alert.kind} ${alert.pipeline}: ${alert.message}`,
    SLACK_LIMITS.sectionText,
  );
  const fields = [
    ['Pipeline', alert.pipeline],
    ['Kind', alert.kind],
    ['Level', alert.level],
    ...(alert.window !== undefined ? [['Window', alert.window]] : []),
    ...(alert.runId !== undefined ? [['Run', alert.runId]] : []),
    ...(alert.trait !== undefined ? [['Trait', alert.trait]] : []),
  ].map(([k, v]) => ({ type: 'mrkdwn', text: cut(`*${k}*\n${slackEscape(v as string)}`, SLACK_LIMITS.fieldText) }));
  const blocks: Array<Record<string, unknown>> = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${alert.kind} · ${alert.pipeline}`, SLACK_LIMITS.headerText) },
    },
    { type: 'section', text: { type: 'mrkdwn', text: cut(slackEscape(alert.message), SLACK_LIMITS.sectionText) } },
    { type: 'section', fields: fields.slice(0, SLACK_LIMITS.fields) },
  ];
  const why = whyText(alert);
  if (why) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: cut(`*Why*\n${slackEscape(why)}`, SLACK_LIMITS.sectionText) },
    });
  }
  const link = publicUrl ? dashboardLink(publicUrl, alert) : undefined;
  const context = [
    `${mark} ${alert.uca.category}: ${alert.uca.description}`,
    ...(link ? [`<${link}|Open in Interlock>`] : []),
    new Date(alert.timestamp).toISOString(),
  ];
  blocks.push({
    type: 'context',
    elements: context.map((t, i) => ({
      type: 'mrkdwn',
      // The link is Slack's own <url|label> syntax: escaping it would break it; the URL itself is percent-encoded.
      text: cut(link && i === 1 ? t : slackEscape(t), SLACK_LIMITS.sectionText),
    })),
  });
  return { text, blocks };
}

/**
 * Posts each alert to a Slack incoming webhook. Slack answers 200 `ok`; 400 `invalid_payload`, 403
 * (`action_prohibited`, `no_team`), 404 (`no_service`, `channel_not_found`) and 410 (`channel_is_archived`) fail at
 * once; 429 (waiting its Retry-After) and 5xx are retried. The name shows only `slack <origin>`: the path of the
 * webhook URL is its credential, and it is masked in every failure message.
 */
export class SlackSink extends WebhookSink {
  constructor(o: SlackSinkOptions) {
    super({
      url: o.url,
      timeoutSeconds: o.timeoutSeconds,
      retries: o.retries,
      fetchImpl: o.fetchImpl,
      sleep: o.sleep,
      name: `slack ${originOf(o.url)}`,
      bodies: (alert) => [JSON.stringify(slackMessage(alert, o.publicUrl))],
      accept: (status) => status === 200,
      secrets: [o.url, pathOf(o.url)],
    });
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname.length > 1 ? u.pathname : '';
  } catch {
    return '';
  }
}
