import { describe, expect, it } from 'vitest';
import type { Principal } from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { summariseAlerts } from '../../src/summary.js';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const analyst: Principal = {
  subject: 'sato',
  organisationId: 'gsoc',
  sector: 'central-government',
  roles: ['analyst'],
};
const member: Principal = {
  subject: 'ito',
  organisationId: 'a-csirt',
  sector: 'finance',
  roles: ['reporter'],
};
const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

describe('summariseAlerts', () => {
  it('counts open real alerts per severity, exercise apart, and closed ones not at all', () => {
    const alerts = [
      { record: alertRecordFixture(), status: 'new' as const },
      { record: alertRecordFixture(), status: 'investigating' as const },
      { record: alertRecordFixture(), status: 'resolved' as const },
      { record: alertRecordFixture({ exercise: true }), status: 'new' as const },
    ];
    const summary = summariseAlerts(analyst, alerts, NOW);
    expect(summary.open).toEqual({ low: 0, medium: 0, high: 2, critical: 0 });
    expect(summary.openExercise).toBe(1);
    expect(summary.total).toBe(4);
  });

  it('gives analysts each report once in the last hour and the heat map of the last day', () => {
    const shared = contributionFixture({
      receivedAt: minutesAgo(10),
      sector: 'telecom',
      category: 'phishing',
    });
    const older = contributionFixture({ organisationId: 'b-csirt', receivedAt: minutesAgo(120) });
    const stale = contributionFixture({ organisationId: 'c-csirt', receivedAt: minutesAgo(60 * 30) });
    const alerts = [
      { record: alertRecordFixture({ contributions: [shared, older] }), status: 'new' as const },
      { record: alertRecordFixture({ contributions: [shared, stale] }), status: 'new' as const },
    ];
    const summary = summariseAlerts(analyst, alerts, NOW);
    expect(summary.reportsLastHour).toBe(1);
    expect(summary.heatMap).toEqual([
      { sector: 'finance', category: 'malware', count: 1 },
      { sector: 'telecom', category: 'phishing', count: 1 },
    ]);
  });

  it('never counts an exercise alert’s reports in the real figures', () => {
    const drill = contributionFixture({ receivedAt: minutesAgo(5), sector: 'electricity', category: 'ddos' });
    const real = contributionFixture({ receivedAt: minutesAgo(5), sector: 'telecom', category: 'phishing' });
    const alerts = [
      { record: alertRecordFixture({ exercise: true, contributions: [drill] }), status: 'new' as const },
      { record: alertRecordFixture({ contributions: [real] }), status: 'new' as const },
    ];
    const summary = summariseAlerts(analyst, alerts, NOW);
    expect(summary.reportsLastHour).toBe(1);
    expect(summary.heatMap).toEqual([{ sector: 'telecom', category: 'phishing', count: 1 }]);
    expect(summary.open).toEqual({ low: 0, medium: 0, high: 1, critical: 0 });
    expect(summary.openExercise).toBe(1);
  });

  it('counts for anyone else from its own view: an alert it may not know of changes nothing', () => {
    const own = alertRecordFixture();
    const hidden = alertRecordFixture({
      tlp: 'RED',
      contributions: [
        contributionFixture({ organisationId: 'b-csirt', tlp: 'RED' }),
        contributionFixture({ organisationId: 'c-csirt', tlp: 'RED' }),
      ],
    });
    const without = summariseAlerts(member, [{ record: own, status: 'new' }], NOW);
    const withHidden = summariseAlerts(
      member,
      [
        { record: own, status: 'new' },
        { record: hidden, status: 'new' },
      ],
      NOW,
    );
    expect(withHidden).toEqual(without);
    expect(without.total).toBe(1);
    expect(without.heatMap).toBeNull();
    expect(without.reportsLastHour).toBeNull();
  });
});
