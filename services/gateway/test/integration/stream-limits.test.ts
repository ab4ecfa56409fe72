import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '@renkei/runtime';
import { MAX_ERROR_MESSAGE_CHARS, STREAM_CLOSE_CODES, type ErrorFrame } from '@renkei/schema';
import {
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  openStream,
  randomTopicPrefix,
  registerOrganisations,
  sleep,
  TEST_ORGANISATIONS,
  waitUntilReady,
  type StreamClient,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadGatewayConfig } from '../../src/config.js';
import { startGateway, type RunningGateway } from '../../src/service.js';

/**
 * What one member can cost the stream: how many sockets it may hold, how
 * large an answer its bad frames get, and how loudly they are logged. A real
 * gateway (relay, follower, hub) in this process, on a real broker and database.
 */
describe('the stream’s limits', () => {
  const logLines: { level: string; msg: string; err?: { code?: string } }[] = [];
  const logger = pino(
    { level: 'info', formatters: { level: (label) => ({ level: label }) } },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    }),
  ) as Logger;
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let gateway: RunningGateway;
  const streams: StreamClient[] = [];
  const CAP = 2;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, Object.values(TEST_ORGANISATIONS));
    prefix = randomTopicPrefix();
    gateway = await startGateway(
      loadGatewayConfig({
        DATABASE_URL: database.url,
        ...(await sharedKafkaEnv(prefix)),
        AUTH_JWKS_FILE: keys.jwksFile,
        GATEWAY_PORT: '0',
        GATEWAY_MAX_SOCKETS_PER_ORGANISATION: String(CAP),
      }),
      logger,
    );
    await waitUntilReady(gateway.url);
  });

  afterAll(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    await gateway?.close();
    await database?.drop();
    await keys?.remove();
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  const analyst = (sub: string) =>
    keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'], sub });
  const connect = async (token: string) => {
    const stream = await openStream(gateway.url, token);
    streams.push(stream);
    return stream;
  };
  const welcomed = async (token: string) => {
    const stream = await connect(token);
    await stream.next((frame) => frame.type === 'welcome');
    return stream;
  };

  it('closes an organisation’s socket past the cap with 4429, before any frame; others are not affected', async () => {
    const held = [await welcomed(await analyst('one')), await welcomed(await analyst('two'))];
    // Another analyst of the same organisation, another token: the cap is the organisation's.
    const refused = await connect(await analyst('three'));
    const closed = await Promise.race([
      refused.closed,
      sleep(10_000).then(() => ({ code: -1, reason: 'still open after 10 s' })),
    ]);
    expect(closed.code).toBe(STREAM_CLOSE_CODES.tooManySockets);
    expect(closed.code).toBe(4429);
    expect(closed.reason).toMatch(/2 streams open/);
    expect(refused.frames).toEqual([]);
    // The held ones still work.
    for (const stream of held) {
      stream.send(JSON.stringify({ type: 'subscribe', filter: { minSeverity: 'high' } }));
      await stream.next((frame) => frame.type === 'subscribed');
    }
    // Another organisation is counted apart.
    await welcomed(await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] }));
    // A closed stream frees its place (the gateway hears of it on the close handshake).
    await held[0]!.close();
    const again = await eventually(async () => {
      const stream = await connect(await analyst('four'));
      const first = await Promise.race([
        stream.next((frame) => frame.type === 'welcome', 5_000).then(() => 'welcome' as const),
        stream.closed.then(({ code }) => code),
      ]);
      expect(first).toBe('welcome');
      return stream;
    });
    expect(again.frames[0]?.type).toBe('welcome');
    expect(
      logLines.some((line) => line.level === 'warn' && /organisation has as many streams/.test(line.msg)),
    ).toBe(true);
    const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/renkei_stream_disconnects_total\{[^}]*reason="too-many-sockets"[^}]*\} [1-9]/);
    await Promise.all(streams.splice(0).map((stream) => stream.close()));
  });

  it('answers a 54 KB subscribe frame of bad values with a short error frame', async () => {
    const stream = await welcomed(await analyst('bulk'));
    const sizes: number[] = [];
    stream.socket.on('message', (data: Buffer) => sizes.push(data.length));
    const kinds = Array.from({ length: 7_000 }, (_, n) => `k${n}`);
    const frame = JSON.stringify({ type: 'subscribe', filter: { kinds } });
    expect(frame.length).toBeGreaterThan(54_000);
    expect(frame.length).toBeLessThan(64 * 1024);
    stream.send(frame);
    const error = (await stream.next((received) => received.type === 'error')) as ErrorFrame;
    expect(error.code).toBe('RENKEI_INVALID_REQUEST');
    expect(error.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(error.message).toMatch(/^filter\.kinds\[0\]: Invalid option/);
    expect(error.message).toMatch(/; and 6995 more$/);
    // Before the bound: 2.8 MB for such a frame. Now about a kilobyte, whatever the frame.
    expect(Math.max(...sizes)).toBeLessThan(2 * 1024);

    // One huge unknown key is not echoed back whole either.
    sizes.length = 0;
    const key = 'k'.repeat(60_000);
    stream.send(JSON.stringify({ type: 'subscribe', filter: { [key]: true } }));
    await eventually(async () => expect(sizes).toHaveLength(1));
    expect(sizes[0]).toBeLessThan(2 * 1024);
    await stream.close();
  });

  it('logs an oversized or malformed client frame at warn, never error', async () => {
    const from = logLines.length;
    const oversized = await welcomed(await analyst('oversized'));
    oversized.send(JSON.stringify({ type: 'subscribe', filter: {}, padding: 'x'.repeat(70 * 1024) }));
    expect((await oversized.closed).code).toBe(1009);
    const malformed = await welcomed(await analyst('malformed'));
    // Text that is not UTF-8: ws refuses it (1007).
    malformed.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await malformed.closed).code).toBe(1007);
    const lines = await eventually(async () => {
      const lines = logLines.slice(from).filter((line) => line.err?.code?.startsWith('WS_ERR_'));
      expect(lines).toHaveLength(2);
      return lines;
    });
    expect(lines.map((line) => [line.level, line.err?.code])).toEqual([
      ['warn', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'],
      ['warn', 'WS_ERR_INVALID_UTF8'],
    ]);
    expect(logLines.slice(from).filter((line) => line.level === 'error')).toEqual([]);
  });
});
