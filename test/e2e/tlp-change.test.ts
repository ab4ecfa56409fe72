import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS, readHeader, topicNames } from '@renkei/bus';
import {
  alertDetailSchema,
  alertPageSchema,
  auditEventSchema,
  TLP_CHANGE_SCHEMA,
  tlpChangeMessageSchema,
  type AlertDetail,
  type AlertFrame,
  type Tlp,
} from '@renkei/schema';
import {
  eventually,
  openStream,
  startTestHub,
  TEST_ORGANISATIONS,
  testKafka,
  type StreamClient,
  type TestActors,
  type TestHub,
} from '@renkei/testing';

/**
 * A submitter tightens a report's TLP after its alert went out: three
 * organisations of three sectors share a GREEN indicator, a member of a
 * fourth sector sees the alert; once the railway body tightens its report,
 * the member's next version (REST and stream) no longer knows of it, and once
 * an analyst tightens a second one, the member sees nothing at all.
 */
describe('tightening a report TLP end to end', () => {
  const { gsoc, mlitCsirt, financeCeptar, railCeptar, acmeBank, waterCeptar } = TEST_ORGANISATIONS;

  const ACTORS = {
    analyst: { organisation: gsoc, roles: ['analyst'] },
    admin: { organisation: gsoc, roles: ['admin'] },
    agency: { organisation: mlitCsirt, roles: ['reporter'] },
    finance: { organisation: financeCeptar, roles: ['ceptar'] },
    rail: { organisation: railCeptar, roles: ['ceptar'] },
    bank: { organisation: acmeBank, roles: ['reporter'] },
    water: { organisation: waterCeptar, roles: ['ceptar'] },
  } satisfies TestActors;
  type Actor = keyof typeof ACTORS;
  let hub: TestHub<Actor>;
  let prefix: string;
  let ingestUrl: string;
  let gatewayUrl: string;
  let tokens: Record<Actor, string>;
  const streams = {} as Partial<Record<Actor, StreamClient>>;

  const domain = `tighten-${randomBytes(3).toString('hex')}.example`;
  const reportIds = {} as Record<'agency' | 'finance' | 'rail', string>;
  let alertId: string;

  beforeAll(async () => {
    hub = await startTestHub({
      organisations: [gsoc, mlitCsirt, financeCeptar, railCeptar, acmeBank, waterCeptar],
      actors: ACTORS,
    });
    ({ prefix, ingestUrl, gatewayUrl, tokens } = hub);
    for (const name of ['analyst', 'water'] as const) {
      streams[name] = await openStream(gatewayUrl, tokens[name]);
      await streams[name].next((frame) => frame.type === 'welcome');
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(streams).map((stream) => stream.close()));
    if (hub) expect(await hub.close()).toEqual(hub.services.map(() => 0));
  });

  const call = async (actor: Actor, method: string, url: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${tokens[actor]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const tighten = (actor: Actor, reportId: string, tlp: string) =>
    call(actor, 'POST', `${ingestUrl}/v1/reports/${reportId}/tlp`, { tlp });
  const detail = async (actor: Actor): Promise<AlertDetail | null> => {
    const { status, body } = await call(actor, 'GET', `${gatewayUrl}/v1/alerts/${alertId}`);
    if (status === 404) return null;
    expect(status).toBe(200);
    return alertDetailSchema.parse(body);
  };
  const listed = async (actor: Actor) => {
    const { status, body } = await call(actor, 'GET', `${gatewayUrl}/v1/alerts?limit=200`);
    expect(status).toBe(200);
    return alertPageSchema.parse(body).items.filter((item) => item.id === alertId);
  };
  const alertFrame = (stream: StreamClient, test: (frame: AlertFrame) => boolean) =>
    stream.next(
      (frame) => frame.type === 'alert' && frame.alert.id === alertId && test(frame),
      30_000,
    ) as Promise<AlertFrame>;
  const fieldsOf = (body: Record<string, unknown>) =>
    (body.fields as { field: string }[] | undefined)?.map((entry) => entry.field);

  it('raises a GREEN alert that a member of another sector sees', async () => {
    // Two hours apart: within the window, never a sector surge.
    for (const [index, actor] of (['agency', 'finance', 'rail'] as const).entries()) {
      const { status, body } = await call(actor, 'POST', `${ingestUrl}/v1/reports`, {
        title: `${actor} saw ${domain}`,
        category: 'phishing',
        severity: 'medium',
        tlp: 'GREEN',
        detectedAt: new Date(Date.UTC(2026, 10, 28) + index * 2 * 3_600_000).toISOString(),
        indicators: [{ type: 'domain', value: domain }],
      });
      expect(status).toBe(202);
      reportIds[actor] = body.id as string;
    }
    const full = (await streams.analyst!.next(
      (frame) =>
        frame.type === 'alert' &&
        frame.alert.contributions!.some((contribution) => contribution.reportId === reportIds.rail),
      30_000,
    )) as AlertFrame;
    alertId = full.alert.id;
    expect(full.alert.tlp).toBe('GREEN');

    const seen = await alertFrame(streams.water!, (frame) => frame.alert.organisationCount === 3);
    expect(seen.alert.sectors).toEqual(['central-government', 'finance', 'railway']);
    const [item] = await listed('water');
    expect(item!.organisationCount).toBe(3);
    expect(item!.sectors).toContain('railway');
  });

  it('refuses another organisation (404), a loosening or no change (400 naming tlp), an unknown report (404)', async () => {
    const other = await tighten('bank', reportIds.rail, 'RED');
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('RENKEI_NOT_FOUND');
    // A member that sees the alert still may not act on a report in it.
    expect((await tighten('water', reportIds.rail, 'RED')).status).toBe(404);

    const loosen = await tighten('rail', reportIds.rail, 'CLEAR');
    expect(loosen.status).toBe(400);
    expect(loosen.body.code).toBe('RENKEI_INVALID_REQUEST');
    expect(fieldsOf(loosen.body)).toEqual(['tlp']);

    const same = await tighten('rail', reportIds.rail, 'GREEN');
    expect(same.status).toBe(400);
    expect(fieldsOf(same.body)).toEqual(['tlp']);

    const unknownLabel = await tighten('rail', reportIds.rail, 'PURPLE');
    expect(unknownLabel.status).toBe(400);
    expect(fieldsOf(unknownLabel.body)).toEqual(['tlp']);

    expect((await tighten('rail', randomUUID(), 'RED')).status).toBe(404);
    // An administrator manages the hub; acting on reports is for reporters and analysts.
    expect((await tighten('admin', reportIds.rail, 'RED')).status).toBe(404);
  });

  it("takes a tightened report out of every member's next version, over the stream and REST", async () => {
    const before = (await detail('analyst'))!.alert.version;
    const memberBefore = (await detail('water'))!.alert.version;

    const response = await tighten('rail', reportIds.rail, 'AMBER+STRICT');
    expect(response).toEqual({
      status: 202,
      body: { id: reportIds.rail, tlp: 'AMBER+STRICT', status: 'accepted' },
    });

    const analystFrame = await alertFrame(streams.analyst!, (frame) => frame.alert.version === before + 1);
    expect(analystFrame.alert.tlp).toBe('AMBER+STRICT');
    expect(
      analystFrame.alert.contributions!.find((contribution) => contribution.reportId === reportIds.rail)!.tlp,
    ).toBe('AMBER+STRICT');

    const memberFrame = await alertFrame(streams.water!, (frame) => frame.alert.version === memberBefore + 1);
    expect(memberFrame.alert.organisationCount).toBe(2);
    expect(memberFrame.alert.sectors).toEqual(['central-government', 'finance']);
    expect(memberFrame.alert.tlp).toBe('GREEN');
    expect(JSON.stringify(memberFrame)).not.toContain('railway');

    const member = (await detail('water'))!;
    expect(member.alert.organisationCount).toBe(2);
    expect(member.alert.sectors).not.toContain('railway');
    // The versions it saw before stay as they were; only the new one drops the report.
    expect(member.versions.at(-1)!.organisationCount).toBe(2);
    expect(member.versions.at(-2)!.organisationCount).toBe(3);
    expect(member.versions.at(-2)!.sectors).toContain('railway');
    const [item] = await listed('water');
    expect(item!.organisationCount).toBe(2);
    expect(item!.sectors).not.toContain('railway');

    const followed = await call('rail', 'GET', `${ingestUrl}/v1/reports/${reportIds.rail}`);
    expect(followed.body).toMatchObject({ tlp: 'AMBER+STRICT', report: { tlp: 'GREEN' } });
    // The reporting organisation still sees its own report, now AMBER+STRICT.
    const own = (await detail('rail'))!;
    expect(own.alert.reportIds).toEqual([reportIds.rail]);
    expect(own.alert.tlp).toBe('AMBER+STRICT');
  });

  it('answers a retry again and applies it once; what is tightened stays tightened', async () => {
    const version = (await detail('analyst'))!.alert.version;
    const retry = await tighten('rail', reportIds.rail, 'AMBER+STRICT');
    expect(retry.status).toBe(202);
    // AMBER+STRICT back to AMBER is a loosening, the same-rank leak the issue names.
    const amber = await tighten('rail', reportIds.rail, 'AMBER');
    expect(amber.status).toBe(400);
    expect(fieldsOf(amber.body)).toEqual(['tlp']);

    // Changes to one report share its partition and are applied in order, so had
    // the retry made a version, RED would be two versions on, not one.
    expect((await tighten('rail', reportIds.rail, 'RED')).status).toBe(202);
    const red = await alertFrame(streams.analyst!, (frame) =>
      frame.alert.contributions!.some((c) => c.reportId === reportIds.rail && c.tlp === 'RED'),
    );
    expect(red.alert.version).toBe(version + 1);
  });

  it('lets an analyst tighten any report; a member then sees nothing of the alert', async () => {
    const response = await tighten('analyst', reportIds.finance, 'AMBER');
    expect(response.status).toBe(202);
    await alertFrame(streams.analyst!, (frame) =>
      frame.alert.contributions!.some((c) => c.reportId === reportIds.finance && c.tlp === 'AMBER'),
    );
    // One organisation the member may know of raises nothing: no alert for it.
    await eventually(async () => expect(await detail('water')).toBeNull());
    expect(await listed('water')).toEqual([]);
    // The agency reported the indicator too: the AMBER report counts for it, and only counts.
    const agency = (await detail('agency'))!;
    expect(agency.alert.organisationCount).toBe(2);
    expect(agency.alert.sectors).toEqual(['central-government']);
  });

  it('audits each change once, with who asked and from what to what', async () => {
    const { status, body } = await call('admin', 'GET', `${gatewayUrl}/v1/audit?kind=report.tlp-changed`);
    expect(status).toBe(200);
    const events = (body.items as unknown[]).map((item) => auditEventSchema.parse(item));
    const summary = events
      .map((event) => [event.actor, event.organisationId, event.object, event.details.from, event.details.to])
      .sort((a, b) => String(a[4]).localeCompare(String(b[4])));
    expect(summary).toEqual([
      ['analyst-user', 'gsoc', reportIds.finance, 'GREEN', 'AMBER'],
      ['rail-user', 'rail-ceptar', reportIds.rail, 'GREEN', 'AMBER+STRICT'],
      ['rail-user', 'rail-ceptar', reportIds.rail, 'AMBER+STRICT', 'RED'],
    ]);
  });

  it('carried each change on the reports topic, validated, with the report id in its headers', async () => {
    const topic = topicNames(prefix).reports;
    const kafka = testKafka();
    const consumer = kafka.consumer({ groupId: `${topic}.reader-${randomBytes(4).toString('hex')}` });
    const changes: { header: string | undefined; value: unknown }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (readHeader(message.headers, HEADERS.messageType) !== TLP_CHANGE_SCHEMA) return;
          changes.push({
            header: readHeader(message.headers, HEADERS.reportId),
            value: JSON.parse(message.value!.toString()),
          });
        },
      });
      await eventually(() => expect(changes).toHaveLength(3), { timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    for (const change of changes) {
      const message = tlpChangeMessageSchema.parse(change.value);
      expect(change.header).toBe(message.reportId);
    }
    expect(changes.map((change) => tlpChangeMessageSchema.parse(change.value).tlp).sort()).toEqual([
      'AMBER',
      'AMBER+STRICT',
      'RED',
    ] satisfies Tlp[]);
  });
});
