// The console sink: one human line per alert on stderr.
import type { Alert } from '../core/types.js';
import type { AlertSink } from './sink-port.js';

/** `[interlock] WARNING PIPELINE_BLOCKED daily-sales: <message> (run 01J…, trait source-freshness)`, one line. */
export function consoleLine(alert: Alert): string {
  const about = [alert.runId && `run ${alert.runId}`, alert.trait && `trait ${alert.trait}`].filter(Boolean);
  const tail = about.length ? ` (${about.join(', ')})` : '';
  // A multi-line message (an evaluator's stderr, say) would break "one alert, one line" for log scrapers.
  const message = alert.message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return `[interlock] ${alert.level.toUpperCase()} ${alert.kind} ${alert.pipeline}: ${message}${tail}`;
}

export class ConsoleSink implements AlertSink {
  readonly name = 'console';
  readonly #write: (line: string) => void;

  constructor(write?: (line: string) => void) {
    this.#write = write ?? ((line) => process.stderr.write(`${line}\n`));
  }

  async send(alert: Alert): Promise<void> {
    this.#write(consoleLine(alert));
  }
}
