// alert: alert construction (kind → level and STAMP UCA), the JSON payload, console/webhook/file sinks, dispatch.

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
export {
  type AlertSink,
  type AlertSinkConfig,
  type CreateSinksOptions,
  createSinks,
  WEBHOOK_DEFAULTS,
} from './sink.js';
export { defaultLevel, ucaFor } from './uca.js';
export { WebhookSink, type WebhookSinkOptions, webhookBackoffMs } from './webhook-sink.js';
