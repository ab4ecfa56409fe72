import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@renkei/runtime';
import {
  FEED_EVENT_SCHEMA,
  TLP_LEVELS,
  alertRecordSchema,
  serverFrameSchema,
  type AlertContribution,
  type AlertFrame,
  type AlertRecord,
  type Principal,
  type Tlp,
} from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { CLOSE_CODES, StreamHub, type StreamSocket, type Subscriber } from '../../src/stream-hub.js';

class FakeSocket implements StreamSocket {
  bufferedAmount = 0;
  readonly sent: string[] = [];
  readonly closed: { code: number | undefined; reason: string | undefined }[] = [];

  send(data: string): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closed.push({ code, reason });
  }

  /** Every frame sent, checked against the frame schema. */
  frames(): AlertFrame[] {
    return this.sent.map((text) => {
      const frame = serverFrameSchema.parse(JSON.parse(text));
      if (frame.type !== 'alert') throw new Error(`expected an alert frame, got ${frame.type}`);
      return frame;
    });
  }
}

const logger = createLogger('test', 'silent');
const MAX_BUFFERED = 1024;

function newHub(): StreamHub {
  return new StreamHub({ maxBufferedBytes: MAX_BUFFERED, logger });
}

function principal(organisationId: string, roles: Principal['roles']): Principal {
  return { subject: `${organisationId}-user`, organisationId, sector: 'finance', roles };
}

const analyst = principal('gsoc', ['analyst']);
const reporterA = principal('a-csirt', ['reporter']);
const reporterB = principal('b-csirt', ['reporter']);

function subscribe(hub: StreamHub, who: Principal): { socket: FakeSocket; subscriber: Subscriber } {
  const socket = new FakeSocket();
  const subscriber: Subscriber = { principal: who, socket };
  hub.add(subscriber);
  return { socket, subscriber };
}

let nextCursor = 1;

function contribution(organisationId: string, tlp: Tlp): AlertContribution {
  return contributionFixture({ organisationId, tlp });
}

/** Feed positions the tests gave their alerts: the hub takes the cursor beside the record. */
const cursors = new Map<string, string>();

function publish(hub: StreamHub, record: AlertRecord, cursor = cursors.get(record.id)!): number {
  return hub.publish(record, cursor);
}

function alert(overrides: Partial<AlertRecord> = {}): AlertRecord {
  const tlp = overrides.tlp ?? 'GREEN';
  const record = alertRecordFixture({
    tlp,
    indicators: [{ type: 'ipv4', value: '192.0.2.10' }],
    contributions: [contribution('a-csirt', tlp), contribution('b-csirt', tlp)],
    ...overrides,
  });
  const parsed = alertRecordSchema.parse(record);
  cursors.set(parsed.id, String(nextCursor++));
  return parsed;
}

function reportIdsOf(record: AlertRecord, organisationId?: string): string[] {
  return record.contributions
    .filter((c) => organisationId === undefined || c.organisationId === organisationId)
    .map((c) => c.reportId);
}

