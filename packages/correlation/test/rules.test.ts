import { describe, expect, it } from 'vitest';
import {
  alertIdFor,
  correlateReport,
  correlationKeys,
  overCap,
  surgeDay,
  surgeIsFull,
  DEFAULT_CORRELATION_SETTINGS,
  type MemoryCorrelationState,
} from '@renkei/correlation';
import { alertRecordSchema, decodeAlertPairs } from '@renkei/schema';
import { alertsOf, DAY, facts, hub, incoming, MINUTE } from './support.js';

const WINDOW = DEFAULT_CORRELATION_SETTINGS.windowMs;

describe('shared-indicator', () => {
  it('raises one alert when two organisations report one observable spelled two ways, and grows it', () => {
    const state = hub();
    const first = facts('a-csirt', { sector: 'central-government' });
    expect(state.process(incoming(first, [['url', 'hxxps://Evil[.]Example/x']]))).toEqual([]);
    const second = facts('b-ceptar', { sector: 'finance', at: DAY });
    const [v1] = state.process(incoming(second, [['url', 'https://evil.example/x']]));
    expect(v1!.record).toMatchObject({
      id: alertIdFor(
        correlationKeys.sharedIndicator(false, { type: 'url', value: 'https://evil.example/x' }),
      ),
      version: 1,
      kind: 'shared-indicator',
      indicators: [{ type: 'url', value: 'https://evil.example/x' }],
      organisationCount: 2,
      sectors: ['central-government', 'finance'],
      tooCommon: false,
      history: [{ version: 1, change: 'contribution' }],
    });
    expect(v1!.record.contributions.map((c) => [c.reportId, c.addedInVersion])).toEqual([
      [first.reportId, 1],
      [second.reportId, 1],
    ]);
    // The URLs' shared host adds nothing to the URL match: no second alert for it, no campaign.
    expect(alertsOf(state)).toHaveLength(1);

    const third = facts('c-csirt', { sector: 'finance', at: 2 * DAY });
    const [v2] = state.process(incoming(third, [['url', 'HTTPS://EVIL.EXAMPLE:443/x']]));
    expect(v2!.record).toMatchObject({ id: v1!.record.id, version: 2, organisationCount: 3 });
    expect(v2!.record.contributions.map((c) => c.addedInVersion)).toEqual([1, 1, 2]);
    expect(v2!.record.createdAt).toBe(v1!.record.createdAt);
    expect(v2!.record.reasons[0]).toBe(
      '3 organisations in 2 sectors (central-government, finance) reported url https://evil.example/x',
    );
  });

  it('gives records that serialise as plain ones: every field, in the schema’s order, words included', () => {
    const state = hub();
    state.process(incoming(facts('a-csirt'), [['domain', 'c2.example']]));
    const [v1] = state.process(
      incoming(facts('b-ceptar', { sector: 'finance' }), [['domain', 'c2.example']]),
    );
    const json = JSON.parse(JSON.stringify(v1!.record)) as Record<string, unknown>;
    // The words are worked out when read (build.ts), so they are there once serialised.
    expect(json).toEqual({ ...v1!.record });
    expect(Object.keys(json)).toEqual(Object.keys(alertRecordSchema.parse(json)));
    expect(json).toMatchObject({ severity: 'medium', tlp: 'GREEN', organisationCount: 2 });
    expect(json.title).toBe('domain c2.example reported by 2 organisations in 1 sector');
  });

  it('never correlates reports of one organisation, however many', () => {
    const state = hub();
    for (let i = 0; i < 5; i += 1)
      state.process(incoming(facts('a-csirt', { at: i * DAY }), [['domain', 'c2.example']]));
    expect(alertsOf(state)).toEqual([]);
  });

  it.each([
    ['exactly one window apart', WINDOW, 1],
    ['one millisecond more', WINDOW + 1, 0],
    ['30 days apart', 30 * DAY, 0],
    ['one window before', -WINDOW, 1],
  ])('sightings %s give %i alerts', (_what, gap, expected) => {
    const state = hub();
    state.process(incoming(facts('a-csirt', { at: 0 }), [['ipv4', '45.33.32.156']]));
    state.process(incoming(facts('b-ceptar', { at: gap }), [['ipv4', '45.33.32.156']]));
    expect(alertsOf(state)).toHaveLength(expected);
  });

  it('joins a report that is within the window of any other organisation', () => {
    const state = hub();
    const a = facts('a-csirt', { at: 0 });
    const c = facts('c-csirt', { at: 20 * DAY });
    const b = facts('b-ceptar', { at: 10 * DAY });
    state.process(incoming(a, [['domain', 'bridge.example']]));
    state.process(incoming(c, [['domain', 'bridge.example']]));
    expect(alertsOf(state)).toEqual([]);
    state.process(incoming(b, [['domain', 'bridge.example']]));
    const [alert] = alertsOf(state);
    expect(alert!.contributions.map((x) => x.reportId)).toEqual([a.reportId, b.reportId, c.reportId]);
  });

  it('rises in severity with organisations and sectors', () => {
    const state = hub();
    const severities: string[] = [];
    const orgs = [
      ['a-csirt', 'finance'],
      ['b-csirt', 'finance'],
      ['c-csirt', 'finance'],
      ['d-csirt', 'water'],
      ['e-csirt', 'water'],
    ] as const;
    for (const [i, [org, sector]] of orgs.entries()) {
      const writes = state.process(
        incoming(facts(org, { sector, at: i * MINUTE }), [['md5', 'c4ca4238a0b923820dcc509a6f75849b']]),
      );
      severities.push(...writes.map((w) => w.record.severity));
    }
    expect(severities).toEqual(['medium', 'high', 'high', 'critical']);
  });

  it('keeps a reported severity higher than the spread', () => {
    const state = hub();
    state.process(incoming(facts('a-csirt', { severity: 'critical' }), [['cve', 'CVE-2024-3400']]));
    const [write] = state.process(incoming(facts('b-csirt'), [['cve', 'cve-2024-3400']]));
    expect(write!.record.severity).toBe('critical');
    expect(write!.record.tlp).toBe('GREEN');
  });

  it('keeps exercise and real reports apart', () => {
    const state = hub();
    state.process(incoming(facts('a-csirt'), [['domain', 'drill.example']]));
    state.process(incoming(facts('b-csirt', { exercise: true }), [['domain', 'drill.example']]));
    expect(alertsOf(state)).toEqual([]);
    const [write] = state.process(
      incoming(facts('c-csirt', { exercise: true }), [['domain', 'drill.example']]),
    );
    expect(write!.record.exercise).toBe(true);
    expect(write!.record.title).toMatch(/^\[EXERCISE\] /);
    expect(write!.record.id).toBe(
      alertIdFor(correlationKeys.sharedIndicator(true, { type: 'domain', value: 'drill.example' })),
    );
    expect(write!.record.contributions.map((c) => c.organisationId).sort()).toEqual(['b-csirt', 'c-csirt']);
  });

  it('correlates a URL host with a reported domain, marking the derived contribution', () => {
    const state = hub();
    state.process(incoming(facts('a-csirt'), [['url', 'https://evil.example/login']]));
    const [write] = state.process(incoming(facts('b-csirt'), [['domain', 'evil.example']]));
    expect(write!.record.kind).toBe('shared-indicator');
    expect(write!.record.contributions.map((c) => c.indicators)).toEqual([
      [{ type: 'domain', value: 'evil.example', derived: true }],
      [{ type: 'domain', value: 'evil.example' }],
    ]);
  });

  it('correlates two different URLs on one host through the host', () => {
    const state = hub();
    state.process(incoming(facts('a-csirt'), [['url', 'https://evil.example/a']]));
    const writes = state.process(incoming(facts('b-csirt'), [['url', 'https://evil.example/b']]));
    expect(writes.map((w) => w.record.indicators)).toEqual([
      [{ type: 'domain', value: 'evil.example', derived: true }],
    ]);
    expect(writes[0]!.record.reasons).toContain('seen as the host of reported URLs');
  });
});

