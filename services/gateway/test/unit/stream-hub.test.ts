import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer } from '@renkei/auth';
import { createMetrics, type HubMetrics } from '@renkei/metrics';
import { createLogger } from '@renkei/runtime';
import {
  FEED_EVENT_SCHEMA,
  TLP_LEVELS,
  serverFrameSchema,
  type AlertRecord,
  type FeedEvent,
  type Principal,
  type ServerFrame,
  type TriageUpdate,
} from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import {
  CLOSE_CODES,
  StreamHub,
  type ConnectOptions,
  type FeedReader,
  type StreamSocket,
} from '../../src/stream-hub.js';

class FakeSocket implements StreamSocket {
  bufferedAmount = 0;
  readonly sent: Buffer[] = [];
  readonly closed: { code: number | undefined; reason: string | undefined }[] = [];
  pings = 0;
  terminated = false;

  send(data: Buffer): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closed.push({ code, reason });
  }

  ping(): void {
    this.pings += 1;
  }

  terminate(): void {
    this.terminated = true;
  }

  /** Every frame sent, checked against the frame schema. */
  frames(): ServerFrame[] {
    return this.sent.map((data) => serverFrameSchema.parse(JSON.parse(data.toString('utf8'))));
  }

  /** The positions of the event frames sent, in order, opened from their sealed cursors. */
  cursors(): string[] {
    return this.frames().flatMap((frame) => ('cursor' in frame ? [position(frame.cursor)] : []));
  }
}

/** The hub's sealer in these tests: frames carry sealed cursors, never raw positions. */
const sealer = createSealer(randomBytes(32));
const position = (cursor: string): string => {
  const opened = sealer.open(cursor);
  if (opened === undefined) throw new Error(`${cursor} is not a sealed cursor`);
  return opened.toString();
};

const logger = createLogger('test', 'silent');
const MAX_BUFFERED = 1024;

function principal(
  organisationId: string,
  roles: Principal['roles'],
  sector: Principal['sector'] = 'finance',
) {
  return { subject: `${organisationId}-${randomUUID()}`, organisationId, sector, roles } satisfies Principal;
}

const analyst = () => principal('gsoc', ['analyst'], 'central-government');
const reporter = (organisationId = 'a-csirt') => principal(organisationId, ['reporter']);

/** A feed held in memory: what the hub's reader would find in PostgreSQL. */
class FakeFeed {
  readonly events: FeedEvent[] = [];
  reads = 0;
  /** When set, each read waits for the test to let it go (to interleave publishes with a replay). */
  gate: Promise<void> | undefined;
  failWith: Error | undefined;

  readonly read: FeedReader = async (after, upTo, limit) => {
    this.reads += 1;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return this.events
      .filter((event) => BigInt(event.position) > BigInt(after) && BigInt(event.position) <= BigInt(upTo))
      .slice(0, limit);
  };

  /** The newest position ever appended: retention does not move it back. */
  head = 0;

  append(kind: 'alert', payload: AlertRecord): FeedEvent;
  append(kind: 'alert-update', payload: TriageUpdate): FeedEvent;
  append(kind: 'alert' | 'alert-update', payload: AlertRecord | TriageUpdate): FeedEvent {
    const event = {
      schema: FEED_EVENT_SCHEMA,
      position: String(++this.head),
      sequencedAt: '2026-11-28T00:00:00.000Z',
      kind,
      payload,
    } as FeedEvent;
    this.events.push(event);
    return event;
  }

  /** Forgets every event up to `position`, as retention does. */
  prune(position: number): void {
    while (this.events[0] && Number(this.events[0].position) <= position) this.events.shift();
  }
}

function alert(overrides: Partial<AlertRecord> = {}): AlertRecord {
  const tlp = overrides.tlp ?? 'GREEN';
  return alertRecordFixture({
    tlp,
    contributions: [
      contributionFixture({ organisationId: 'a-csirt', tlp }),
      contributionFixture({ organisationId: 'b-csirt', tlp }),
    ],
    ...overrides,
  });
}

