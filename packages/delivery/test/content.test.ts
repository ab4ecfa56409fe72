import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FEED_EVENT_SCHEMA, type FeedEvent, type WarningRecord } from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { deliveryContent, deliveryViewer, webhookBody, type RecipientOrganisation } from '../src/index.js';

const financeCeptar: RecipientOrganisation = {
  id: 'finance-ceptar',
  sector: 'finance',
  kind: 'ceptar',
  enabled: true,
};
const telecomCeptar: RecipientOrganisation = {
  id: 'telecom-ceptar',
  sector: 'telecom',
  kind: 'ceptar',
  enabled: true,
};
const gsoc: RecipientOrganisation = { id: 'gsoc', sector: 'central-government', kind: 'gsoc', enabled: true };
const everything = { warnings: true, alertsMinSeverity: 'low' as const, exercise: true };

function warning(overrides: Partial<WarningRecord> = {}): WarningRecord {
  return {
    id: randomUUID(),
    title: 'Phishing wave against banks',
    body: 'Details',
    severity: 'high',
    tlp: 'AMBER',
    sectors: ['finance'],
    indicators: [],
    alertIds: [],
    publishedAt: '2026-12-01T00:00:00.000Z',
    publishedBy: 'analyst-1',
    exercise: false,
    ...overrides,
  };
}

function event(kind: 'warning', payload: WarningRecord): FeedEvent;
function event(kind: 'alert', payload: ReturnType<typeof alertRecordFixture>): FeedEvent;
function event(kind: 'warning' | 'alert', payload: unknown): FeedEvent {
  return {
    schema: FEED_EVENT_SCHEMA,
    position: '7',
    sequencedAt: '2026-12-01T00:00:00.000Z',
    kind,
    payload,
  } as FeedEvent;
}

describe('deliveryViewer', () => {
  it('stands for the organisation with the role its kind of member holds', () => {
    expect(deliveryViewer(financeCeptar).roles).toEqual(['ceptar']);
    expect(deliveryViewer({ ...financeCeptar, kind: 'operator' }).roles).toEqual(['reporter']);
    expect(deliveryViewer(gsoc).roles).toEqual(['analyst']);
  });
});

describe('deliveryContent', () => {
  it("gives a warning to the targeted sector's organisations only, without who published it", () => {
    const record = warning();
    const content = deliveryContent(everything, financeCeptar, event('warning', record));
    expect(content).toMatchObject({ type: 'warning', subjectId: record.id });
    expect(content?.type === 'warning' && 'publishedBy' in content.warning).toBe(false);
    expect(deliveryContent(everything, telecomCeptar, event('warning', record))).toBeNull();
  });

  it('sends nothing to a disabled organisation', () => {
    expect(
      deliveryContent(everything, { ...financeCeptar, enabled: false }, event('warning', warning())),
    ).toBeNull();
  });

  it('honours the selection: warnings, exercise traffic, alert severity', () => {
    const exercise = event('warning', warning({ exercise: true }));
    expect(deliveryContent({ ...everything, exercise: false }, financeCeptar, exercise)).toBeNull();
    expect(deliveryContent(everything, financeCeptar, exercise)).toMatchObject({ exercise: true });
    expect(
      deliveryContent({ ...everything, warnings: false }, financeCeptar, event('warning', warning())),
    ).toBeNull();

    // A non-analyst's severity is recomputed from the contributions it may know of.
    const alert = alertRecordFixture({
      severity: 'medium',
      contributions: ['a-csirt', 'b-csirt'].map((organisationId) =>
        contributionFixture({ organisationId, severity: 'medium' }),
      ),
    });
    const member = { id: 'a-csirt', sector: 'finance', kind: 'agency', enabled: true } as const;
    expect(
      deliveryContent({ ...everything, alertsMinSeverity: 'medium' }, member, event('alert', alert)),
    ).toMatchObject({
      type: 'alert',
    });
    expect(
      deliveryContent({ ...everything, alertsMinSeverity: 'high' }, member, event('alert', alert)),
    ).toBeNull();
    expect(
      deliveryContent({ ...everything, alertsMinSeverity: null }, member, event('alert', alert)),
    ).toBeNull();
  });

  it("carries the organisation's view of an alert: others' RED reports and organisation names left out", () => {
    const alert = alertRecordFixture({
      tlp: 'RED',
      severity: 'critical',
      contributions: [
        contributionFixture({ organisationId: 'a-csirt', tlp: 'GREEN', severity: 'medium' }),
        contributionFixture({ organisationId: 'b-csirt', tlp: 'GREEN', severity: 'medium' }),
        contributionFixture({ organisationId: 'c-csirt', tlp: 'RED', severity: 'critical' }),
      ],
      organisationCount: 3,
    });
    const member = { id: 'a-csirt', sector: 'finance', kind: 'agency', enabled: true } as const;
    const content = deliveryContent(everything, member, event('alert', alert));
    if (content?.type !== 'alert') throw new Error('expected an alert');
    expect(content.alert.organisationCount).toBe(2);
    expect(content.alert.severity).toBe('medium');
    expect(content.alert.tlp).toBe('GREEN');
    expect(JSON.stringify(content)).not.toContain('c-csirt');
    expect(JSON.stringify(content)).not.toContain('b-csirt');
    // The GSOC's endpoint gets the analysts' view.
    const analysts = deliveryContent(everything, gsoc, event('alert', alert));
    expect(analysts?.type === 'alert' && analysts.alert.organisationCount).toBe(3);
  });

  it('sends nothing for an alert only hidden reports changed', () => {
    const member = { id: 'z-csirt', sector: 'finance', kind: 'agency', enabled: true } as const;
    const alert = alertRecordFixture({
      contributions: [
        contributionFixture({ organisationId: 'a-csirt', tlp: 'RED' }),
        contributionFixture({ organisationId: 'b-csirt', tlp: 'AMBER+STRICT' }),
      ],
    });
    expect(deliveryContent(everything, member, event('alert', alert))).toBeNull();
  });
});

describe('webhookBody', () => {
  it('is the same bytes for the same delivery, naming the delivery and endpoint', () => {
    const content = deliveryContent(everything, financeCeptar, event('warning', warning()))!;
    const body = webhookBody('d1', 'e1', content);
    expect(webhookBody('d1', 'e1', JSON.parse(JSON.stringify(content)))).toBe(body);
    expect(JSON.parse(body)).toMatchObject({ deliveryId: 'd1', endpointId: 'e1', type: 'warning' });
  });
});
