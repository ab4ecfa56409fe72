import { describe, expect, it } from 'vitest';
import { STREAM_CLOSE_CODES } from '@renkei/schema';
import {
  backoffDelay,
  createStreamClientWith,
  crowdedDelay,
  type Connect,
  type StreamStatus,
  type TransportHandlers,
} from '../src/node.js';

/** A gateway that closes every connection with the code the test gives, and records each attempt. */
function refusingGateway() {
  const attempts: TransportHandlers[] = [];
  const waiters: (() => void)[] = [];
  const connect: Connect = (_url, _token, handlers) => {
    attempts.push(handlers);
    for (const wake of waiters.splice(0)) wake();
    return { send: () => undefined, close: (code, reason) => handlers.onClose({ code, reason }) };
  };
  const attempt = async (n: number) => {
    while (attempts.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return attempts[n - 1]!;
  };
  return { connect, attempt };
}

describe('a stream client refused for too many sockets (4429)', () => {
  it('waits between half the longest wait and the longest, with jitter', () => {
    const options = { initialMs: 500, maxMs: 30_000 };
    expect(crowdedDelay(options, () => 0)).toBe(15_000);
    expect(crowdedDelay(options, () => 0.999999)).toBe(29_999);
    const spread = new Set(Array.from({ length: 50 }, () => crowdedDelay(options)));
    expect(spread.size).toBeGreaterThan(10);
    for (const delay of spread) expect(delay).toBeGreaterThanOrEqual(15_000);
    // An ordinary first retry would come within half a second.
    expect(backoffDelay(0, options, () => 0.999999)).toBeLessThan(500);
  });

  it('keeps trying, each time after a long wait, never at once, and an ordinary close backs off as before', async () => {
    const gateway = refusingGateway();
    const statuses: StreamStatus[] = [];
    const client = createStreamClientWith(gateway.connect, {
      url: 'http://gateway.example:7401',
      token: 'token-1',
      backoff: { initialMs: 10, maxMs: 40 },
      random: () => 0.5,
      onStatus: (status) => statuses.push(status),
    });
    const tooMany = STREAM_CLOSE_CODES.tooManySockets;
    (await gateway.attempt(1)).onClose({ code: tooMany, reason: 'your organisation has 50 streams open' });
    (await gateway.attempt(2)).onClose({ code: tooMany, reason: 'your organisation has 50 streams open' });
    (await gateway.attempt(3)).onClose({ code: 1006, reason: '' });
    await gateway.attempt(4);
    const closes = statuses.flatMap((status) =>
      status.state === 'closed' ? [[status.code, status.retryInMs]] : [],
    );
    // 4429: 40 / 2 + 0.5 × 40 / 2 = 30 ms each time; the lost connection after two failed attempts: 0.5 × 40.
    expect(closes).toEqual([
      [4429, 30],
      [4429, 30],
      [1006, 20],
    ]);
    await client.close();
  });
});