describe('the over-correlation cap', () => {
  const indicator = [['ipv4', '45.33.32.156']] as const;

  it('marks the alert too common when a window holds more organisations than the cap, then stops', () => {
    const state = hub({ tooCommonOrganisations: 3 });
    const versions = [1, 2, 3, 4, 5].map((i) =>
      state
        .process(incoming(facts(`org-${i}`, { at: i * DAY }), indicator))
        .map((w) => [w.record.version, w.record.history.at(-1)!.change]),
    );
    expect(versions).toEqual([[], [[1, 'contribution']], [[2, 'contribution']], [[3, 'too-common']], []]);
    const [alert] = alertsOf(state);
    expect(alert!.tooCommon).toBe(true);
    expect(alert!.organisationCount).toBe(3);
    expect(alert!.reasons.at(-1)).toContain('too common');
  });

  it('counts organisations within one window, not over all time', () => {
    const state = hub({ tooCommonOrganisations: 3 });
    for (let i = 0; i < 6; i += 1) state.process(incoming(facts(`org-${i}`, { at: i * 8 * DAY }), indicator));
    const [alert] = alertsOf(state);
    expect(alert!.tooCommon).toBe(false);
    expect(alert!.organisationCount).toBe(6);
  });

  it('bounds an alert by the number of reports it holds', () => {
    const state = hub({ maxContributions: 4 });
    for (let i = 0; i < 4; i += 1)
      state.process(incoming(facts(i % 2 ? 'a-csirt' : 'b-csirt', { at: i * 10 * DAY }), indicator));
    expect(alertsOf(state)[0]!.tooCommon).toBe(false);
    expect(alertsOf(state)[0]!.contributions).toHaveLength(4);
    const writes = state.process(incoming(facts('b-csirt', { at: 40 * DAY }), indicator));
    expect(writes.map((w) => w.record.history.at(-1)!.change)).toEqual(['too-common']);
    expect(alertsOf(state)[0]!.contributions).toHaveLength(4);
  });

  it('gives an alert born past the cap its reports, then marks it', () => {
    const state = hub({ tooCommonOrganisations: 2 });
    // Three organisations report one URL: its host never correlates on its own, but passes the cap.
    for (let i = 0; i < 3; i += 1)
      state.process(incoming(facts(`org-${i}`), [['url', 'https://cdn.example/x']]));
    const host = correlationKeys.sharedIndicator(false, { type: 'domain', value: 'cdn.example' });
    expect(state.alert(host)).toBeUndefined();
    expect(state.isTooCommon('domain:cdn.example', false)).toBe(true);
    const writes = state.process(incoming(facts('org-9'), [['domain', 'cdn.example']]));
    const hostWrites = writes.filter((w) => w.correlationKey === host);
    expect(
      hostWrites.map((w) => [w.record.version, w.record.history.at(-1)!.change, w.record.tooCommon]),
    ).toEqual([
      [1, 'contribution', false],
      [2, 'too-common', true],
    ]);
  });

  it('finds the busiest window holding the new sighting', () => {
    const settings = { ...DEFAULT_CORRELATION_SETTINGS, tooCommonOrganisations: 2 };
    const at = (org: string, day: number) => ({
      key: 'k',
      indicator: { type: 'domain' as const, value: 'k.example' },
      report: facts(org, { at: day * DAY }),
      written: true,
      hostOf: [],
    });
    const rows = [at('a', 0), at('b', 14), at('c', 14)];
    expect(overCap(rows, Date.parse(rows[1]!.report.detectedAt), settings)).toBe(true);
    expect(
      overCap([at('a', 0), at('b', 14), at('c', 28)], Date.parse(at('x', 28).report.detectedAt), settings),
    ).toBe(false);
  });
});