function triage(alertId: string): TriageUpdate {
  return {
    alertId,
    status: 'acknowledged',
    assignee: null,
    note: null,
    by: 'gsoc-analyst',
    at: '2026-11-28T00:00:00.000Z',
  };
}

function setUp(
  options: { feed?: FakeFeed; replayPageSize?: number; replayStallMs?: number; metrics?: HubMetrics } = {},
) {
  const feed = options.feed ?? new FakeFeed();
  const hub = new StreamHub({
    position: String(feed.head),
    readFeed: feed.read,
    maxBufferedBytes: MAX_BUFFERED,
    logger,
    replayPageSize: options.replayPageSize ?? 3,
    replayStallMs: options.replayStallMs ?? 1_000,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    cursors: sealer,
  });
  const connect = (who: Principal, connectOptions: ConnectOptions = {}) => {
    const socket = new FakeSocket();
    const connection = hub.connect(who, socket, connectOptions);
    return { socket, connection };
  };
  /** Appends to the feed and hands the event to the hub, as the follower does. */
  const raise = (record: AlertRecord = alert()) => {
    const event = feed.append('alert', record);
    hub.publish(event);
    return event;
  };
  return { feed, hub, connect, raise };
}

/** Lets pending promises (a replay's reads) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('StreamHub.publish: who sees what', () => {
  it('sends an analyst every alert, whatever its TLP, with every report id', () => {
    const { connect, raise } = setUp();
    const { socket } = connect(analyst());
    const records = TLP_LEVELS.map((tlp) => alert({ tlp }));
    for (const record of records) raise(record);

    const frames = socket.frames();
    expect(frames.map((frame) => frame.type === 'alert' && frame.alert.tlp)).toEqual([...TLP_LEVELS]);
    for (const [i, frame] of frames.entries()) {
      if (frame.type !== 'alert') throw new Error(frame.type);
      expect(frame.alert.reportIds).toEqual(records[i]!.contributions.map((c) => c.reportId));
    }
  });

  it('sends others what TLP 2.0 lets them know, naming only their own reports', () => {
    const { connect, raise } = setUp();
    const { socket: contributor } = connect(reporter('a-csirt'));
    const { socket: outsider } = connect(reporter('c-csirt'));
    const records = TLP_LEVELS.map((tlp) => alert({ tlp }));
    for (const record of records) raise(record);

    // An AMBER report of another organisation counts for one that reported the same indicator.
    const frames = contributor.frames();
    expect(frames.map((frame) => frame.type === 'alert' && frame.alert.tlp)).toEqual([
      'CLEAR',
      'GREEN',
      'AMBER',
    ]);
    expect(outsider.frames().map((frame) => frame.type === 'alert' && frame.alert.tlp)).toEqual([
      'CLEAR',
      'GREEN',
    ]);
    expect(contributor.sent.join('') + outsider.sent.join('')).not.toContain('b-csirt');
    const green = frames[1]!;
    if (green.type !== 'alert') throw new Error(green.type);
    expect(green.alert.reportIds).toEqual([records[1]!.contributions[0]!.reportId]);
  });

  it('pushes triage updates to analysts only', () => {
    const { feed, hub, connect } = setUp();
    const forAnalyst = connect(analyst()).socket;
    const forReporter = connect(reporter()).socket;
    const update = triage(randomUUID());
    hub.publish(feed.append('alert-update', update));

    expect(forAnalyst.frames()).toEqual([{ type: 'alert-update', cursor: sealer.seal(1n), update }]);
    expect(forReporter.sent).toEqual([]);
  });

  it('computes and serialises each event once per audience, not once per socket', () => {
    const { connect, raise } = setUp();
    const analysts = [connect(analyst()), connect(analyst()), connect(analyst())].map((c) => c.socket);
    const sameOrganisation = [connect(reporter('a-csirt')), connect(reporter('a-csirt'))].map(
      (c) => c.socket,
    );
    const otherOrganisation = connect(reporter('c-csirt')).socket;
    raise();

    const [first, ...rest] = analysts.map((socket) => socket.sent[0]!);
    for (const data of rest) expect(data).toBe(first);
    expect(sameOrganisation[1]!.sent[0]).toBe(sameOrganisation[0]!.sent[0]);
    expect(sameOrganisation[0]!.sent[0]).not.toBe(first);
    expect(otherOrganisation.sent[0]).not.toBe(sameOrganisation[0]!.sent[0]);
    expect(otherOrganisation.sent[0]!.toString()).not.toEqual(sameOrganisation[0]!.sent[0]!.toString());
  });

  it('ignores an event at or before its position, and counts deliveries', () => {
    const { feed, hub, connect } = setUp();
    connect(analyst());
    connect(analyst());
    const event = feed.append('alert', alert());
    expect(hub.publish(event)).toBe(2);
    expect(hub.publish(event)).toBe(0);
    expect(hub.position).toBe('1');
  });
});

describe('StreamHub: subscription filters', () => {
  it('narrows alerts by severity, kind, sector and exercise, and lets other frames through', () => {
    const { feed, hub, connect, raise } = setUp();
    const all = connect(analyst()).socket;
    const highReal = connect(analyst(), { filter: { minSeverity: 'high', exercise: false } }).socket;
    const campaigns = connect(analyst(), { filter: { kinds: ['campaign'] } }).socket;
    const water = connect(analyst(), { filter: { sectors: ['water', 'gas'] } }).socket;

    raise(alert({ severity: 'medium' })); // 1
    raise(alert({ severity: 'critical' })); // 2
    raise(alert({ severity: 'critical', exercise: true })); // 3
    raise(alert({ kind: 'campaign', severity: 'low' })); // 4
    raise(alert({ sectors: ['finance', 'water'] })); // 5
    hub.publish(feed.append('alert-update', triage(randomUUID()))); // 6

    expect(all.cursors()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(highReal.cursors()).toEqual(['2', '5', '6']);
    expect(campaigns.cursors()).toEqual(['4', '6']);
    expect(water.cursors()).toEqual(['5', '6']);
  });

  it('answers a filter given at connect time, and a subscribe frame at any time, with what it applies', () => {
    const { hub, connect, raise } = setUp();
    const { socket, connection } = connect(analyst(), {
      first: [
        {
          type: 'welcome',
          protocol: 1,
          principal: { subject: 's', organisationId: 'gsoc', sector: 'finance', roles: [] },
        },
      ],
      filter: { kinds: ['campaign', 'campaign'] },
    });
    raise(alert());
    hub.receive(
      connection,
      Buffer.from(JSON.stringify({ type: 'subscribe', filter: { minSeverity: 'critical' } })),
      false,
    );
    raise(alert({ severity: 'high' }));
    raise(alert({ severity: 'critical' }));
    hub.receive(connection, Buffer.from(JSON.stringify({ type: 'subscribe', filter: {} })), false);
    raise(alert({ severity: 'low' }));

    expect(socket.frames().map((frame) => ('cursor' in frame ? position(frame.cursor) : frame.type))).toEqual(
      ['welcome', 'subscribed', 'subscribed', '3', 'subscribed', '4'],
    );
    expect(socket.frames().filter((frame) => frame.type === 'subscribed')).toEqual([
      { type: 'subscribed', filter: { kinds: ['campaign'] } },
      { type: 'subscribed', filter: { minSeverity: 'critical' } },
      { type: 'subscribed', filter: {} },
    ]);
  });
});

describe('StreamHub: resuming from a cursor', () => {
  it('replays what came after the cursor, page by page, then continues live', async () => {
    const feed = new FakeFeed();
    for (let i = 0; i < 10; i += 1) feed.append('alert', alert());
    const { connect, raise } = setUp({ feed, replayPageSize: 3 });
    const { socket, connection } = connect(analyst(), { after: '4' });
    await settle();

    expect(connection.state).toBe('live');
    expect(socket.cursors()).toEqual(['5', '6', '7', '8', '9', '10']);
    raise();
    expect(socket.cursors()).toEqual(['5', '6', '7', '8', '9', '10', '11']);
  });

  it('misses and repeats nothing when events are published while it replays', async () => {
    const feed = new FakeFeed();
    for (let i = 0; i < 5; i += 1) feed.append('alert', alert());
    const { connect, raise } = setUp({ feed, replayPageSize: 2 });
    let release!: () => void;
    const reopen = () => {
      feed.gate = new Promise<void>((resolve) => (release = resolve));
    };
    reopen();
    const live = connect(analyst()).socket;
    const { socket, connection } = connect(analyst(), { after: '1' });

    // Each read is held while the follower publishes more, so every page races the live path.
    for (let round = 0; round < 6; round += 1) {
      raise();
      raise();
      const open = release;
      reopen();
      open();
      await settle();
    }
    feed.gate = undefined;
    release();
    await settle();
    expect(connection.state).toBe('live');
    raise();

    const expected = Array.from({ length: 17 }, (_, i) => String(i + 2));
    expect(socket.cursors()).toEqual(expected);
    expect(live.cursors()).toEqual(expected.slice(4));
  });

  it('reads the feed for at most a few replays at a time', async () => {
    const feed = new FakeFeed();
    for (let i = 0; i < 3; i += 1) feed.append('alert', alert());
    let inFlight = 0;
    let most = 0;
    const slowRead: FeedReader = async (...args) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return feed.read(...args);
    };
    const hub = new StreamHub({
      position: '3',
      readFeed: slowRead,
      maxBufferedBytes: MAX_BUFFERED,
      logger,
      cursors: sealer,
    });
    const sockets = Array.from({ length: 12 }, () => {
      const socket = new FakeSocket();
      hub.connect(analyst(), socket, { after: '0' });
      return socket;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(most).toBe(4);
    for (const socket of sockets) expect(socket.cursors()).toEqual(['1', '2', '3']);
  });

  it('applies the filter to the replay too', async () => {
    const feed = new FakeFeed();
    feed.append('alert', alert({ severity: 'low' }));
    feed.append('alert', alert({ severity: 'critical' }));
    feed.append('alert', alert({ severity: 'medium' }));
    const { connect } = setUp({ feed });
    const { socket } = connect(analyst(), { after: '0', filter: { minSeverity: 'high' } });
    await settle();
    expect(socket.cursors()).toEqual(['2']);
  });

  it('sends nothing the viewer may not see during a replay', async () => {
    const feed = new FakeFeed();
    feed.append('alert', alert({ tlp: 'AMBER' }));
    feed.append('alert-update', triage(randomUUID()));
    feed.append('alert', alert({ tlp: 'GREEN' }));
    const { connect } = setUp({ feed });
    const { socket } = connect(reporter('c-csirt'), { after: '0' });
    await settle();
    expect(socket.cursors()).toEqual(['3']);
  });

  it('says `gap` first when the cursor is older than the feed keeps', async () => {
    const feed = new FakeFeed();
    for (let i = 0; i < 8; i += 1) feed.append('alert', alert());
    feed.prune(5);
    const { connect } = setUp({ feed });
    const { socket } = connect(analyst(), { after: '2' });
    await settle();
    expect(socket.frames()[0]).toEqual({ type: 'gap', after: sealer.seal(2n), resumeFrom: sealer.seal(5n) });
    expect(socket.cursors()).toEqual(['6', '7', '8']);
  });

  it('says `gap` when everything after the cursor is gone', async () => {
    const feed = new FakeFeed();
    for (let i = 0; i < 4; i += 1) feed.append('alert', alert());
    feed.prune(4);
    const { connect, raise } = setUp({ feed });
    const { socket } = connect(analyst(), { after: '1' });
    await settle();
    raise();
    expect(socket.frames().map((frame) => frame.type)).toEqual(['gap', 'alert']);
    expect(socket.frames()[0]).toEqual({ type: 'gap', after: sealer.seal(1n), resumeFrom: sealer.seal(4n) });
    expect(socket.cursors()).toEqual(['5']);
  });

  it('starts at once when the cursor is the hub’s position', async () => {
    const feed = new FakeFeed();
    feed.append('alert', alert());
    const { connect, raise } = setUp({ feed });
    const { socket, connection } = connect(analyst(), { after: '1' });
    expect(connection.state).toBe('live');
    raise();
    expect(socket.cursors()).toEqual(['2']);
    expect(feed.reads).toBe(0);
  });

  it('waits for the hub to reach a cursor another gateway gave out, sending nothing up to it', async () => {
    const { connect, raise } = setUp();
    const { socket, connection } = connect(analyst(), { after: '3' });
    await settle();
    expect(connection.state).toBe('waiting');
    raise();
    raise();
    raise();
    expect(connection.state).toBe('live');
    raise();
    expect(socket.cursors()).toEqual(['4']);
  });

  it('closes with 1011 when the feed cannot be read, so the client resumes later', async () => {
    const feed = new FakeFeed();
    feed.append('alert', alert());
    feed.failWith = new Error('connection terminated');
    const { hub, connect } = setUp({ feed });
    const { socket } = connect(analyst(), { after: '0' });
    await settle();
    expect(socket.closed.map((c) => c.code)).toEqual([CLOSE_CODES.internalError]);
    expect(hub.size).toBe(0);
  });

  it('replays no faster than the client reads', async () => {
    const feed = new FakeFeed();
    for (let i = 0; i < 6; i += 1) feed.append('alert', alert());
    const { connect } = setUp({ feed, replayStallMs: 5_000 });
    const { socket, connection } = connect(analyst(), { after: '0' });
    await settle();
    expect(socket.cursors()).toEqual(['1', '2', '3', '4', '5', '6']);

    const later = new FakeFeed();
    for (let i = 0; i < 6; i += 1) later.append('alert', alert());
    const second = setUp({ feed: later, replayStallMs: 5_000 });
    const slow = second.connect(analyst(), { after: '0' });
    slow.socket.bufferedAmount = MAX_BUFFERED; // over half the limit: the replay waits
    await settle();
    expect(slow.socket.sent).toEqual([]);
    expect(slow.connection.state).toBe('replaying');
    slow.socket.bufferedAmount = 0;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(slow.socket.cursors()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(connection.state).toBe('live');
  });

  it('closes a replay whose client never drains as too slow', async () => {
    const feed = new FakeFeed();
    feed.append('alert', alert());
    const { connect } = setUp({ feed, replayStallMs: 50 });
    const { socket } = connect(analyst(), { after: '0' });
    socket.bufferedAmount = MAX_BUFFERED;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(socket.closed.map((c) => c.code)).toEqual([CLOSE_CODES.tooSlow]);
  });
});

describe('StreamHub: slow clients', () => {
  it('closes a client whose buffer is over the limit with 1013, and the others go on', () => {
    const { hub, connect, raise } = setUp();
    const slow = connect(analyst()).socket;
    const fast = connect(analyst()).socket;
    slow.bufferedAmount = MAX_BUFFERED + 1;

    raise();
    expect(slow.sent).toEqual([]);
    expect(slow.closed).toEqual([{ code: 1013, reason: 'too slow: reconnect and resume from your cursor' }]);
    expect(hub.size).toBe(1);
    raise();
    expect(fast.cursors()).toEqual(['1', '2']);
    expect(slow.closed).toHaveLength(1);
  });

  it('counts connections, frames sent and slow-client disconnects', async () => {
    const metrics = createMetrics('gateway');
    const { connect, raise } = setUp({ metrics });
    const slow = connect(analyst()).socket;
    connect(analyst());
    connect(analyst());
    slow.bufferedAmount = MAX_BUFFERED + 1;
    raise();
    raise();
    const value = async (name: string, labels: Record<string, string> = {}) =>
      (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) =>
        Object.entries(labels).every(([key, label]) => v.labels[key] === label),
      )?.value;
    expect(await value('renkei_stream_connections')).toBe(2);
    expect(await value('renkei_stream_frames_sent_total')).toBe(4);
    expect(await value('renkei_stream_disconnects_total', { reason: 'slow' })).toBe(1);
  });

  it('keeps a client whose buffer is exactly at the limit', () => {
    const { hub, connect, raise } = setUp();
    const { socket } = connect(analyst());
    socket.bufferedAmount = MAX_BUFFERED;
    raise();
    expect(socket.cursors()).toEqual(['1']);
    expect(hub.size).toBe(1);
  });
});

describe('StreamHub: bursts', () => {
  /** A socket whose unsent bytes grow with each send, as a client that reads nothing. */
  class FillingSocket extends FakeSocket {
    override send(data: Buffer): void {
      super.send(data);
      this.bufferedAmount += data.length;
    }
  }
  const raw = () => ({
    corks: 0,
    uncorks: 0,
    cork() {
      this.corks += 1;
    },
    uncork() {
      this.uncorks += 1;
    },
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('holds the frames of one turn of the event loop and writes them out together', async () => {
    const { hub, raise } = setUp();
    const network = raw();
    const socket = new FakeSocket();
    hub.connect(analyst(), socket, { raw: network });
    raise();
    raise();
    raise();
    expect(socket.cursors()).toEqual(['1', '2', '3']);
    expect([network.corks, network.uncorks]).toEqual([1, 0]);
    await tick();
    expect([network.corks, network.uncorks]).toEqual([1, 1]);
    raise();
    await tick();
    expect([network.corks, network.uncorks]).toEqual([2, 2]);
  });

  it('writes out a held socket once 16 KiB wait, so a burst never holds more', () => {
    const { hub, raise } = setUp();
    const network = raw();
    const socket = new FakeSocket();
    hub.connect(analyst(), socket, { raw: network });
    let raised = 0;
    while (network.uncorks === 0) {
      raise(alert({ reasons: ['x'.repeat(1_000)] }));
      raised += 1;
    }
    const bytes = socket.sent.reduce((sum, data) => sum + data.length, 0);
    expect(bytes).toBeGreaterThanOrEqual(16 * 1024);
    expect(bytes - socket.sent.at(-1)!.length).toBeLessThan(16 * 1024);
    raise();
    expect(network.corks).toBe(2);
    expect(raised).toBeGreaterThan(3);
  });

  it('judges slowness by what was unsent when the turn began, not by the burst it is sending', async () => {
    const { hub, raise } = setUp();
    const socket = new FillingSocket();
    hub.connect(analyst(), socket, { raw: raw() });
    // Each frame is over a kilobyte: the second alone passes the limit of 1 KiB.
    raise(alert({ reasons: ['y'.repeat(1_200)] }));
    raise(alert({ reasons: ['y'.repeat(1_200)] }));
    expect(socket.closed).toEqual([]);
    expect(hub.size).toBe(1);
    await tick();
    // A turn later the client has still taken nothing.
    raise();
    expect(socket.closed.map((c) => c.code)).toEqual([1013]);
  });
});

