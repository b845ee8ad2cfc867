import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonLogger } from './json-logger.js';
import { maskedLogger, stderrLogger } from './logger.js';

/** A JSON logger writing into memory, and its lines parsed. */
async function capture(level: 'debug' | 'info' | 'warn' | 'error') {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => {
    text += b.toString();
  });
  const log = await jsonLogger({ level, destination: stream });
  const lines = async () => {
    await new Promise((r) => setImmediate(r));
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  return { log, lines };
}

describe('jsonLogger', () => {
  it('one JSON object a line: ISO time, the level by name, msg, then the fields', async () => {
    const { log, lines } = await capture('info');
    log.info('watcher: w1: OPEN → TRIGGERING', { pipeline: 'p', window: 'w1', runId: 'r1' });
    log.warn('plain');
    const [a, b] = await lines();
    expect(a).toMatchObject({ level: 'info', msg: 'watcher: w1: OPEN → TRIGGERING', pipeline: 'p', window: 'w1' });
    expect(a?.runId).toBe('r1');
    expect(new Date(a?.time as string).toISOString()).toBe(a?.time);
    expect(a?.pid).toBe(process.pid);
    expect(b).toMatchObject({ level: 'warn', msg: 'plain' });
  });

  it('drops lines below its level', async () => {
    const { log, lines } = await capture('warn');
    log.debug('d');
    log.info('i');
    log.error('e');
    expect((await lines()).map((l) => [l.level, l.msg])).toEqual([['error', 'e']]);
  });
});

describe('maskedLogger', () => {
  it('masks the message and every string in the fields, nested ones too, before the inner logger sees them', async () => {
    const { log, lines } = await capture('debug');
    const mask = (t: string) => t.split('s3cr3t-value').join('***');
    const masked = maskedLogger(log, mask);
    masked.error('webhook https://x/?k=s3cr3t-value failed', {
      url: 'k=s3cr3t-value',
      nested: { list: ['s3cr3t-value'] },
    });
    const [l] = await lines();
    expect(JSON.stringify(l)).not.toContain('s3cr3t-value');
    expect(l).toMatchObject({ msg: 'webhook https://x/?k=*** failed', url: 'k=***', nested: { list: ['***'] } });
  });

  it('works around the human logger the same way and skips lines below its level without masking them', () => {
    const out: string[] = [];
    let masked = 0;
    const log = maskedLogger(
      stderrLogger('debug', (l) => out.push(l)),
      (t) => {
        masked++;
        return t.replace('tok3n-abc', '***');
      },
      'warn',
    );
    log.info('not shown tok3n-abc');
    expect(masked).toBe(0);
    log.warn('bad token tok3n-abc');
    expect(out).toEqual(['interlock: warning: bad token ***\n']);
  });
});
