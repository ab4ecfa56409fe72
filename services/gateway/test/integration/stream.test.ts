import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sealer } from '@renkei/auth';
import { withTransaction } from '@renkei/db';
import { appendToFeed, feedBounds, pruneFeed } from '@renkei/feed';
import { createLogger } from '@renkei/runtime';
import type { AlertFrame, AlertRecord, AlertUpdateFrame, ServerFrame, Tlp } from '@renkei/schema';
import {
  registerOrganisations,
  TEST_ORGANISATIONS,
  alertRecordFixture,
  contributionFixture,
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  openStream,
  randomTopicPrefix,
  sleep,
  waitUntilReady,
  type StreamClient,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadGatewayConfig } from '../../src/config.js';
import { hubCursorSealers } from '../../src/cursors.js';
import { startGateway, type RunningGateway } from '../../src/service.js';

/**
 * The stream of a real gateway (relay, follower, hub) in this process, on a
 * real broker and database. Alerts are appended to the feed directly, as the
 * correlator's transaction would: these tests are about the stream, not
 * about correlation (test/e2e covers reports raising alerts).
 */
describe('the live stream', () => {
  const logger = createLogger('stream-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let gateway: RunningGateway;
  let env: Record<string, string>;
  let cursors: Sealer;
  /** The position a cursor stands for: every cursor a frame carries is sealed. */
  const positionOf = (cursor: string): bigint => {
    const position = cursors.open(cursor);
    if (position === undefined) throw new Error(`${cursor} is not a cursor of this hub`);
    return position;
  };
  const tokens = {} as Record<'analyst' | 'secondAnalyst' | 'ceptar', string>;
  const streams: StreamClient[] = [];

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
      GATEWAY_HEARTBEAT_MS: '300',
      GATEWAY_ACCESS_RECHECK_MS: '300',
      GATEWAY_ALLOWED_ORIGINS: 'https://console.example',
      LOG_LEVEL: 'silent',
      // The test reads the hub secret too, to open the cursors the gateway gives out.
      HUB_SECRET_FILE: path.join(await mkdtemp(path.join(os.tmpdir(), 'renkei-secret-')), 'hub-secret'),
    };
    gateway = await startGateway(loadGatewayConfig(env), logger);
    cursors = (await hubCursorSealers(env.HUB_SECRET_FILE!)).feed;
    await waitUntilReady(gateway.url);
    tokens.analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    tokens.secondAnalyst = await keys.token({
      org: 'gsoc',
      sector: 'central-government',
      roles: ['analyst'],
      sub: 'aiko',
    });
    tokens.ceptar = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
  });

  afterAll(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    await gateway?.close();
    await database?.drop();
    await keys?.remove();
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  const open = async (...args: Parameters<typeof openStream>) => {
    const stream = await openStream(...args);
    streams.push(stream);
    await stream.next((frame) => frame.type === 'welcome');
    return stream;
  };

  /** Appends alerts to the feed, each in a transaction of its own, as correlators do. */
  async function raise(count: number, tlpOf: (n: number) => Tlp = () => 'GREEN'): Promise<AlertRecord[]> {
    const records: AlertRecord[] = [];
    for (let n = 0; n < count; n += 1) {
      const tlp = tlpOf(n);
      const record = alertRecordFixture({
        tlp,
        severity: n % 2 === 0 ? 'high' : 'low',
        contributions: [
          // Two agencies: the sector body sees these only as the policy shares them.
          contributionFixture({ organisationId: 'mlit-csirt', tlp }),
          contributionFixture({ organisationId: 'mhlw-csirt', tlp }),
        ],
      });
      await withTransaction(database.pool, (db) =>
        appendToFeed(db, [{ kind: 'alert', payload: record, alert: { id: record.id, version: 1 } }]),
      );
      records.push(record);
    }
    return records;
  }

  const alertFrames = (stream: StreamClient) =>
    stream.frames.filter((frame): frame is AlertFrame => frame.type === 'alert');
  const eventCursors = (stream: StreamClient) =>
    stream.frames.flatMap((frame) => ('cursor' in frame ? [positionOf(frame.cursor)] : []));
  const isAlert = (id: string) => (frame: ServerFrame) => frame.type === 'alert' && frame.alert.id === id;

  function expectConsecutiveFrom(cursors: bigint[], after: bigint): void {
    expect(cursors).toEqual(cursors.map((_, n) => after + BigInt(n) + 1n));
  }

  async function resumeAfterMissing(restart: boolean): Promise<void> {
    const analyst = await open(gateway.url, tokens.analyst);
    const ceptar = await open(gateway.url, tokens.ceptar);
    const [first] = await raise(1);
    await analyst.next(isAlert(first!.id));
    await ceptar.next(isAlert(first!.id));
    const cursor = analyst.cursor!;
    expect(ceptar.cursor).toBe(cursor);
    await Promise.all([analyst.close(), ceptar.close()]);

    if (restart) await gateway.close();
    // Every fifth is AMBER: the analyst may see it, the sector body may not.
    const missed = await raise(50, (n) => (n % 5 === 4 ? 'AMBER' : 'GREEN'));
    if (restart) {
      gateway = await startGateway(
        loadGatewayConfig({ ...env, GATEWAY_PORT: new URL(gateway.url).port }),
        logger,
      );
    }

    const analystAgain = await open(gateway.url, tokens.analyst, { after: cursor });
    const ceptarAgain = await open(gateway.url, tokens.ceptar, { after: cursor, via: 'query' });
    await eventually(() => expect(alertFrames(analystAgain)).toHaveLength(50));
    await eventually(() => expect(alertFrames(ceptarAgain)).toHaveLength(40));
    expect(alertFrames(analystAgain).map((frame) => frame.alert.id)).toEqual(
      missed.map((record) => record.id),
    );
    expect(alertFrames(ceptarAgain).map((frame) => frame.alert.id)).toEqual(
      missed.filter((record) => record.tlp === 'GREEN').map((record) => record.id),
    );
    expectConsecutiveFrom(eventCursors(analystAgain), positionOf(cursor));

    const [live] = await raise(1);
    await analystAgain.next(isAlert(live!.id));
    await ceptarAgain.next(isAlert(live!.id));
    await sleep(500);
    expect(alertFrames(analystAgain)).toHaveLength(51);
    expect(alertFrames(ceptarAgain)).toHaveLength(41);
    expect(analystAgain.frames.filter((frame) => frame.type === 'gap')).toEqual([]);
    await Promise.all([analystAgain.close(), ceptarAgain.close()]);
  }

  it('resumes with exactly the alerts missed, once and in order, then live ones', async () => {
    await resumeAfterMissing(false);
  });

  it('resumes the same way across a gateway restart', async () => {
    await resumeAfterMissing(true);
  });

  it('applies a filter from the URL to the replay and a subscribe frame to what follows', async () => {
    const { head } = await feedBounds(database.pool);
    const records = await raise(4);
    const stream = await open(gateway.url, tokens.analyst, {
      after: cursors.seal(BigInt(head)),
      filter: { minSeverity: 'high' },
    });
    expect(stream.frames[1]).toEqual({ type: 'subscribed', filter: { minSeverity: 'high' } });
    await eventually(() => expect(alertFrames(stream)).toHaveLength(2));
    expect(alertFrames(stream).map((frame) => frame.alert.id)).toEqual([records[0]!.id, records[2]!.id]);

    stream.send(JSON.stringify({ type: 'subscribe', filter: { exercise: true } }));
    await stream.next((frame) => frame.type === 'subscribed' && frame.filter.exercise === true);
    const [real] = await raise(1);
    const drill = alertRecordFixture({ exercise: true });
    await withTransaction(database.pool, (db) =>
      appendToFeed(db, [{ kind: 'alert', payload: drill, alert: { id: drill.id, version: 1 } }]),
    );
    await stream.next(isAlert(drill.id));
    expect(alertFrames(stream).map((frame) => frame.alert.id)).not.toContain(real!.id);
  });

  it('answers invalid frames with an error, and closes on binary, oversized and floods of invalid frames', async () => {
    const stream = await open(gateway.url, tokens.analyst);
    stream.send('{"type":"subscribe","filter":{"minSeverity":"apocalyptic"}}');
    const error = await stream.next((frame) => frame.type === 'error');
    expect(error).toMatchObject({
      code: 'RENKEI_INVALID_REQUEST',
      message: expect.stringMatching(/^filter\.minSeverity/),
    });

    const binary = await open(gateway.url, tokens.analyst);
    binary.send(Buffer.from([0, 1, 2]), { binary: true });
    expect((await binary.closed).code).toBe(1003);

    // The gateway stops reading a socket whose frame is over the limit and answers 1009; on a
    // loaded machine the rest of the frame can still be in flight when the socket ends, and the
    // client then sees 1006 without the close frame. The code must come through at least once.
    const oversizedCodes: number[] = [];
    for (let attempt = 0; attempt < 3 && !oversizedCodes.includes(1009); attempt += 1) {
      const oversized = await open(gateway.url, tokens.analyst);
      oversized.send(JSON.stringify({ type: 'subscribe', filter: {}, padding: 'x'.repeat(70 * 1024) }));
      oversizedCodes.push((await oversized.closed).code);
    }
    expect(oversizedCodes).toContain(1009);
    expect(oversizedCodes.every((code) => code === 1009 || code === 1006)).toBe(true);

    const flood = await open(gateway.url, tokens.analyst);
    for (let n = 0; n < 10; n += 1) flood.send('not json');
    expect((await flood.closed).code).toBe(1008);
    expect(flood.frames.filter((frame) => frame.type === 'error')).toHaveLength(9);
  });

  it('exposes its stream, feed and pool series at /metrics after traffic', async () => {
    const watching = await open(gateway.url, tokens.analyst);
    const [record] = await raise(1);
    await watching.next(isAlert(record!.id));
    const binary = await open(gateway.url, tokens.analyst);
    binary.send(Buffer.from([0, 1, 2]), { binary: true });
    await binary.closed;

    const list = await fetch(`${gateway.url}/v1/alerts?limit=1`, {
      headers: { authorization: `Bearer ${tokens.analyst}` },
    });
    expect(list.status).toBe(200);

    const text = await eventually(async () => {
      const body = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
      expect(body).toMatch(/renkei_feed_events_published_total\{[^}]*\} [1-9]/);
      return body;
    });
    expect(text).toMatch(/renkei_stream_connections\{[^}]*service="gateway"[^}]*\} [1-9]/);
    expect(text).toMatch(/renkei_stream_frames_sent_total\{[^}]*\} [1-9]/);
    expect(text).toMatch(/renkei_stream_disconnects_total\{[^}]*reason="binary-frame"[^}]*\} [1-9]/);
    expect(text).toMatch(
      /renkei_kafka_messages_produced_total\{[^}]*topic="[^"]+renkei\.feed\.v1"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/renkei_db_pool_connections\{[^}]*state="total"[^}]*\} [1-9]/);
    expect(text).toMatch(
      /renkei_http_request_duration_seconds_count\{[^}]*route="\/v1\/alerts",status="200"[^}]*\} [1-9]/,
    );
  });

  it('refuses a page from a forbidden origin before the upgrade, and lets allowed ones and tools in', async () => {
    await expect(openStream(gateway.url, tokens.analyst, { origin: 'https://evil.example' })).rejects.toThrow(
      'HTTP 403',
    );
    await expect(openStream(gateway.url, tokens.analyst, { origin: 'null' })).rejects.toThrow('HTTP 403');
    await open(gateway.url, tokens.analyst, { origin: 'https://console.example' });
    await open(gateway.url, tokens.analyst, { origin: new URL(gateway.url).origin, via: 'query' });
    await open(gateway.url, tokens.analyst);
  });

  it('refuses a cursor the feed never gave out, without saying where the feed is', async () => {
    const { head } = await feedBounds(database.pool);
    const ahead = cursors.seal(BigInt(head) + 1000n);
    const forged = 'A'.repeat(22);
    for (const after of [ahead, forged, String(BigInt(head) + 1000n), head]) {
      await expect(openStream(gateway.url, tokens.analyst, { after })).rejects.toThrow('HTTP 400');
      const response = await fetch(`${gateway.url}/v1/stream?after=${after}`, {
        headers: { authorization: `Bearer ${tokens.analyst}` },
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { fields: { field: string; message: string }[] };
      expect(body.fields.map((f) => f.field)).toEqual(['after']);
      expect(JSON.stringify(body)).not.toContain(head);
    }
  });

  it('pushes a triage change to another analyst live, and not to sector bodies', async () => {
    const [record] = await raise(1);
    await database.pool.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, record, created_at, updated_at)
       VALUES ($1, $2, 'shared-indicator', 1, false, 'GREEN', 'high', $3, now(), now())`,
      [record!.id, `test:${record!.id}`, record],
    );
    const watching = await open(gateway.url, tokens.secondAnalyst);
    const ceptar = await open(gateway.url, tokens.ceptar);
    const response = await fetch(`${gateway.url}/v1/alerts/${record!.id}/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.analyst}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'acknowledged', note: 'looking' }),
    });
    expect(response.status).toBe(200);
    const frame = (await watching.next((f) => f.type === 'alert-update')) as AlertUpdateFrame;
    expect(frame.update).toEqual(await response.json());
    expect(frame.update).toMatchObject({ alertId: record!.id, status: 'acknowledged', by: 'gsoc-tester' });

    // Sector bodies get the next alert but never the update before it.
    const [after] = await raise(1);
    await ceptar.next(isAlert(after!.id));
    expect(ceptar.frames.filter((f) => f.type === 'alert-update')).toEqual([]);
  });

  it('closes a stream with 4401 once its token expires', async () => {
    const shortLived = await keys.token(
      { org: 'gsoc', sector: 'central-government', roles: ['analyst'] },
      '2s',
    );
    const stream = await open(gateway.url, shortLived);
    const { code } = await stream.closed;
    expect(code).toBe(4401);
  });

  it('sends a heartbeat frame each interval, named in the welcome, so a browser can tell a dead connection', async () => {
    const stream = await open(gateway.url, tokens.analyst);
    expect(stream.frames[0]).toMatchObject({ type: 'welcome', heartbeatMs: 300 });
    await eventually(() => expect(stream.heartbeats).toBeGreaterThanOrEqual(2));
    await stream.close();
  });

  it('drops a connection that stops answering pings', async () => {
    const silent = await open(gateway.url, tokens.analyst, { wsOptions: { autoPong: false } });
    const { code } = await silent.closed;
    // Terminated without a closing handshake: the client sees an abnormal closure.
    expect(code).toBe(1006);
  });

  it('says `gap` first to a cursor older than the feed keeps, then goes on live', async () => {
    const stream = await open(gateway.url, tokens.analyst);
    const [old] = await raise(1);
    await stream.next(isAlert(old!.id));
    const cursor = stream.cursor!;
    const more = await raise(3);
    // The hub has them: what it replays up to is the whole feed.
    await stream.next(isAlert(more.at(-1)!.id));
    await eventually(async () => {
      const { rows } = await database.pool.query('SELECT 1 FROM feed_events WHERE published_at IS NULL');
      expect(rows).toEqual([]);
    });
    expect(await pruneFeed(database.pool, 0)).toBeGreaterThan(0);
    const { head } = await feedBounds(database.pool);

    const resumed = await open(gateway.url, tokens.analyst, { after: cursor });
    await resumed.next((frame) => frame.type === 'gap');
    expect(resumed.frames[1]).toEqual({ type: 'gap', after: cursor, resumeFrom: cursors.seal(BigInt(head)) });
    const [live] = await raise(1);
    await resumed.next(isAlert(live!.id));
    expect(alertFrames(resumed)).toHaveLength(1);
    expect(resumed.frames.at(-1)).toMatchObject({ cursor: cursors.seal(BigInt(head) + 1n) });
  });
});