describe('StreamHub.publish: who sees what', () => {
  it('sends an analyst every alert, whatever its TLP, with every report id', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, analyst);
    const alerts = TLP_LEVELS.map((tlp) => alert({ tlp }));
    for (const record of alerts) expect(publish(hub, record)).toBe(1);

    const frames = socket.frames();
    expect(frames.map((f) => f.alert.id)).toEqual(alerts.map((a) => a.id));
    expect(frames.map((f) => f.alert.tlp)).toEqual([...TLP_LEVELS]);
    for (const [i, frame] of frames.entries()) {
      expect(frame.alert.reportIds).toEqual(reportIdsOf(alerts[i]!));
    }
  });

  it('sends a reporter alerts where the other report is CLEAR, GREEN, or AMBER of an indicator it reported too', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, reporterA);
    const delivered = TLP_LEVELS.map((tlp) => publish(hub, alert({ tlp })));

    expect(delivered).toEqual(TLP_LEVELS.map((tlp) => (tlp === 'AMBER+STRICT' || tlp === 'RED' ? 0 : 1)));
    expect(socket.frames().map((f) => f.alert.tlp)).toEqual(['CLEAR', 'GREEN', 'AMBER']);
  });

  it('sends a bystander only alerts whose reports are all CLEAR or GREEN', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, principal('c-csirt', ['ceptar']));
    for (const tlp of TLP_LEVELS) publish(hub, alert({ tlp }));
    expect(socket.frames().map((f) => f.alert.tlp)).toEqual(['CLEAR', 'GREEN']);
  });

  it('sends warnings to recipients of the targeted sectors and to analysts, and acknowledgements to analysts', () => {
    const hub = newHub();
    const forAnalyst = subscribe(hub, analyst).socket;
    const finance = subscribe(hub, reporterA).socket;
    const water = subscribe(hub, { ...principal('w-ceptar', ['ceptar']), sector: 'water' }).socket;
    const warning = {
      id: randomUUID(),
      title: 'Phishing kit',
      body: 'Block it.',
      severity: 'high' as const,
      tlp: 'GREEN' as const,
      sectors: ['finance' as const],
      indicators: [],
      alertIds: [],
      publishedAt: '2026-11-28T00:00:00.000Z',
      publishedBy: 'gsoc-analyst',
      exercise: false,
    };
    const base = { schema: FEED_EVENT_SCHEMA, sequencedAt: '2026-11-28T00:00:00.000Z' } as const;
    expect(hub.publishEvent({ ...base, position: '7', kind: 'warning', payload: warning })).toBe(2);
    const ack = { warningId: warning.id, organisationId: 'a-csirt', by: 'x', at: '2026-11-28T00:01:00.000Z' };
    expect(hub.publishEvent({ ...base, position: '8', kind: 'warning-ack', payload: ack })).toBe(1);
    expect(forAnalyst.sent.map((text) => JSON.parse(text).type)).toEqual(['warning', 'warning-ack']);
    expect(finance.sent.map((text) => JSON.parse(text).type)).toEqual(['warning']);
    expect(finance.sent[0]).not.toContain('gsoc-analyst');
    expect(water.sent).toEqual([]);
  });

  it("gives a non-analyst only their own organisation's report ids", () => {
    const hub = newHub();
    const a = subscribe(hub, reporterA).socket;
    const b = subscribe(hub, reporterB).socket;
    const outsider = subscribe(hub, principal('c-csirt', ['ceptar'])).socket;
    const record = alert({ tlp: 'CLEAR' });

    expect(publish(hub, record)).toBe(3);
    expect(a.frames()[0]!.alert.reportIds).toEqual(reportIdsOf(record, 'a-csirt'));
    expect(b.frames()[0]!.alert.reportIds).toEqual(reportIdsOf(record, 'b-csirt'));
    expect(outsider.frames()[0]!.alert.reportIds).toEqual([]);
  });

  it('names organisations to analysts only', () => {
    const hub = newHub();
    const { socket: forAnalyst } = subscribe(hub, analyst);
    const { socket: forOthers } = subscribe(hub, principal('c-csirt', ['ceptar']));
    publish(hub, alert());
    expect(forAnalyst.sent[0]).toContain('a-csirt');
    expect(forOthers.sent[0]).not.toContain('a-csirt');
    expect(forOthers.sent[0]).not.toContain('b-csirt');
    expect(forOthers.sent[0]).not.toContain('organisationId');
  });

  it('sends frames that validate as server frames and carry the alert cursor', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, analyst);
    const record = alert();
    publish(hub, record, '9007199254740993');

    expect(socket.sent).toHaveLength(1);
    const parsed = serverFrameSchema.safeParse(JSON.parse(socket.sent[0]!));
    expect(parsed.success).toBe(true);
    const frame = socket.frames()[0]!;
    expect(frame.type).toBe('alert');
    expect(frame.cursor).toBe('9007199254740993');
    expect(frame.alert).toMatchObject({ id: record.id, version: record.version, title: record.title });
  });

  it('returns 0 and sends nothing when nobody is connected', () => {
    expect(publish(newHub(), alert())).toBe(0);
  });
});

describe('StreamHub.publish: versions', () => {
  it('sends the same (id, version) only once', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, analyst);
    const record = alert();

    expect(publish(hub, record)).toBe(1);
    expect(publish(hub, record)).toBe(0);
    expect(publish(hub, record, '999')).toBe(0);
    expect(socket.sent).toHaveLength(1);
  });

  it('sends a newer version', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, analyst);
    const v1 = alert();
    const v2 = alert({ id: v1.id, version: 2, organisationCount: 3 });

    expect(publish(hub, v1)).toBe(1);
    expect(publish(hub, v2)).toBe(1);
    expect(socket.frames().map((f) => [f.alert.id, f.alert.version])).toEqual([
      [v1.id, 1],
      [v1.id, 2],
    ]);
  });

  it('does not send an older version after a newer one', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, analyst);
    const id = randomUUID();

    expect(publish(hub, alert({ id, version: 3 }))).toBe(1);
    expect(publish(hub, alert({ id, version: 2 }))).toBe(0);
    expect(publish(hub, alert({ id, version: 1 }))).toBe(0);
    expect(socket.frames().map((f) => f.alert.version)).toEqual([3]);
  });

  it('tracks versions per alert', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, analyst);
    const first = alert({ version: 5 });
    const second = alert({ version: 1 });

    expect(publish(hub, first)).toBe(1);
    expect(publish(hub, second)).toBe(1);
    expect(socket.frames().map((f) => f.alert.id)).toEqual([first.id, second.id]);
  });

  it('remembers a version even when nobody could see it', () => {
    const hub = newHub();
    const id = randomUUID();
    expect(publish(hub, alert({ id, version: 2 }))).toBe(0);

    const { socket } = subscribe(hub, analyst);
    expect(publish(hub, alert({ id, version: 1 }))).toBe(0);
    expect(publish(hub, alert({ id, version: 3 }))).toBe(1);
    expect(socket.frames().map((f) => f.alert.version)).toEqual([3]);
  });
});

