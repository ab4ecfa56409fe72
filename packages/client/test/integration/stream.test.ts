import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '@renkei/db';
import { appendToFeed, pruneFeed } from '@renkei/feed';
import {
  hubCursorSealers,
  loadGatewayConfig,
  startGateway,
  type CursorSealers,
  type RunningGateway,
} from '@renkei/gateway';
import { createLogger } from '@renkei/runtime';
import type { AlertRecord } from '@renkei/schema';
import {
  registerOrganisations,
  TEST_ORGANISATIONS,
  alertRecordFixture,
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  waitUntilReady,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';
import {
  createStreamClient,
  type StreamClient,
  type StreamEvent,
  type StreamStatus,
} from '../../src/node.js';

/**
 * The client against a real gateway (in this process) on a real broker and
 * database: it rides out a gateway restart without losing or repeating an
 * event, and surfaces a gap. Alerts are appended to the feed directly.
 */
describe('the stream client on a real gateway', () => {
  const logger = createLogger('client-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let env: Record<string, string>;
  let gateway: RunningGateway;
  let token: string;
  let cursors: CursorSealers['feed'];
  const positionOf = (cursor: string): bigint => {
    const position = cursors.open(cursor);
    if (position === undefined) throw new Error(`${cursor} is not a cursor of this hub`);
    return position;
  };

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    // Tokens are honoured for registered, enabled organisations only.
    await registerOrganisations(database, Object.values(TEST_ORGANISATIONS));
    prefix = randomTopicPrefix();
    env = {
      DATABASE_URL: database.url,
      ...(await sharedKafkaEnv(prefix)),
      AUTH_JWKS_FILE: keys.jwksFile,
      GATEWAY_PORT: '0',
      FEED_SWEEP_MS: '200',
      GATEWAY_FEED_POLL_MS: '250',
      LOG_LEVEL: 'silent',
      // Read by the test too: cursors are sealed with it, and the test opens them to check their order.
      HUB_SECRET_FILE: path.join(await mkdtemp(path.join(os.tmpdir(), 'renkei-secret-')), 'hub-secret'),
    };
    gateway = await startGateway(loadGatewayConfig(env), logger);
    cursors = (await hubCursorSealers(env.HUB_SECRET_FILE!)).feed;
    await waitUntilReady(gateway.url);
    token = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
  });

  afterAll(async () => {
    await gateway?.close();
    await database?.drop();
    await keys?.remove();
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  async function raise(count: number, overrides: Partial<AlertRecord> = {}): Promise<AlertRecord[]> {
    const records = Array.from({ length: count }, () => alertRecordFixture(overrides));
    await withTransaction(database.pool, (db) =>
      appendToFeed(
        db,
        records.map((record) => ({
          kind: 'alert' as const,
          payload: record,
          alert: { id: record.id, version: 1 },
        })),
      ),
    );
    return records;
  }

  /** Reads the client's events into an array as they come. */
  function collect(client: StreamClient) {
    const events: StreamEvent[] = [];
    const done = (async () => {
      for await (const event of client) events.push(event);
    })();
    return { events, done };
  }

  const idsOf = (events: StreamEvent[]) =>
    events.flatMap((event) => (event.type === 'alert' ? [event.alert.id] : []));

  it('rides out a gateway restart, resuming with exactly what it missed', async () => {
    const statuses: StreamStatus[] = [];
    const client = createStreamClient({
      url: gateway.url,
      token: () => token,
      // The start of the feed, as only the hub (and this test, which holds its secret) can write it.
      after: cursors.seal(0n),
      backoff: { initialMs: 50, maxMs: 400 },
      onStatus: (status) => statuses.push(status),
    });
    const { events, done } = collect(client);
    const before = await raise(3);
    await eventually(() => expect(idsOf(events)).toEqual(before.map((record) => record.id)));

    const port = new URL(gateway.url).port;
    await gateway.close();
    const whileDown = await raise(20);
    gateway = await startGateway(loadGatewayConfig({ ...env, GATEWAY_PORT: port }), logger);
    const after = await raise(2);

    const expected = [...before, ...whileDown, ...after].map((record) => record.id);
    await eventually(() => expect(idsOf(events)).toEqual(expected), { timeoutMs: 30_000 });
    const positions = events.map((event) => (event.type === 'alert' ? positionOf(event.cursor) : 0n));
    expect(positions).toEqual(positions.map((_, n) => positions[0]! + BigInt(n)));
    expect(client.cursor).toBe(cursors.seal(positions.at(-1)!));
    expect(statuses).toContainEqual(expect.objectContaining({ state: 'closed', code: 1001 }));
    expect(statuses.filter((status) => status.state === 'open').length).toBeGreaterThanOrEqual(2);

    await client.close();
    await done;
  });

  it('narrows what it receives with subscribe', async () => {
    const client = createStreamClient({ url: gateway.url, token, filter: { minSeverity: 'critical' } });
    const { events, done } = collect(client);
    await eventually(async () => {
      const [critical] = await raise(1, { severity: 'critical' });
      await eventually(() => expect(idsOf(events)).toContain(critical!.id), { timeoutMs: 2_000 });
    });
    const [medium] = await raise(1, { severity: 'medium' });
    expect(await client.subscribe({ exercise: true })).toEqual({ exercise: true });
    const [drill] = await raise(1, { exercise: true, severity: 'low' });
    await eventually(() => expect(idsOf(events)).toContain(drill!.id));
    expect(idsOf(events)).not.toContain(medium!.id);
    await client.close();
    await done;
  });

  it('surfaces a gap when its cursor is older than the feed keeps', async () => {
    await raise(3);
    await eventually(async () => {
      const { rows } = await database.pool.query('SELECT 1 FROM feed_events WHERE published_at IS NULL');
      expect(rows).toEqual([]);
    });
    await pruneFeed(database.pool, 0);
    const client = createStreamClient({ url: gateway.url, token, after: cursors.seal(1n) });
    const iterator = client[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as StreamEvent;
    expect(first).toMatchObject({ type: 'gap', after: cursors.seal(1n) });
    const [live] = await raise(1);
    // Whatever the gateway had not yet handed out when the gap was found follows it, then the new alert.
    const after: StreamEvent[] = [];
    while (!after.some((event) => event.type === 'alert' && event.alert.id === live!.id))
      after.push((await iterator.next()).value as StreamEvent);
    const positions = after.map((event) => (event.type === 'alert' ? positionOf(event.cursor) : 0n));
    expect(positions[0]).toBe(positionOf((first as { resumeFrom: string }).resumeFrom) + 1n);
    expect(positions).toEqual(positions.map((_, n) => positions[0]! + BigInt(n)));
    await client.close();
  });

  it('works the same from the browser entry, with a platform WebSocket and the token in the URL', async () => {
    const { default: WebSocket } = await import('ws');
    const { createStreamClient: createBrowserClient } = await import('../../src/browser.js');
    const global = globalThis as { WebSocket?: unknown };
    const before = global.WebSocket;
    // What a browser has: a WebSocket class with on… handlers and no way to set headers.
    global.WebSocket = class extends WebSocket {
      constructor(url: string) {
        expect(new URL(url).searchParams.get('access_token')).toBe(token);
        super(url);
      }
    };
    try {
      const client = createBrowserClient({ url: gateway.url, token });
      const { events, done } = collect(client);
      await eventually(async () => {
        const [record] = await raise(1);
        await eventually(() => expect(idsOf(events)).toContain(record!.id), { timeoutMs: 2_000 });
      });
      await client.close();
      await done;
    } finally {
      global.WebSocket = before;
    }
  });

  it('stops with a clear error when the token is refused', async () => {
    const client = createStreamClient({ url: gateway.url, token: 'not-a-token' });
    await expect(client[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'unauthenticated',
      details: { httpStatus: 401 },
    });
  });
});
