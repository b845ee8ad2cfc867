import { describe, expect, it } from 'vitest';
import { logLevelFrom, stderrLogger, warnLogger } from './logger.js';

describe('stderrLogger', () => {
  it('prints warnings exactly as before and nothing for debug/info at the default level', () => {
    const lines: string[] = [];
    const log = stderrLogger('warn', (l) => lines.push(l));
    log.debug('d');
    log.info('i');
    log.warn('alert sink webhook failed: boom');
    log.error('e', { runId: 'r1' });
    expect(lines).toEqual([
      'interlock: warning: alert sink webhook failed: boom\n',
      'interlock: error: e {"runId":"r1"}\n',
    ]);
  });

  it('prints debug lines at debug level', () => {
    const lines: string[] = [];
    const log = stderrLogger('debug', (l) => lines.push(l));
    log.debug('evaluating', { pipeline: 'p' });
    expect(lines).toEqual(['interlock: debug: evaluating {"pipeline":"p"}\n']);
  });

  it('reads INTERLOCK_LOG values, defaulting to warn', () => {
    expect(logLevelFrom('debug')).toBe('debug');
    expect(logLevelFrom(undefined)).toBe('warn');
    expect(logLevelFrom('verbose')).toBe('warn');
  });
});

describe('warnLogger', () => {
  it('passes warnings and errors to the callback, drops the rest', () => {
    const got: string[] = [];
    const log = warnLogger((m) => got.push(m));
    log.debug('x');
    log.info('y');
    log.warn('w');
    log.error('e');
    expect(got).toEqual(['w', 'e']);
  });
});
