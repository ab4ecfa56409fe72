import diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createLogger,
  LIFECYCLE_CHANNEL,
  publishLifecycleStep,
  ReleaseStack,
  RenkeiError,
  runUntilSignalled,
  serviceHandle,
  ServiceOutcome,
  missingDependencies,
  watchDependency,
  type LifecycleStep,
} from '@renkei/runtime';

describe('ReleaseStack', () => {
  it('releases in the reverse of the order resources were registered', async () => {
    const stack = new ReleaseStack();
    const order: string[] = [];
    stack.defer(() => {
      order.push('a');
    });
    stack.defer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push('b');
    });
    stack.defer(() => {
      order.push('c');
    });
    await stack.close();
    expect(order).toEqual(['c', 'b', 'a']);
  });

  it('waits for each asynchronous release before starting the next', async () => {
    const stack = new ReleaseStack();
    const events: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      stack.defer(async () => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
        events.push(`end ${name}`);
      });
    }
    await stack.close();
    expect(events).toEqual([
      'start third',
      'end third',
      'start second',
      'end second',
      'start first',
      'end first',
    ]);
  });

  it('closes an empty stack', async () => {
    await expect(new ReleaseStack().close()).resolves.toBeUndefined();
  });

  it('runs every release even when some fail, and rethrows the first failure', async () => {
    const stack = new ReleaseStack();
    const ran: string[] = [];
    const firstFailure = new Error('first to fail (registered last)');
    stack.defer(() => {
      ran.push('a');
    });
    stack.defer(() => {
      ran.push('b');
      throw new Error('second to fail');
    });
    stack.defer(() => {
      ran.push('c');
    });
    stack.defer(async () => {
      ran.push('d');
      throw firstFailure;
    });
    await expect(stack.close()).rejects.toBe(firstFailure);
    expect(ran).toEqual(['d', 'c', 'b', 'a']);
  });

  it('rethrows a falsy non-undefined failure too', async () => {
    const stack = new ReleaseStack();
    stack.defer(() => {
      throw null;
    });
    stack.defer(() => {
      throw 0;
    });
    await expect(stack.close()).rejects.toBe(0);
  });

  it('returns the same promise when closed twice and releases once', async () => {
    const stack = new ReleaseStack();
    const release = vi.fn();
    stack.defer(release);
    const first = stack.close();
    const second = stack.close();
    expect(second).toBe(first);
    await first;
    await stack.close();
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('returns the same rejected promise when a failed stack is closed again', async () => {
    const stack = new ReleaseStack();
    const failure = new Error('boom');
    const release = vi.fn(() => {
      throw failure;
    });
    stack.defer(release);
    const first = stack.close();
    await expect(first).rejects.toBe(failure);
    expect(stack.close()).toBe(first);
    await expect(stack.close()).rejects.toBe(failure);
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('refuses new releases once closing has begun', async () => {
    const stack = new ReleaseStack();
    const closing = stack.close();
    expect(() => stack.defer(() => undefined)).toThrow(/closing/);
    await closing;
    expect(() => stack.defer(() => undefined)).toThrow(/closing/);
  });

  describe('use', () => {
    it('acquires a resource, returns it, and releases it on close', async () => {
      const stack = new ReleaseStack();
      const resource = { name: 'pool', closed: false };
      const release = vi.fn((r: typeof resource) => {
        r.closed = true;
      });
      const acquired = await stack.use(async () => resource, release);
      expect(acquired).toBe(resource);
      expect(release).not.toHaveBeenCalled();
      await stack.close();
      expect(release).toHaveBeenCalledExactlyOnceWith(resource);
      expect(resource.closed).toBe(true);
    });

    it('accepts a synchronous acquire', async () => {
      const stack = new ReleaseStack();
      const release = vi.fn();
      expect(await stack.use(() => 42, release)).toBe(42);
      await stack.close();
      expect(release).toHaveBeenCalledWith(42);
    });

    it('interleaves with defer in LIFO order', async () => {
      const stack = new ReleaseStack();
      const order: string[] = [];
      await stack.use(
        () => 'db',
        (r) => {
          order.push(r);
        },
      );
      stack.defer(() => {
        order.push('server');
      });
      await stack.use(
        async () => 'consumer',
        async (r) => {
          order.push(r);
        },
      );
      await stack.close();
      expect(order).toEqual(['consumer', 'server', 'db']);
    });

    it('registers nothing when acquiring fails', async () => {
      const stack = new ReleaseStack();
      const release = vi.fn();
      const failure = new Error('cannot connect');
      await expect(
        stack.use(() => {
          throw failure;
        }, release),
      ).rejects.toBe(failure);
      await stack.close();
      expect(release).not.toHaveBeenCalled();
    });
  });

  it('waits for every release when a release itself calls close()', async () => {
    const stack = new ReleaseStack();
    const order: string[] = [];
    stack.defer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('slow');
      throw new Error('slow failed');
    });
    stack.defer(() => {
      void stack.close();
      order.push('reentrant');
    });
    await expect(stack.close()).rejects.toThrow('slow failed');
    expect(order).toEqual(['reentrant', 'slow']);
  });
});

