import { describe, expect, it, vi } from 'vitest';
import { ReleaseStack } from '@renkei/runtime';

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