describe('campaign', () => {
  it('joins reports of two organisations sharing two indicators, referencing the per-indicator alerts', () => {
    const state = hub();
    const a = facts('a-csirt', { sector: 'central-government' });
    const b = facts('b-ceptar', { sector: 'finance', at: 3 * DAY });
    state.process(
      incoming(a, [
        ['domain', 'c2.example'],
        ['ipv4', '45.33.32.156'],
        ['md5', 'c4ca4238a0b923820dcc509a6f75849b'],
      ]),
    );
    state.process(
      incoming(b, [
        ['domain', 'C2.example'],
        ['ipv4', '45.33.32.156'],
      ]),
    );
    const [campaign] = alertsOf(state, 'campaign');
    expect(campaign).toMatchObject({
      indicators: [
        { type: 'domain', value: 'c2.example' },
        { type: 'ipv4', value: '45.33.32.156' },
      ],
      organisationCount: 2,
      id: alertIdFor(correlationKeys.campaign(false, 'domain:c2.example')),
    });
    const perIndicator = alertsOf(state, 'shared-indicator')
      .map((alert) => alert.id)
      .sort();
    expect(perIndicator).toHaveLength(2);
    expect(campaign!.relatedAlertIds).toEqual(perIndicator);
    expect(campaign!.contributions.map((c) => c.indicators.length)).toEqual([2, 2]);
  });

  it('is not formed by organisations that share only unrelated single indicators across reports', () => {
    const state = hub();
    state.process(incoming(facts('a-csirt'), [['domain', 'one.example']]));
    state.process(incoming(facts('a-csirt'), [['domain', 'two.example']]));
    state.process(
      incoming(facts('b-csirt'), [
        ['domain', 'one.example'],
        ['domain', 'other.example'],
      ]),
    );
    state.process(
      incoming(facts('b-csirt'), [
        ['domain', 'two.example'],
        ['domain', 'else.example'],
      ]),
    );
    expect(alertsOf(state, 'shared-indicator')).toHaveLength(2);
    expect(alertsOf(state, 'campaign')).toEqual([]);
  });

  it('grows with a third organisation, and keeps to the window and the exercise flag', () => {
    const state = hub();
    const pair = [
      ['domain', 'kit.example'],
      ['sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ] as const;
    state.process(incoming(facts('a-csirt'), pair));
    state.process(incoming(facts('b-csirt', { at: DAY }), pair));
    state.process(incoming(facts('c-csirt', { at: 2 * DAY }), pair));
    state.process(incoming(facts('d-csirt', { at: 40 * DAY }), pair));
    state.process(incoming(facts('e-csirt', { exercise: true }), pair));
    const [campaign] = alertsOf(state, 'campaign');
    expect(campaign!.version).toBe(2);
    expect(campaign!.contributions.map((c) => c.organisationId)).toEqual(['a-csirt', 'b-csirt', 'c-csirt']);
  });

  it('lists the pairs filed under it, not every two of its reports that share indicators', () => {
    const state = hub();
    const alpha = ['domain', 'c2-alpha.example'] as const;
    const charlie = ['domain', 'c2-charlie.example'] as const;
    const delta = ['domain', 'c2-delta.example'] as const;
    const a = facts('a-csirt', { at: 0 });
    const b = facts('b-csirt', { at: DAY });
    const c = facts('c-csirt', { at: 2 * DAY });
    state.process(incoming(a, [alpha, charlie, delta]));
    state.process(incoming(b, [alpha, charlie, delta]));
    state.process(incoming(c, [charlie, delta]));
    const byAnchor = (anchor: string) =>
      alertsOf(state, 'campaign').find(
        (alert) => alert.id === alertIdFor(correlationKeys.campaign(false, anchor)),
      )!;
    const pairsOf = (alert: ReturnType<typeof byAnchor>) =>
      decodeAlertPairs(alert.contributions.length, alert.pairs!).map(([i, j]) => [
        alert.contributions[i]!.reportId,
        alert.contributions[j]!.reportId,
      ]);
    // a and b share c2-alpha, smaller than c2-charlie: their pair belongs to the c2-alpha campaign,
    // though both are in c2-charlie's through c.
    expect(pairsOf(byAnchor('domain:c2-alpha.example'))).toEqual([[a.reportId, b.reportId]]);
    const charlieCampaign = byAnchor('domain:c2-charlie.example');
    expect(charlieCampaign.contributions.map((x) => x.reportId)).toEqual([
      a.reportId,
      b.reportId,
      c.reportId,
    ]);
    expect(pairsOf(charlieCampaign)).toEqual([
      [a.reportId, c.reportId],
      [b.reportId, c.reportId],
    ]);
    expect(alertsOf(state, 'shared-indicator').every((alert) => alert.pairs === undefined)).toBe(true);
  });

  it('does not count a URL and its own host as two shared indicators', () => {
    const state = hub();
    state.process(
      incoming(facts('a-csirt'), [
        ['url', 'https://evil.example/a'],
        ['domain', 'evil.example'],
      ]),
    );
    state.process(incoming(facts('b-csirt'), [['url', 'https://evil.example/a']]));
    expect(alertsOf(state, 'campaign')).toEqual([]);
  });
});

describe('sector-surge', () => {
  const surge = (count: number, spacing: number, options: Parameters<typeof facts>[1] = {}) => {
    const state = hub();
    for (let i = 0; i < count; i += 1) {
      state.process(
        incoming(facts(`org-${i % 3}`, { category: 'phishing', at: i * spacing, ...options }), []),
      );
    }
    return state;
  };

  it('is raised by five reports of one category from one sector within an hour, from any organisations', () => {
    const [alert] = alertsOf(surge(5, 10 * MINUTE), 'sector-surge');
    expect(alert).toMatchObject({ version: 1, sectors: ['finance'], organisationCount: 3, indicators: [] });
    expect(alert!.contributions).toHaveLength(5);
    expect(alert!.title).toBe('Surge: 5 phishing reports from finance on 2026-11-01');
  });

  it('needs five: four raise nothing, a sixth gives a new version', () => {
    expect(alertsOf(surge(4, 10 * MINUTE))).toEqual([]);
    expect(alertsOf(surge(6, 10 * MINUTE))[0]!.version).toBe(2);
  });

  it.each([
    ['spanning exactly 60 minutes', 15 * MINUTE, 1],
    ['spanning one millisecond more', 15 * MINUTE + 1, 0],
  ])('five reports %s raise %i', (_what, spacing, expected) => {
    expect(alertsOf(surge(5, spacing))).toHaveLength(expected);
  });

  it('counts neither other categories nor other sectors nor exercises', () => {
    const state = hub();
    const categories = ['phishing', 'phishing', 'phishing', 'malware', 'phishing'] as const;
    for (const [i, category] of categories.entries())
      state.process(incoming(facts('a-csirt', { category, at: i * MINUTE }), []));
    state.process(incoming(facts('b-csirt', { category: 'phishing', sector: 'water', at: 5 * MINUTE }), []));
    state.process(incoming(facts('b-csirt', { category: 'phishing', exercise: true, at: 6 * MINUTE }), []));
    expect(alertsOf(state)).toEqual([]);
  });

  it('once full, reads nothing of its sector: every surge a report could join stays too common', () => {
    const state = hub({ maxContributions: 6 });
    for (let i = 0; i < 8; i += 1) {
      state.process(incoming(facts(`org-${i % 3}`, { category: 'phishing', at: i * MINUTE }), []));
    }
    const [full] = alertsOf(state, 'sector-surge');
    expect(full).toMatchObject({ tooCommon: true });
    const late = facts('org-9', { category: 'phishing', at: 9 * MINUTE });
    expect(surgeIsFull(late, state, state.settings)).toBe(true);
    // The next day's surge is still open: a report near midnight could join it.
    const nearMidnight = facts('org-9', { category: 'phishing', at: 15 * 60 * MINUTE - 30 * MINUTE });
    expect(surgeIsFull(nearMidnight, state, state.settings)).toBe(false);

    const unread = Object.assign(Object.create(state) as MemoryCorrelationState, {
      sectorReports: () => {
        throw new Error('the sector was read');
      },
    });
    expect(correlateReport(incoming(late, []), unread, state.settings)).toEqual({
      writes: [],
      tooCommon: [],
    });
    expect(() => correlateReport(incoming(nearMidnight, []), unread, state.settings)).toThrow(
      'the sector was read',
    );
  });

  it('keeps one alert per sector, category and day (from midnight in the configured offset)', () => {
    const settings = DEFAULT_CORRELATION_SETTINGS;
    expect(surgeDay('2026-11-01T14:59:59.999Z', settings)).toBe('2026-11-01');
    expect(surgeDay('2026-11-01T15:00:00.000Z', settings)).toBe('2026-11-02');
    const state = surge(5, 10 * MINUTE, { sector: 'water' });
    expect(alertsOf(state)[0]!.id).toBe(
      alertIdFor(correlationKeys.sectorSurge(false, 'water', 'phishing', '2026-11-01')),
    );
  });
});

describe('watchlist-match', () => {
  const entry = (
    overrides: Partial<{ createdAt: string; expiresAt: string | null; removedAt: string | null }> = {},
  ) => ({
    id: '11111111-1111-4111-8111-111111111111',
    indicator: { type: 'domain' as const, value: 'watched.example' },
    createdAt: '2026-11-01T00:00:00.000Z',
    expiresAt: null,
    removedAt: null,
    ...overrides,
  });

  it('raises an alert per entry from a single report, updated by more reports', () => {
    const state = hub();
    state.addWatchlistEntry(entry());
    const [first] = state.process(
      incoming(facts('a-csirt', { at: DAY }), [['url', 'https://Watched.example/x']]),
    );
    expect(first!.record).toMatchObject({
      kind: 'watchlist-match',
      version: 1,
      watchlistEntryId: entry().id,
      organisationCount: 1,
      indicators: [{ type: 'domain', value: 'watched.example' }],
    });
    const [second] = state.process(
      incoming(facts('a-csirt', { at: 2 * DAY }), [['domain', 'watched.example']]),
    );
    expect(second!.record.version).toBe(2);
  });

  it('matches reports already stored within the window when the entry is added', () => {
    const state = hub();
    const inWindow = facts('a-csirt', { at: -10 * DAY });
    state.process(incoming(inWindow, [['domain', 'watched.example']]));
    state.process(incoming(facts('b-csirt', { at: -20 * DAY }), [['domain', 'watched.example']]));
    state.process(incoming(facts('c-csirt', { at: -DAY, exercise: true }), [['domain', 'watched.example']]));
    const writes = state.addWatchlistEntry(entry());
    expect(writes.map((w) => [w.record.exercise, w.record.contributions.map((c) => c.reportId)])).toEqual([
      [false, [inWindow.reportId]],
      [true, [expect.any(String)]],
    ]);
  });

  it('matches nothing received after the entry expired or was removed', () => {
    const state = hub();
    state.addWatchlistEntry(entry({ expiresAt: '2026-11-02T00:00:00.000Z' }));
    state.process(incoming(facts('a-csirt', { at: 2 * DAY }), [['domain', 'watched.example']]));
    expect(alertsOf(state)).toEqual([]);
  });
});
