// alert: alert construction (kind → level and STAMP UCA), the JSON payload, console/webhook/file/Slack/PagerDuty
// sinks with per-sink filters, dispatch.

export {
  type AlertFields,
  type AlertPayload,
  alertJson,
  alertPayload,
  MAX_ALERT_JSON_BYTES,
  makeAlert,
} from './alert.js';
export { ConsoleSink, consoleLine } from './console-sink.js';
export {
  AlertDispatcher,
  DEFAULT_ALERT_BUDGET_MS,
  type DispatcherOptions,
  type StartTimer,
  undeliveredMessage,
} from './dispatcher.js';
export { FileSink } from './file-sink.js';
export { dashboardLink } from './link.js';
export {
  dedupKey,
  PAGERDUTY_LIMITS,
  PagerDutySink,
  type PagerDutySinkOptions,
  pagerDutyEvents,
  RESOLVES,
} from './pagerduty-sink.js';
export {
  type AlertSink,
  type AlertSinkConfig,
  type CreateSinksOptions,
  createSinks,
  FilteredSink,
  PAGERDUTY_URL,
  passesFilter,
  resolveSecret,
  type SinkFilter,
  WEBHOOK_DEFAULTS,
} from './sink.js';
export { SLACK_LIMITS, SlackSink, type SlackSinkOptions, slackEscape, slackMessage } from './slack-sink.js';
export { defaultLevel, ucaFor } from './uca.js';
export {
  MAX_RETRY_AFTER_MS,
  retryAfterMs,
  WebhookSink,
  type WebhookSinkOptions,
  webhookBackoffMs,
} from './webhook-sink.js';
