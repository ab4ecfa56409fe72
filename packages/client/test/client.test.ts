import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '@renkei/schema';
import {
  backoffDelay,
  createStreamClientWith,
  StreamClientError,
  type Connect,
  type StreamClientOptions,
  type StreamEvent,
  type StreamStatus,
  type TransportHandlers,
} from '../src/node.js';

/** One connection the client opened, driven by the test as a gateway would. */
interface FakeConnection {
  url: URL;
  token: string;
  handlers: TransportHandlers;
  sent: unknown[];
  closedWith: { code: number; reason: string } | undefined;
  open(): void;
  frame(frame: ServerFrame | Record<string, unknown>): void;
  end(code: number, reason?: string, httpStatus?: number): void;
}

function fakeGateway() {
  const connections: FakeConnection[] = [];
  const waiters: (() => void)[] = [];
  const connect: Connect = (url, token, handlers) => {
    const connection: FakeConnection = {
      url,
      token,
      handlers,
      sent: [],
      closedWith: undefined,
      open: () => handlers.onOpen(),
      frame: (frame) => handlers.onText(JSON.stringify(frame)),
      end: (code, reason = '', httpStatus) =>
        handlers.onClose({ code, reason, ...(httpStatus === undefined ? {} : { httpStatus }) }),
    };
    connections.push(connection);
    for (const wake of waiters.splice(0)) wake();
    return {
      send: (text) => connection.sent.push(JSON.parse(text)),
      close: (code, reason) => {
        connection.closedWith = { code, reason };
        handlers.onClose({ code, reason });
      },
    };
  };
  /** Waits for the client's n-th connection (1-based). */
  const connection = async (n: number): Promise<FakeConnection> => {
    while (connections.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return connections[n - 1]!;
  };
  return { connect, connections, connection };
}

const welcome = {
  type: 'welcome',
  protocol: 1,
  principal: { subject: 'aiko', organisationId: 'gsoc', sector: 'central-government', roles: ['analyst'] },
} as const;

/** A cursor as a gateway gives it out: opaque, 22 base64url characters. */
const C = (n: number) => `cursor${String(n).padStart(16, '0')}`;

const update = (cursor: number) =>
  ({
    type: 'alert-update',
    cursor: C(cursor),
    update: {
      alertId: '6f1c1f4e-8f5a-4a8e-9a51-5b1f0f6a9d10',
      status: 'acknowledged',
      assignee: null,
      note: null,
      by: 'aiko',
      at: '2026-11-28T00:00:00.000Z',
    },
  }) as const;

function start(overrides: Partial<StreamClientOptions> = {}) {
  const gateway = fakeGateway();
  const statuses: StreamStatus[] = [];
  const client = createStreamClientWith(gateway.connect, {
    url: 'http://gateway.example:7401',
    token: 'token-1',
    backoff: { initialMs: 10, maxMs: 40 },
    random: () => 0.5,
    onStatus: (status) => statuses.push(status),
    ...overrides,
  });
  const iterator = client[Symbol.asyncIterator]();
  const take = async (n: number): Promise<StreamEvent[]> => {
    const events: StreamEvent[] = [];
    for (let i = 0; i < n; i += 1) {
      const result = await iterator.next();
      if (result.done) break;
      events.push(result.value);
    }
    return events;
  };
  return { gateway, client, iterator, take, statuses };
}

const cursorsOf = (events: StreamEvent[]) =>
  events.map((event) => (event.type === 'gap' ? `gap:${event.resumeFrom}` : event.cursor));

describe('backoffDelay', () => {
  it('doubles the ceiling with each attempt up to the maximum, with full jitter', () => {
    const options = { initialMs: 500, maxMs: 30_000 };
    expect([0, 1, 2, 3, 6, 7, 50].map((attempt) => backoffDelay(attempt, options, () => 0.999999))).toEqual([
      499, 999, 1999, 3999, 29999, 29999, 29999,
    ]);
    expect(backoffDelay(5, options, () => 0)).toBe(0);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, options)));
    expect(spread.size).toBeGreaterThan(10);
    for (const delay of spread) expect(delay).toBeLessThan(4_000);
  });
});