describe('StreamHub: frames from clients', () => {
  it('closes on a binary frame with 1003', () => {
    const { hub, connect } = setUp();
    const { socket, connection } = connect(analyst());
    hub.receive(connection, Buffer.from([1, 2, 3]), true);
    expect(socket.closed.map((c) => c.code)).toEqual([1003]);
    expect(hub.size).toBe(0);
  });

  it('answers an invalid frame with an error naming the problem', () => {
    const { hub, connect } = setUp();
    const { socket, connection } = connect(analyst());
    hub.receive(connection, Buffer.from('{"type":'), false);
    hub.receive(
      connection,
      Buffer.from(JSON.stringify({ type: 'subscribe', filter: { minSeverity: 'huge' } })),
      false,
    );
    hub.receive(connection, Buffer.from(JSON.stringify({ type: 'unsubscribe' })), false);
    hub.receive(
      connection,
      Buffer.from(JSON.stringify({ type: 'subscribe', filter: { colour: 'red' } })),
      false,
    );

    const errors = socket.frames();
    expect(errors.every((frame) => frame.type === 'error' && frame.code === 'RENKEI_INVALID_REQUEST')).toBe(
      true,
    );
    const messages = errors.map((frame) => (frame.type === 'error' ? frame.message : ''));
    expect(messages[0]).toBe('the frame is not JSON');
    expect(messages[1]).toMatch(/^filter\.minSeverity: /);
    expect(messages[2]).toMatch(/^type: /);
    expect(messages[3]).toMatch(/colour/);
    expect(socket.closed).toEqual([]);
  });

  it('closes with 1008 after a flood of invalid frames', () => {
    const { hub, connect } = setUp();
    const { socket, connection } = connect(analyst());
    for (let i = 0; i < 9; i += 1) hub.receive(connection, Buffer.from('nope'), false);
    expect(socket.closed).toEqual([]);
    hub.receive(connection, Buffer.from('nope'), false);
    expect(socket.closed.map((c) => c.code)).toEqual([1008]);
    expect(socket.frames()).toHaveLength(9);
  });
});

