// The file sink: JSON Lines, one O_APPEND write per alert so concurrent processes never interleave lines.
import fs from 'node:fs/promises';
import { InterlockError } from '../core/errors.js';
import type { Alert } from '../core/types.js';
import { alertJson } from './alert.js';
import type { AlertSink } from './sink-port.js';

/**
 * Appends one line of alertPayload JSON per alert. Every line goes out in a single write(2) on a file opened with
 * O_APPEND: the kernel positions each write at the end atomically, so lines from several interlock processes (or
 * several sinks on the same file) stay whole. Within one sink, sends are queued so lines keep their send order.
 */
export class FileSink implements AlertSink {
  readonly name: string;
  readonly path: string;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
    this.name = `file ${path}`;
  }

  send(alert: Alert): Promise<void> {
    const line = Buffer.from(`${alertJson(alert)}\n`);
    const done = this.#tail.then(() => appendLine(this.path, line));
    this.#tail = done.catch(() => {});
    return done;
  }
}

async function appendLine(file: string, line: Buffer): Promise<void> {
  const fh = await fs.open(file, 'a');
  try {
    const { bytesWritten } = await fh.write(line, 0, line.length, null);
    // Writing the rest in a second call could interleave with another process: report the torn line instead.
    if (bytesWritten !== line.length) {
      const message = `short write to ${file}: ${bytesWritten} of ${line.length} bytes`;
      throw new InterlockError('IO_ERROR', message, { file, bytesWritten, bytes: line.length });
    }
  } finally {
    await fh.close();
  }
}
