import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepConsuming, type Consumer } from '@renkei/bus';
import { createLogger } from '@renkei/runtime';

/** The part of a kafkajs consumer `keepConsuming` uses, recording what it is asked to do. */
function fakeConsumer() {
  const emitter = new EventEmitter();
  const calls: string[] = [];
  let connectFails = 0;
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' },
    on: (event: string, listener: (...args: unknown[]) => void) => emitter.on(event, listener),
    connect: async () => {
      calls.push('connect');
      if (connectFails > 0) {
        connectFails -= 1;
        throw new Error('ECONNREFUSED');
      }
    },
    subscribe: async () => void calls.push('subscribe'),
    run: async () => void calls.push('run'),
    disconnect: async () => void calls.push('disconnect'),
  };
  return {
    consumer: consumer as unknown as Consumer,
    calls,
    failNextConnects: (times: number) => (connectFails = times),
    join: () => emitter.emit('consumer.group_join', { payload: {} }),
    crash: (restart: boolean) =>
      emitter.emit('consumer.crash', { payload: { error: new Error('coordinator not found'), restart } }),
  };
}

const logger = createLogger('test', 'silent');
const options = { subscription: { topics: ['t'] }, run: {}, logger };

describe('keepConsuming', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('subscribes and runs, and is healthy while in its group', async () => {
    const fake = fakeConsumer();
    const kept = await keepConsuming(fake.consumer, options);
    expect(fake.calls).toEqual(['subscribe', 'run']);
    expect(kept.name).toBe('kafka-consumer');
    expect(kept.isHealthy()).toBe(false);
    fake.join();
    expect(kept.isHealthy()).toBe(true);
    fake.crash(true);
    expect(kept.isHealthy()).toBe(false);
    await kept.close();
  });

  it('leaves a crash kafkajs restarts from to kafkajs', async () => {
    const fake = fakeConsumer();
    const kept = await keepConsuming(fake.consumer, options);
    fake.crash(true);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fake.calls).toEqual(['subscribe', 'run']);
    await kept.close();
  });

  it('restarts a consumer kafkajs gave up on, with backoff, until it connects', async () => {
    const fake = fakeConsumer();
    const kept = await keepConsuming(fake.consumer, options);
    fake.failNextConnects(2);
    fake.crash(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.calls).toEqual(['subscribe', 'run']);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls.slice(2)).toEqual(['connect']);
    // The second attempt waits longer than the first.
    await vi.advanceTimersByTimeAsync(1_999);
    expect(fake.calls.slice(2)).toEqual(['connect']);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls.slice(2)).toEqual(['connect', 'connect']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fake.calls.slice(2)).toEqual(['connect', 'connect', 'connect', 'subscribe', 'run']);
    fake.join();
    expect(kept.isHealthy()).toBe(true);
    await kept.close();
  });

  it('hands a final crash to onFinalCrash instead when the service opted to exit', async () => {
    const fake = fakeConsumer();
    const onFinalCrash = vi.fn();
    const kept = await keepConsuming(fake.consumer, { ...options, onFinalCrash });
    fake.crash(false);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(onFinalCrash).toHaveBeenCalledTimes(1);
    expect(fake.calls).toEqual(['subscribe', 'run']);
    await kept.close();
  });

  it('stops restarting once closed', async () => {
    const fake = fakeConsumer();
    const kept = await keepConsuming(fake.consumer, options);
    fake.crash(false);
    await kept.close();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fake.calls).toEqual(['subscribe', 'run']);
  });
});