describe('the stream client', () => {
  it('yields events in order, and remembers the cursor of the last one yielded', async () => {
    const { gateway, client, take } = start();
    const connection = await gateway.connection(1);
    expect(connection.url.toString()).toBe('ws://gateway.example:7401/v1/stream');
    expect(connection.token).toBe('token-1');
    connection.open();
    connection.frame(welcome);
    connection.frame(update(7));
    connection.frame(update(8));
    expect(cursorsOf(await take(1))).toEqual([C(7)]);
    expect(client.cursor).toBe(C(7));
    expect(cursorsOf(await take(1))).toEqual([C(8)]);
    expect(client.cursor).toBe(C(8));
    await client.close();
  });

  it('reconnects after a close with the last cursor and the filter in the URL, after a jittered wait', async () => {
    const { gateway, client, take, statuses } = start({ after: C(3), filter: { minSeverity: 'high' } });
    const first = await gateway.connection(1);
    expect(first.url.searchParams.get('after')).toBe(C(3));
    expect(first.url.searchParams.get('minSeverity')).toBe('high');
    first.open();
    first.frame(welcome);
    first.frame({ type: 'subscribed', filter: { minSeverity: 'high' } });
    first.frame(update(4));
    first.end(1001, 'gateway restarting: reconnect');

    const second = await gateway.connection(2);
    expect(second.url.searchParams.get('after')).toBe(C(4));
    // A repeat of what it has is dropped, whatever the gateway does.
    second.open();
    second.frame(welcome);
    second.frame(update(4));
    second.frame(update(5));
    expect(cursorsOf(await take(2))).toEqual([C(4), C(5)]);
    expect(statuses.filter((status) => status.state === 'closed')).toEqual([
      { state: 'closed', code: 1001, reason: 'gateway restarting: reconnect', retryInMs: 5 },
    ]);
    await client.close();
  });

  it('hears heartbeats without yielding them, and reconnects from its cursor when the connection goes silent', async () => {
    const heard: number[] = [];
    const { gateway, client, take } = start({ silenceTimeoutMs: 60, onActivity: (at) => heard.push(at) });
    const first = await gateway.connection(1);
    first.open();
    first.frame({ ...welcome, heartbeatMs: 30 });
    first.frame({ type: 'heartbeat', at: '2026-11-28T00:00:00.000Z' });
    first.frame(update(7));
    expect(cursorsOf(await take(1))).toEqual([C(7)]);
    expect(heard).toHaveLength(3);
    // Nothing more arrives, not even a heartbeat: the client gives up on this connection itself.
    const second = await gateway.connection(2);
    expect(first.closedWith?.code).toBe(4001);
    expect(second.url.searchParams.get('after')).toBe(C(7));
    await client.close();
  });

  it('treats cursors as opaque: only a repeat is dropped, never one that merely looks older', async () => {
    const { gateway, client, take } = start();
    const connection = await gateway.connection(1);
    connection.open();
    connection.frame(welcome);
    const [high, low] = ['z'.repeat(22), 'A'.repeat(22)];
    connection.frame({ ...update(1), cursor: high });
    connection.frame({ ...update(1), cursor: low });
    connection.frame({ ...update(1), cursor: high });
    connection.frame(update(2));
    expect(cursorsOf(await take(3))).toEqual([high, low, C(2)]);
    expect(client.cursor).toBe(C(2));
    await client.close();
  });

  it('backs off longer after each failed attempt, and starts over after a working connection', async () => {
    const { gateway, client, statuses } = start();
    for (let n = 1; n <= 3; n += 1) (await gateway.connection(n)).end(1006);
    const fourth = await gateway.connection(4);
    fourth.open();
    fourth.frame(welcome);
    fourth.end(1013, 'too slow');
    await gateway.connection(5);
    expect(statuses.flatMap((status) => (status.state === 'closed' ? [status.retryInMs] : []))).toEqual([
      5, 10, 20, 5,
    ]);
    await client.close();
  });

  it('surfaces a gap and resumes from where the gateway says', async () => {
    const { gateway, client, take } = start({ after: C(2) });
    const first = await gateway.connection(1);
    first.open();
    first.frame(welcome);
    first.frame({ type: 'gap', after: C(2), resumeFrom: C(40) });
    first.frame(update(41));
    const events = await take(2);
    expect(events[0]).toEqual({ type: 'gap', after: C(2), resumeFrom: C(40) });
    expect(cursorsOf(events)).toEqual([`gap:${C(40)}`, C(41)]);
    first.end(1006);
    expect((await gateway.connection(2)).url.searchParams.get('after')).toBe(C(41));
    await client.close();
  });

  it('subscribes on the open connection and keeps the filter for the next', async () => {
    const { gateway, client } = start();
    const first = await gateway.connection(1);
    first.open();
    first.frame(welcome);
    const applied = client.subscribe({ kinds: ['campaign'], exercise: false });
    expect(first.sent).toEqual([{ type: 'subscribe', filter: { kinds: ['campaign'], exercise: false } }]);
    first.frame({ type: 'subscribed', filter: { kinds: ['campaign'], exercise: false } });
    await expect(applied).resolves.toEqual({ kinds: ['campaign'], exercise: false });

    const refused = client.subscribe({ kinds: ['campaign'] });
    first.frame({ type: 'error', code: 'RENKEI_INVALID_REQUEST', message: 'filter.kinds: nope' });
    await expect(refused).rejects.toThrow('filter.kinds: nope');

    first.end(1006);
    const second = await gateway.connection(2);
    expect(second.url.searchParams.get('kinds')).toBe('campaign');
    expect(() => client.subscribe({ minSeverity: 'huge' as 'high' })).toThrow();
    await client.close();
  });

  it('asks for a fresh token when access ends, and stops when it has only the one it was given', async () => {
    let issued = 0;
    const refreshing = start({ token: () => `token-${++issued}` });
    const first = await refreshing.gateway.connection(1);
    first.open();
    first.frame(welcome);
    first.end(4401, 'access ended');
    expect((await refreshing.gateway.connection(2)).token).toBe('token-2');
    await refreshing.client.close();

    const fixed = start();
    (await fixed.gateway.connection(1)).end(4401, 'access ended');
    const error = await fixed.iterator.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StreamClientError);
    expect(error).toMatchObject({ code: 'unauthenticated', details: { closeCode: 4401 } });
  });

  it('stops for good when retrying would only repeat the refusal', async () => {
    const cases: [number, number | undefined, string][] = [
      [1006, 403, 'refused'],
      [1006, 400, 'refused'],
      [1006, 401, 'unauthenticated'],
      [1003, undefined, 'protocol'],
      [1008, undefined, 'protocol'],
      [1009, undefined, 'protocol'],
    ];
    for (const [code, httpStatus, expected] of cases) {
      const { gateway, iterator, client } = start();
      (await gateway.connection(1)).end(code, '', httpStatus);
      await expect(iterator.next()).rejects.toMatchObject({ code: expected });
      expect(gateway.connections).toHaveLength(1);
      await client.close();
    }
  });

  it('fails on a frame it does not understand instead of guessing', async () => {
    const { gateway, iterator } = start();
    const connection = await gateway.connection(1);
    connection.open();
    connection.frame({ type: 'alert', cursor: C(1), alert: { id: 'not an alert' } } as Record<
      string,
      unknown
    >);
    await expect(iterator.next()).rejects.toMatchObject({ code: 'invalid-frame' });
    expect(connection.closedWith?.code).toBe(1000);
  });

  it('stops reading when its consumer falls behind, and resumes from its cursor once caught up', async () => {
    const { gateway, client, take } = start({ maxQueued: 4 });
    const first = await gateway.connection(1);
    first.open();
    first.frame(welcome);
    for (let cursor = 1; cursor <= 4; cursor += 1) first.frame(update(cursor));
    expect(first.closedWith?.code).toBe(4000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(gateway.connections).toHaveLength(1);
    expect(cursorsOf(await take(2))).toEqual([C(1), C(2)]);
    const second = await gateway.connection(2);
    expect(second.url.searchParams.get('after')).toBe(C(4));
    second.open();
    second.frame(update(5));
    expect(cursorsOf(await take(3))).toEqual([C(3), C(4), C(5)]);
    await client.close();
  });

  it('ends the iterator on close, after what was already received', async () => {
    const { gateway, client, iterator } = start();
    const connection = await gateway.connection(1);
    connection.open();
    connection.frame(update(1));
    await client.close();
    expect(connection.closedWith).toEqual({ code: 1000, reason: 'client closed' });
    expect((await iterator.next()).value).toMatchObject({ cursor: C(1) });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});

describe('the browser entry', () => {
  it('imports nothing of Node.js, nor ws, along its whole module graph inside the workspace', async () => {
    const { readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    const root = path.resolve(import.meta.dirname, '../..');
    const seen = new Set<string>();
    const offending: string[] = [];
    const visit = async (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\b[^'"]*?['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]/g),
      ].map((match) => match[1]);
      for (const specifier of specifiers) {
        if (specifier!.startsWith('node:') || specifier === 'ws') offending.push(`${file}: ${specifier}`);
        else if (specifier!.startsWith('.'))
          await visit(path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.ts')));
        else if (specifier === '@renkei/schema') await visit(path.join(root, 'schema/src/index.ts'));
      }
    };
    await visit(path.join(root, 'client/src/browser.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect(offending).toEqual([]);
  });
});