describe('StreamHub: heartbeats, access and shutdown', () => {
  it('pings every connection and drops one that did not answer the last ping', () => {
    const { hub, connect } = setUp();
    const answering = connect(analyst());
    const silent = connect(analyst());
    hub.heartbeat();
    expect([answering.socket.pings, silent.socket.pings]).toEqual([1, 1]);
    // Beside each ping, a frame a browser can see.
    expect(answering.socket.frames().filter((frame) => frame.type === 'heartbeat')).toHaveLength(1);
    answering.connection.alive = true; // its pong came back
    hub.heartbeat();
    expect(silent.socket.terminated).toBe(true);
    expect(answering.socket.terminated).toBe(false);
    expect(answering.socket.pings).toBe(2);
    expect(hub.size).toBe(1);
  });

  it('closes with 4401 every connection no longer allowed, and keeps them when the check fails', async () => {
    const { hub, connect } = setUp();
    const expired = connect(reporter('expired-org'));
    const fine = connect(analyst());
    expect(await hub.recheckAccess((p) => p.organisationId !== 'expired-org')).toBe(1);
    expect(expired.socket.closed.map((c) => c.code)).toEqual([4401]);
    expect(fine.socket.closed).toEqual([]);

    expect(
      await hub.recheckAccess(async () => {
        throw new Error('registry away');
      }),
    ).toBe(0);
    expect(fine.socket.closed).toEqual([]);
    expect(hub.size).toBe(1);
  });

  it('closeAll closes every socket, replaying ones too, and empties the hub', async () => {
    const feed = new FakeFeed();
    feed.append('alert', alert());
    feed.gate = new Promise(() => undefined);
    const { hub, connect, raise } = setUp({ feed });
    const sockets = [connect(analyst()), connect(reporter()), connect(analyst(), { after: '0' })].map(
      (c) => c.socket,
    );
    hub.closeAll(CLOSE_CODES.goingAway, 'shutting down');
    expect(hub.size).toBe(0);
    for (const socket of sockets) expect(socket.closed).toEqual([{ code: 1001, reason: 'shutting down' }]);
    raise();
    for (const socket of sockets) expect(socket.sent).toEqual([]);
  });

  it('forgets a disconnected connection and its audience', () => {
    const { hub, connect, raise } = setUp();
    const { socket, connection } = connect(analyst());
    expect(hub.audienceSizes()).toEqual(new Map([['analysts', 1]]));
    hub.disconnect(connection);
    raise();
    expect(socket.sent).toEqual([]);
    expect(hub.audienceSizes()).toEqual(new Map());
  });
});