describe('StreamHub: slow clients', () => {
  it('closes a subscriber whose buffer is over the limit with 1013 and removes it', () => {
    const hub = newHub();
    const slow = subscribe(hub, analyst).socket;
    const fast = subscribe(hub, analyst).socket;
    slow.bufferedAmount = MAX_BUFFERED + 1;
    expect(hub.size).toBe(2);

    expect(publish(hub, alert())).toBe(1);
    expect(slow.sent).toEqual([]);
    expect(slow.closed).toHaveLength(1);
    expect(slow.closed[0]!.code).toBe(CLOSE_CODES.tryAgainLater);
    expect(CLOSE_CODES.tryAgainLater).toBe(1013);
    expect(hub.size).toBe(1);
    expect(fast.sent).toHaveLength(1);
    expect(fast.closed).toEqual([]);

    // Removed: later alerts neither reach nor close it again.
    expect(publish(hub, alert())).toBe(1);
    expect(slow.sent).toEqual([]);
    expect(slow.closed).toHaveLength(1);
  });

  it('keeps a subscriber whose buffer is exactly at the limit', () => {
    const hub = newHub();
    const { socket } = subscribe(hub, analyst);
    socket.bufferedAmount = MAX_BUFFERED;

    expect(publish(hub, alert())).toBe(1);
    expect(socket.sent).toHaveLength(1);
    expect(socket.closed).toEqual([]);
    expect(hub.size).toBe(1);
  });

  it('send() refuses and disconnects a slow subscriber', () => {
    const hub = newHub();
    const { socket, subscriber } = subscribe(hub, reporterA);
    const welcome = {
      type: 'welcome' as const,
      protocol: 1 as const,
      principal: { subject: 'a', organisationId: 'a-csirt', sector: 'finance' as const, roles: [] },
    };

    expect(hub.send(subscriber, welcome)).toBe(true);
    expect(serverFrameSchema.parse(JSON.parse(socket.sent[0]!))).toEqual(welcome);

    socket.bufferedAmount = MAX_BUFFERED * 10;
    expect(hub.send(subscriber, welcome)).toBe(false);
    expect(socket.sent).toHaveLength(1);
    expect(socket.closed.map((c) => c.code)).toEqual([1013]);
    expect(hub.size).toBe(0);
  });
});

describe('StreamHub: membership', () => {
  it('stops delivering once the function add() returned is called', () => {
    const hub = newHub();
    const socket = new FakeSocket();
    const remove = hub.add({ principal: analyst, socket });
    const other = subscribe(hub, analyst).socket;
    expect(hub.size).toBe(2);

    expect(publish(hub, alert())).toBe(2);
    remove();
    expect(hub.size).toBe(1);
    expect(publish(hub, alert())).toBe(1);

    expect(socket.sent).toHaveLength(1);
    expect(other.sent).toHaveLength(2);
    expect(socket.closed).toEqual([]);
  });

  it('closeAll closes every socket with the given code and empties the hub', () => {
    const hub = newHub();
    const sockets = [analyst, reporterA, reporterB].map((who) => subscribe(hub, who).socket);
    expect(hub.size).toBe(3);

    hub.closeAll(CLOSE_CODES.goingAway, 'shutting down');

    expect(hub.size).toBe(0);
    for (const socket of sockets) {
      expect(socket.closed).toEqual([{ code: 1001, reason: 'shutting down' }]);
    }
    expect(publish(hub, alert({ tlp: 'CLEAR' }))).toBe(0);
    for (const socket of sockets) expect(socket.sent).toEqual([]);
  });
});

describe('StreamHub.revokeWhere', () => {
  it('closes with 4401 and removes exactly the viewers no longer allowed', () => {
    const hub = newHub();
    const kept = subscribe(hub, analyst).socket;
    const revoked = subscribe(hub, reporterA).socket;
    expect(
      hub.revokeWhere((who) => who.organisationId !== 'a-csirt', CLOSE_CODES.accessRevoked, 'revoked'),
    ).toBe(1);
    expect(revoked.closed).toEqual([{ code: 4401, reason: 'revoked' }]);
    expect(kept.closed).toEqual([]);
    expect(hub.size).toBe(1);
    publish(hub, alert());
    expect(revoked.sent).toEqual([]);
  });
});