describe('ServiceOutcome and serviceHandle', () => {
  it('resolves done after close, once, whatever fails later', async () => {
    const released: string[] = [];
    const resources = new ReleaseStack('test');
    resources.defer(() => void released.push('db'), 'postgres');
    const outcome = new ServiceOutcome();
    const handle = serviceHandle(resources, outcome, { url: 'http://x' });
    expect(handle.url).toBe('http://x');
    await Promise.all([handle.close(), handle.close()]);
    await expect(handle.done).resolves.toBeUndefined();
    outcome.fail(new Error('too late'));
    await expect(handle.done).resolves.toBeUndefined();
    expect(released).toEqual(['db']);
  });

  it('rejects done with the first failure, even before anyone awaits it', async () => {
    const outcome = new ServiceOutcome();
    const handle = serviceHandle(new ReleaseStack(), outcome);
    const first = new RenkeiError('RENKEI_BROKER_LOST');
    outcome.fail(first);
    outcome.fail(new RenkeiError('RENKEI_DATABASE_LOST'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(handle.done).rejects.toBe(first);
    expect(outcome.settled).toBe(true);
  });
});

describe('publishLifecycleStep', () => {
  it('announces named releases on the lifecycle channel, in release order', async () => {
    const steps: LifecycleStep[] = [];
    const listener = (message: unknown) => steps.push(message as LifecycleStep);
    diagnostics.subscribe(LIFECYCLE_CHANNEL, listener);
    try {
      const resources = new ReleaseStack('svc');
      resources.defer(() => undefined, 'postgres');
      resources.defer(() => undefined);
      resources.defer(() => undefined, 'kafka');
      publishLifecycleStep('svc', 'draining');
      await resources.close();
    } finally {
      diagnostics.unsubscribe(LIFECYCLE_CHANNEL, listener);
    }
    expect(steps).toEqual([
      { service: 'svc', step: 'draining' },
      { service: 'svc', step: 'kafka' },
      { service: 'svc', step: 'postgres' },
    ]);
  });
});

describe('runUntilSignalled', () => {
  const silent = createLogger('test', 'silent');

  function fakeService() {
    const outcome = new ServiceOutcome();
    const closed = vi.fn(async () => undefined);
    const resources = new ReleaseStack('svc');
    resources.defer(closed);
    return { outcome, closed, handle: serviceHandle(resources, outcome) };
  }

  afterEach(() => {
    process.exitCode = undefined;
  });

  it('closes the service and exits 1 when it fails on its own', async () => {
    const { outcome, closed, handle } = fakeService();
    const exit = vi.fn();
    await runUntilSignalled(silent, async () => handle, { exit, signals: new EventEmitter() as never });
    outcome.fail(new RenkeiError('RENKEI_CONSUMER_CRASHED'));
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    expect(closed).toHaveBeenCalledTimes(1);
  });

  it('drains on the first signal and exits 0; a second signal exits at once', async () => {
    const { closed, handle } = fakeService();
    const signals = new EventEmitter();
    const exit = vi.fn();
    await runUntilSignalled(silent, async () => handle, { exit, signals: signals as never });
    signals.emit('SIGTERM', 'SIGTERM');
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
    expect(closed).toHaveBeenCalledTimes(1);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exit).toHaveBeenLastCalledWith(1);
  });

  it('exits 1 when start-up fails, without waiting for signals', async () => {
    const exit = vi.fn();
    const signals = new EventEmitter();
    await runUntilSignalled(
      silent,
      async () => {
        throw new RenkeiError('RENKEI_MIGRATION_FAILED');
      },
      { exit, signals: signals as never },
    );
    expect(exit).toHaveBeenCalledWith(1);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});

describe('watchDependency', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reports a dependency lost once it has failed for longer than the loss timeout', async () => {
    let up = true;
    const onLost = vi.fn();
    const watch = watchDependency({
      name: 'db',
      check: async () => {
        if (!up) throw new Error('ECONNREFUSED');
      },
      intervalMs: 100,
      lossTimeoutMs: 1_000,
      onLost,
      logger: createLogger('test', 'silent'),
    });
    await vi.advanceTimersByTimeAsync(250);
    expect(watch.isHealthy()).toBe(true);
    up = false;
    await vi.advanceTimersByTimeAsync(150);
    expect(watch.isHealthy()).toBe(false);
    await vi.advanceTimersByTimeAsync(600);
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(600);
    expect(onLost).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(onLost).toHaveBeenCalledTimes(1);
    await watch.close();
  });

  it('forgives an outage shorter than the loss timeout, and counts a slow check as a failure', async () => {
    let mode: 'up' | 'down' | 'slow' = 'up';
    const onLost = vi.fn();
    const watch = watchDependency({
      name: 'kafka',
      check: () =>
        mode === 'up'
          ? Promise.resolve()
          : mode === 'down'
            ? Promise.reject(new Error('down'))
            : new Promise(() => undefined),
      intervalMs: 100,
      checkTimeoutMs: 200,
      lossTimeoutMs: 1_000,
      onLost,
      logger: createLogger('test', 'silent'),
    });
    mode = 'down';
    await vi.advanceTimersByTimeAsync(700);
    mode = 'up';
    await vi.advanceTimersByTimeAsync(300);
    expect(watch.isHealthy()).toBe(true);
    mode = 'slow';
    await vi.advanceTimersByTimeAsync(400);
    expect(watch.isHealthy()).toBe(false);
    await vi.advanceTimersByTimeAsync(600);
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(onLost).toHaveBeenCalledTimes(1);
    await watch.close();
  });
  it('without a loss timeout never reports the dependency lost, and is healthy again when it answers', async () => {
    let up = false;
    const onLost = vi.fn();
    const watch = watchDependency({
      name: 'postgres',
      check: async () => {
        if (!up) throw new Error('ECONNREFUSED');
      },
      intervalMs: 100,
      onLost,
      logger: createLogger('test', 'silent'),
    });
    await vi.advanceTimersByTimeAsync(150);
    expect(missingDependencies([watch])).toEqual({ missing: ['postgres'] });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(onLost).not.toHaveBeenCalled();
    up = true;
    await vi.advanceTimersByTimeAsync(150);
    expect(watch.isHealthy()).toBe(true);
    expect(missingDependencies([watch])).toEqual({ missing: [] });
    await watch.close();
  });
});

describe('missingDependencies', () => {
  it('names every failing check, in the order given', () => {
    const check = (name: string, healthy: boolean) => ({ name, isHealthy: () => healthy });
    expect(
      missingDependencies([check('postgres', false), check('kafka', true), check('kafka-consumer', false)]),
    ).toEqual({ missing: ['postgres', 'kafka-consumer'] });
    expect(missingDependencies([check('postgres', true)])).toEqual({ missing: [] });
  });
});
