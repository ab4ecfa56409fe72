import { describe, expect, it } from 'vitest';
import { createMetrics } from '@renkei/metrics';
import { createLogger } from '@renkei/runtime';
import {
  errorFrameMessage,
  errorFrameSchema,
  MAX_ERROR_FRAME_ISSUES,
  MAX_ERROR_MESSAGE_CHARS,
  serverFrameSchema,
  type Principal,
  type ServerFrame,
} from '@renkei/schema';
import { loadGatewayConfig } from '../../src/config.js';
import { CLOSE_CODES, StreamHub, type StreamSocket } from '../../src/stream-hub.js';

class FakeSocket implements StreamSocket {
  bufferedAmount = 0;
  readonly sent: Buffer[] = [];
  readonly closed: { code: number | undefined; reason: string | undefined }[] = [];
  send(data: Buffer): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closed.push({ code, reason });
  }
  ping(): void {}
  terminate(): void {}
  frames(): ServerFrame[] {
    return this.sent.map((data) => serverFrameSchema.parse(JSON.parse(data.toString('utf8'))));
  }
}

const logger = createLogger('test', 'silent');
let subjects = 0;
const member = (organisationId: string): Principal => ({
  subject: `${organisationId}-${(subjects += 1)}`,
  organisationId,
  sector: 'finance',
  roles: ['ceptar'],
});

function setUp(maxSocketsPerOrganisation?: number) {
  const metrics = createMetrics('gateway');
  const hub = new StreamHub({
    position: '0',
    readFeed: async () => [],
    maxBufferedBytes: 1024 * 1024,
    logger,
    metrics,
    ...(maxSocketsPerOrganisation === undefined ? {} : { maxSocketsPerOrganisation }),
  });
  const connect = (who: Principal) => {
    const socket = new FakeSocket();
    const connection = hub.connect(who, socket, { first: [{ type: 'error', code: 'X', message: 'first' }] });
    return { socket, connection };
  };
  return { hub, connect, metrics };
}

describe('StreamHub: sockets per organisation', () => {
  it('closes one past the cap with 4429 before anything is sent, and counts organisations apart', async () => {
    const { hub, connect, metrics } = setUp(2);
    const held = [connect(member('finance-ceptar')), connect(member('finance-ceptar'))];
    for (const { socket } of held) expect(socket.closed).toEqual([]);
    const refused = connect(member('finance-ceptar'));
    expect(refused.socket.closed).toEqual([
      { code: CLOSE_CODES.tooManySockets, reason: expect.stringMatching(/2 streams open/) },
    ]);
    expect(CLOSE_CODES.tooManySockets).toBe(4429);
    expect(refused.socket.sent).toEqual([]);
    expect(refused.connection.state).toBe('closed');
    expect(hub.size).toBe(2);
    // Another organisation has a cap of its own.
    expect(connect(member('telecom-ceptar')).socket.closed).toEqual([]);
    expect(hub.size).toBe(3);
    const counted = await metrics.registry.getSingleMetricAsString('renkei_stream_disconnects_total');
    expect(counted).toMatch(/reason="too-many-sockets"[^}]*\} 1/);
  });

  it('frees a place when a connection goes, however it goes', () => {
    const { hub, connect } = setUp(1);
    const first = connect(member('finance-ceptar'));
    expect(connect(member('finance-ceptar')).socket.closed[0]?.code).toBe(4429);
    hub.disconnect(first.connection);
    // A refused connection's own close changes nothing: it was never counted.
    const second = connect(member('finance-ceptar'));
    expect(second.socket.closed).toEqual([]);
    hub.close(second.connection, CLOSE_CODES.tooSlow, 'too slow');
    const third = connect(member('finance-ceptar'));
    expect(third.socket.closed).toEqual([]);
    hub.closeAll(CLOSE_CODES.goingAway, 'restart');
    expect(connect(member('finance-ceptar')).socket.closed).toEqual([]);
  });

  it('is 50 unless GATEWAY_MAX_SOCKETS_PER_ORGANISATION says otherwise', () => {
    expect(loadGatewayConfig({}).GATEWAY_MAX_SOCKETS_PER_ORGANISATION).toBe(50);
    expect(
      loadGatewayConfig({ GATEWAY_MAX_SOCKETS_PER_ORGANISATION: '7' }).GATEWAY_MAX_SOCKETS_PER_ORGANISATION,
    ).toBe(7);
    expect(() => loadGatewayConfig({ GATEWAY_MAX_SOCKETS_PER_ORGANISATION: '0' })).toThrow(
      /GATEWAY_MAX_SOCKETS_PER_ORGANISATION/,
    );
  });

  it('has no cap unless given one', () => {
    const { hub, connect } = setUp();
    for (let n = 0; n < 200; n += 1) connect(member('finance-ceptar'));
    expect(hub.size).toBe(200);
  });
});

describe('error frames', () => {
  it('stay short, whatever the frame they answer', () => {
    const { hub, connect } = setUp();
    const { socket, connection } = connect(member('finance-ceptar'));
    socket.sent.length = 0;
    const kinds = Array.from({ length: 7_000 }, (_, n) => `k${n}`);
    hub.receive(connection, Buffer.from(JSON.stringify({ type: 'subscribe', filter: { kinds } })), false);
    const huge = 'k'.repeat(60_000);
    hub.receive(connection, Buffer.from(JSON.stringify({ type: 'subscribe', filter: { [huge]: 1 } })), false);
    expect(socket.sent).toHaveLength(2);
    for (const data of socket.sent) expect(data.length).toBeLessThan(MAX_ERROR_MESSAGE_CHARS + 100);
    const [many, unknownKey] = socket.frames();
    expect(many).toMatchObject({ type: 'error', code: 'RENKEI_INVALID_REQUEST' });
    expect(many?.type === 'error' && many.message).toMatch(
      /^filter\.kinds\[0\]: Invalid option: .*; filter\.kinds\[4\]: .*; and 6995 more$/,
    );
    expect(unknownKey?.type === 'error' && unknownKey.message).toMatch(
      /^filter\.kkkk+…: is not a known field$/,
    );
  });

  it('name the first issues in full when they are short, and count the rest', () => {
    const issues = Array.from({ length: 8 }, (_, n) => ({ field: `f${n}`, message: 'is wrong' }));
    expect(errorFrameMessage(issues.slice(0, 1))).toBe('f0: is wrong');
    expect(errorFrameMessage(issues)).toBe(
      'f0: is wrong; f1: is wrong; f2: is wrong; f3: is wrong; f4: is wrong; and 3 more',
    );
    expect(MAX_ERROR_FRAME_ISSUES).toBe(5);
  });

  it('cut long fields and messages, never inside a surrogate pair, and never pass the limit', () => {
    const emoji = '🦊'.repeat(5_000);
    const issues = Array.from({ length: 50 }, () => ({ field: emoji, message: emoji }));
    const message = errorFrameMessage(issues);
    expect(message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(message).not.toMatch(/(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(message).toContain('…');
    expect(errorFrameSchema.safeParse({ type: 'error', code: 'X', message }).success).toBe(true);
    expect(
      errorFrameSchema.safeParse({
        type: 'error',
        code: 'X',
        message: 'x'.repeat(MAX_ERROR_MESSAGE_CHARS + 1),
      }).success,
    ).toBe(false);
  });
});
