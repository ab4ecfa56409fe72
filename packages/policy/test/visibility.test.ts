import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FEED_EVENT_SCHEMA,
  serverFrameSchema,
  type FeedEvent,
  type Principal,
  type Role,
  type Sector,
  type WarningRecord,
} from '@renkei/schema';
import { alertRecordFixture } from '@renkei/testing';
import {
  REPORTING_ROLES,
  audienceOf,
  canReadReport,
  isAnalyst,
  viewFeedEvent,
  viewWarning,
  warningSectorFilter,
} from '@renkei/policy';

function viewer(roles: Role[], organisationId = 'acme-bank', sector: Sector = 'finance'): Principal {
  return { subject: `${organisationId}-user`, organisationId, sector, roles };
}

const analyst = viewer(['analyst'], 'gsoc', 'central-government');
const reporter = viewer(['reporter']);
const ceptar = viewer(['ceptar'], 'finance-ceptar');
const railCeptar = viewer(['ceptar'], 'rail-ceptar', 'railway');
const admin = viewer(['admin'], 'gsoc', 'central-government');

describe('roles and audiences', () => {
  it('lets analysts, reporters and CEPTARs report, not administrators alone', () => {
    expect(REPORTING_ROLES).toEqual(['reporter', 'ceptar', 'analyst']);
    expect(isAnalyst(analyst)).toBe(true);
    expect(isAnalyst(admin)).toBe(false);
  });

  it('lets an organisation and analysts read its reports, nobody else', () => {
    expect(canReadReport(reporter, { organisationId: 'acme-bank' })).toBe(true);
    expect(canReadReport(analyst, { organisationId: 'acme-bank' })).toBe(true);
    expect(canReadReport(ceptar, { organisationId: 'acme-bank' })).toBe(false);
  });

  it('puts viewers who must see the same thing in the same audience, and no others', () => {
    expect(audienceOf(analyst)).toBe(audienceOf(viewer(['analyst', 'admin'], 'other-gsoc')));
    expect(audienceOf(reporter)).toBe(audienceOf({ ...reporter, subject: 'someone-else' }));
    expect(new Set([reporter, ceptar, railCeptar, admin, analyst].map(audienceOf)).size).toBe(5);
  });
});

describe('warnings and the stream', () => {
  const warning: WarningRecord = {
    id: randomUUID(),
    title: 'Phishing kit aimed at banks',
    body: 'Block the listed domains.',
    severity: 'high',
    tlp: 'AMBER',
    sectors: ['finance'],
    indicators: [{ type: 'domain', value: 'bank-login.example' }],
    alertIds: [],
    publishedAt: '2026-11-28T00:00:00.000Z',
    publishedBy: 'gsoc-analyst',
    exercise: false,
  };

  it('goes to analysts and to recipients of its sectors only', () => {
    expect(viewWarning(analyst, warning)).not.toBeNull();
    expect(viewWarning(ceptar, warning)).toEqual(expect.objectContaining({ id: warning.id }));
    expect(viewWarning(ceptar, warning)).not.toHaveProperty('publishedBy');
    expect(viewWarning(railCeptar, warning)).toBeNull();
    expect(viewWarning(admin, warning)).toBeNull();
    expect(viewWarning(railCeptar, { ...warning, sectors: 'all' })).not.toBeNull();
  });

  const event = (kind: FeedEvent['kind'], payload: unknown): FeedEvent =>
    ({
      schema: FEED_EVENT_SCHEMA,
      position: '42',
      sequencedAt: '2026-11-28T00:00:00.000Z',
      kind,
      payload,
    }) as FeedEvent;

  it('turns each kind of event into a valid frame for those who may see it', () => {
    const update = {
      alertId: randomUUID(),
      status: 'acknowledged',
      assignee: null,
      note: null,
      by: 'gsoc-analyst',
      at: '2026-11-28T00:00:00.000Z',
    };
    const ack = {
      warningId: warning.id,
      organisationId: 'finance-ceptar',
      by: 'x',
      at: '2026-11-28T00:00:00.000Z',
    };
    const events = [
      event('alert', alertRecordFixture()),
      event('alert-update', update),
      event('warning', warning),
      event('warning-ack', ack),
    ];
    // The gateway gives the cursor: the event's position, sealed.
    const sealed = 'AAAAAAAAAAAAAAAAAAAAAA';
    for (const item of events) {
      const frame = viewFeedEvent(analyst, item, sealed)!;
      expect(serverFrameSchema.parse(frame)).toEqual(frame);
      expect(frame).toMatchObject({ type: item.kind, cursor: sealed });
    }
    // Its own organisation's acknowledgement reaches every user of it; nobody else's does.
    expect(events.map((item) => viewFeedEvent(ceptar, item)?.type ?? null)).toEqual([
      'alert',
      null,
      'warning',
      'warning-ack',
    ]);
    const otherFinanceBody = viewer(['ceptar'], 'finance-isac');
    expect(viewFeedEvent(otherFinanceBody, event('warning-ack', ack))).toBeNull();
    expect(events.map((item) => viewFeedEvent(railCeptar, item)?.type ?? null)).toEqual([
      'alert',
      null,
      null,
      null,
    ]);
  });
});

describe('warningSectorFilter', () => {
  it('fetches everything for analysts, the own sector for recipients, nothing for others', () => {
    expect(warningSectorFilter(analyst)).toBe('all');
    expect(warningSectorFilter(ceptar)).toEqual({ sector: 'finance' });
    expect(warningSectorFilter(railCeptar)).toEqual({ sector: 'railway' });
    expect(warningSectorFilter(admin)).toBe('none');
  });
});
