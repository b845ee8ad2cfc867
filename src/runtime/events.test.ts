// The event bus: subscribers run in order, get typed payloads, and one that fails never breaks the publisher.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { recordingLogger } from '../../test/support/recording-logger.js';
import type { RunState } from '../core/types.js';
import { type DomainEvents, EventBus } from './events.js';

const run = { runId: 'r1', pipeline: 'p', status: 'PENDING', version: 1 } as RunState;

describe('EventBus', () => {
  it('runs the subscribers of an event in the order they subscribed, each awaited before the next', async () => {
    const bus = new EventBus(recordingLogger());
    const seen: string[] = [];
    bus.subscribe('run.created', async (e) => {
      await new Promise((r) => setImmediate(r));
      seen.push(`first ${e.run.runId}`);
    });
    bus.subscribe('run.created', (e) => {
      seen.push(`second ${e.run.runId}`);
    });
    bus.subscribe('alert.raised', () => {
      seen.push('other event');
    });
    await bus.publish('run.created', { run });
    expect(seen).toEqual(['first r1', 'second r1']);
  });

  it('gives each subscriber the payload type of its event', () => {
    const bus = new EventBus(recordingLogger());
    bus.subscribe('run.transitioned', (e) => {
      expectTypeOf(e).toEqualTypeOf<DomainEvents['run.transitioned']>();
      expectTypeOf(e.from).toEqualTypeOf<RunState['status']>();
    });
    bus.subscribe('evaluation.decided', (e) => {
      expectTypeOf(e.aborted).toEqualTypeOf<boolean>();
    });
    // @ts-expect-error: an unknown event name does not type-check
    bus.subscribe('run.exploded', () => {});
    // @ts-expect-error: a payload of another event does not type-check
    void bus.publish('run.created', { alert: {} });
  });

  it('logs a subscriber that throws or rejects, and still runs the others and returns normally', async () => {
    const log = recordingLogger();
    const bus = new EventBus(log);
    const seen: string[] = [];
    bus.subscribe('run.created', () => {
      throw new Error('boom');
    });
    bus.subscribe('run.created', async () => {
      throw new Error('async boom');
    });
    bus.subscribe('run.created', () => {
      seen.push('third');
    });
    await expect(bus.publish('run.created', { run })).resolves.toBeUndefined();
    expect(seen).toEqual(['third']);
    expect(log.messages('error')).toEqual([
      'a subscriber of run.created failed: boom',
      'a subscriber of run.created failed: async boom',
    ]);
    expect(log.entries[0]?.fields).toEqual({ event: 'run.created' });
  });

  it('unsubscribes; an unsubscribe during a publish takes effect from the next one', async () => {
    const bus = new EventBus(recordingLogger());
    const seen: string[] = [];
    const off = bus.subscribe('run.created', () => {
      seen.push('a');
      off();
    });
    bus.subscribe('run.created', () => {
      seen.push('b');
    });
    await bus.publish('run.created', { run });
    await bus.publish('run.created', { run });
    expect(seen).toEqual(['a', 'b', 'b']);
  });
});
