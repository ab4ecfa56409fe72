import { describe, expect, it } from 'vitest';
import {
  ALERT_RECORD_SCHEMA,
  alertRecordSchema,
  type AlertContribution,
  type Sector,
  type Severity,
  type Tlp,
} from '@renkei/schema';
import {
  SHARED_INDICATOR,
  evaluateSharedIndicator,
  nameBasedId,
  sharedIndicatorKey,
  type SharedIndicatorInput,
  type Sighting,
} from '@renkei/correlation';

const NOW = '2024-04-12T10:00:00.000Z';
const LATER = '2024-04-12T11:00:00.000Z';
const INDICATOR = { type: 'domain', value: 'evil.example' } as const;

function reportId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function sighting(
  n: number,
  organisationId: string,
  overrides: Partial<{ sector: Sector; tlp: Tlp; severity: Severity; receivedAt: string }> = {},
): Sighting {
  return {
    reportId: reportId(n),
    organisationId,
    sector: 'finance',
    tlp: 'GREEN',
    severity: 'medium',
    category: 'malware',
    detectedAt: '2024-04-12T00:00:00.000Z',
    receivedAt: `2024-04-12T0${n % 10}:00:00.000Z`,
    ...overrides,
  };
}

function contribution(of: Sighting, addedInVersion: number): AlertContribution {
  return { ...of, indicators: [INDICATOR], addedInVersion };
}

function input(
  sightings: readonly Sighting[],
  overrides: Partial<SharedIndicatorInput> = {},
): SharedIndicatorInput {
  return { indicator: INDICATOR, exercise: false, sightings, previous: undefined, now: NOW, ...overrides };
}

/** A deterministic shuffle (Fisher–Yates driven by a small LCG). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('sharedIndicatorKey', () => {
  it('keeps exercise and live apart', () => {
    expect(sharedIndicatorKey(false, 'domain', 'evil.example')).toBe(
      'shared-indicator:live:domain:evil.example',
    );
    expect(sharedIndicatorKey(true, 'domain', 'evil.example')).toBe(
      'shared-indicator:exercise:domain:evil.example',
    );
  });

  it('differs by type and value', () => {
    const keys = new Set([
      sharedIndicatorKey(false, 'domain', 'a.example'),
      sharedIndicatorKey(false, 'domain', 'b.example'),
      sharedIndicatorKey(false, 'url', 'a.example'),
    ]);
    expect(keys.size).toBe(3);
  });
});

describe('evaluateSharedIndicator', () => {
  it('needs at least two organisations', () => {
    expect(SHARED_INDICATOR.minimumOrganisations).toBe(2);
  });

  it('raises nothing with no sightings', () => {
    expect(evaluateSharedIndicator(input([]))).toBeUndefined();
  });

  it('raises nothing for one organisation', () => {
    expect(evaluateSharedIndicator(input([sighting(1, 'acme-bank')]))).toBeUndefined();
  });

  it('raises nothing for several reports from the same organisation', () => {
    const sightings = [sighting(1, 'acme-bank'), sighting(2, 'acme-bank'), sighting(3, 'acme-bank')];
    expect(evaluateSharedIndicator(input(sightings))).toBeUndefined();
  });

  it('raises nothing when the only sightings are one report seen twice', () => {
    const sightings = [sighting(1, 'acme-bank'), { ...sighting(1, 'acme-bank') }];
    expect(evaluateSharedIndicator(input(sightings))).toBeUndefined();
  });

  describe('with two organisations', () => {
    const first = sighting(1, 'acme-bank', { sector: 'finance', tlp: 'GREEN', severity: 'low' });
    const second = sighting(2, 'north-rail', { sector: 'railway', tlp: 'AMBER', severity: 'high' });
    const draft = evaluateSharedIndicator(input([second, first]))!;

    it('raises version 1 under the name-based id of its key', () => {
      expect(draft).toBeDefined();
      expect(draft.version).toBe(1);
      expect(draft.id).toBe(nameBasedId(sharedIndicatorKey(false, 'domain', 'evil.example')));
      expect(draft.kind).toBe('shared-indicator');
    });

    it('counts organisations and lists distinct sectors sorted', () => {
      expect(draft.organisationCount).toBe(2);
      expect(draft.sectors).toEqual(['finance', 'railway']);
    });

    it('takes the most restrictive TLP and the highest severity', () => {
      expect(draft.tlp).toBe('AMBER');
      expect(draft.severity).toBe('high');
    });

    it('orders contributions by receivedAt, each carrying the indicator and the version that added it', () => {
      expect(draft.contributions).toEqual([
        { ...first, indicators: [INDICATOR], addedInVersion: 1 },
        { ...second, indicators: [INDICATOR], addedInVersion: 1 },
      ]);
    });

    it('stamps createdAt and updatedAt with now', () => {
      expect(draft.createdAt).toBe(NOW);
      expect(draft.updatedAt).toBe(NOW);
    });

    it('carries the indicator and mentions it in the title', () => {
      expect(draft.indicators).toEqual([{ type: 'domain', value: 'evil.example' }]);
      expect(draft.title).toContain('evil.example');
      expect(draft.title).toContain('domain');
      expect(draft.title).toBe('domain evil.example reported by 2 organisations in 2 sectors');
      expect(draft.exercise).toBe(false);
    });

    it('is a valid alert record once the store adds the schema tag', () => {
      const record = alertRecordSchema.parse({ ...draft, schema: ALERT_RECORD_SCHEMA });
      expect(record.id).toBe(draft.id);
    });
  });

  it('says "sector" for one sector', () => {
    const draft = evaluateSharedIndicator(input([sighting(1, 'acme-bank'), sighting(2, 'beta-bank')]))!;
    expect(draft.sectors).toEqual(['finance']);
    expect(draft.title).toBe('domain evil.example reported by 2 organisations in 1 sector');
  });

  it('counts distinct organisations, not reports', () => {
    const draft = evaluateSharedIndicator(
      input([sighting(1, 'acme-bank'), sighting(2, 'acme-bank'), sighting(3, 'beta-bank')]),
    )!;
    expect(draft.organisationCount).toBe(2);
    expect(draft.contributions).toHaveLength(3);
  });

  it('sorts sectors alphabetically and without repeats', () => {
    const draft = evaluateSharedIndicator(
      input([
        sighting(1, 'w-1', { sector: 'water' }),
        sighting(2, 'a-1', { sector: 'aviation' }),
        sighting(3, 'w-2', { sector: 'water' }),
        sighting(4, 'e-1', { sector: 'electricity' }),
      ]),
    )!;
    expect(draft.sectors).toEqual(['aviation', 'electricity', 'water']);
    expect(draft.organisationCount).toBe(4);
  });

  it('orders contributions received at the same moment by report id', () => {
    const at = '2024-04-12T05:00:00.000Z';
    const sightings = [
      sighting(3, 'c-org', { receivedAt: at }),
      sighting(1, 'a-org', { receivedAt: at }),
      sighting(2, 'b-org', { receivedAt: '2024-04-12T04:00:00.000Z' }),
    ];
    const draft = evaluateSharedIndicator(input(sightings))!;
    expect(draft.contributions.map((c) => c.reportId)).toEqual([reportId(2), reportId(1), reportId(3)]);
  });

  it('collapses duplicate sightings of one report', () => {
    const a = sighting(1, 'acme-bank');
    const b = sighting(2, 'beta-bank');
    const draft = evaluateSharedIndicator(input([a, b, { ...a }, { ...b }, { ...a }]))!;
    expect(draft.contributions.map((c) => c.reportId)).toEqual([reportId(1), reportId(2)]);
    expect(draft.organisationCount).toBe(2);
  });

  it('raises nothing when the previous version has the same reports', () => {
    const sightings = [sighting(1, 'acme-bank'), sighting(2, 'beta-bank')];
    const v1 = evaluateSharedIndicator(input(sightings))!;
    const again = evaluateSharedIndicator(
      input([...sightings].reverse(), {
        previous: v1,
        now: LATER,
      }),
    );
    expect(again).toBeUndefined();
  });

  it('raises nothing when only duplicates of already-seen reports arrive', () => {
    const sightings = [sighting(1, 'acme-bank'), sighting(2, 'beta-bank')];
    const v1 = evaluateSharedIndicator(input(sightings))!;
    const again = evaluateSharedIndicator(
      input([...sightings, { ...sightings[0]! }], { previous: { ...v1, version: 4 }, now: LATER }),
    );
    expect(again).toBeUndefined();
  });

  it('raises the next version when a new report joins, keeping createdAt', () => {
    const v1 = evaluateSharedIndicator(input([sighting(1, 'acme-bank'), sighting(2, 'beta-bank')]))!;
    const third = sighting(3, 'gamma-rail', { sector: 'railway', tlp: 'RED', severity: 'critical' });
    const v2 = evaluateSharedIndicator(
      input([sighting(1, 'acme-bank'), sighting(2, 'beta-bank'), third], {
        previous: v1,
        now: LATER,
      }),
    )!;
    expect(v2).toBeDefined();
    expect(v2.id).toBe(v1.id);
    expect(v2.version).toBe(2);
    expect(v2.createdAt).toBe(NOW);
    expect(v2.updatedAt).toBe(LATER);
    expect(v2.organisationCount).toBe(3);
    expect(v2.tlp).toBe('RED');
    expect(v2.severity).toBe('critical');
    expect(v2.sectors).toEqual(['finance', 'railway']);
    expect(v2.title).toBe('domain evil.example reported by 3 organisations in 2 sectors');
  });

  it('numbers the next version from the previous one, whatever it is', () => {
    const previous = {
      version: 7,
      createdAt: '2024-01-01T00:00:00.000Z',
      contributions: [contribution(sighting(1, 'acme-bank'), 7)],
      history: [{ version: 7, at: '2024-01-01T00:00:00.000Z', change: 'contribution' as const }],
    };
    const draft = evaluateSharedIndicator(
      input([sighting(1, 'acme-bank'), sighting(2, 'beta-bank')], { previous }),
    )!;
    expect(draft.version).toBe(8);
    expect(draft.createdAt).toBe('2024-01-01T00:00:00.000Z');
    expect(draft.updatedAt).toBe(NOW);
  });

  it('raises a new version when a different report replaces one of the same count', () => {
    const previous = {
      version: 1,
      createdAt: NOW,
      contributions: [contribution(sighting(1, 'acme-bank'), 1), contribution(sighting(2, 'beta-bank'), 1)],
      history: [{ version: 1, at: NOW, change: 'contribution' as const }],
    };
    const draft = evaluateSharedIndicator(
      input([sighting(1, 'acme-bank'), sighting(3, 'gamma-bank')], { previous }),
    );
    expect(draft?.version).toBe(2);
  });

  describe('exercises', () => {
    const sightings = [sighting(1, 'acme-bank'), sighting(2, 'beta-bank')];
    const live = evaluateSharedIndicator(input(sightings))!;
    const drill = evaluateSharedIndicator(input(sightings, { exercise: true }))!;

    it('carries the flag and prefixes the title', () => {
      expect(drill.exercise).toBe(true);
      expect(drill.title).toBe('[EXERCISE] domain evil.example reported by 2 organisations in 1 sector');
      expect(live.title.startsWith('[EXERCISE]')).toBe(false);
    });

    it('uses an id apart from the live alert', () => {
      expect(drill.id).toBe(nameBasedId(sharedIndicatorKey(true, 'domain', 'evil.example')));
      expect(drill.id).not.toBe(live.id);
    });
  });

  it('gives a different alert id per indicator', () => {
    const sightings = [sighting(1, 'acme-bank'), sighting(2, 'beta-bank')];
    const a = evaluateSharedIndicator(input(sightings))!;
    const b = evaluateSharedIndicator(
      input(sightings, { indicator: { type: 'domain', value: 'other.example' } }),
    )!;
    const c = evaluateSharedIndicator(
      input(sightings, { indicator: { type: 'url', value: 'evil.example' } }),
    )!;
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
  });

  it('does not depend on the order of the sightings', () => {
    const sightings = [
      sighting(1, 'acme-bank', { severity: 'low', tlp: 'CLEAR' }),
      sighting(2, 'beta-bank', { sector: 'railway', severity: 'critical' }),
      sighting(3, 'acme-bank', { tlp: 'AMBER+STRICT' }),
      sighting(4, 'gamma-grid', { sector: 'electricity', receivedAt: '2024-04-12T01:00:00.000Z' }),
      sighting(5, 'delta-water', { sector: 'water', severity: 'high' }),
      sighting(11, 'beta-bank', { receivedAt: '2024-04-12T01:00:00.000Z' }),
    ];
    const withDuplicates = [...sightings, { ...sightings[2]! }, { ...sightings[4]! }];
    const expected = evaluateSharedIndicator(input(withDuplicates));
    expect(expected).toBeDefined();
    expect(expected!.tlp).toBe('AMBER+STRICT');
    expect(expected!.severity).toBe('critical');
    for (let seed = 1; seed <= 25; seed++) {
      expect(evaluateSharedIndicator(input(shuffled(withDuplicates, seed)))).toEqual(expected);
    }
  });

  it('does not modify its input', () => {
    const sightings = [sighting(2, 'beta-bank'), sighting(1, 'acme-bank')];
    const copy = structuredClone(sightings);
    evaluateSharedIndicator(input(sightings));
    expect(sightings).toEqual(copy);
  });

  it('orders contributions by instant whatever the offset or precision', () => {
    const draft = evaluateSharedIndicator(
      input([
        sighting(1, 'acme-bank', { receivedAt: '2024-04-12T09:00:00+09:00' }),
        sighting(2, 'north-rail', { receivedAt: '2024-04-12T01:00:00Z' }),
        sighting(3, 'city-water', { receivedAt: '2024-04-12T00:00:00.500Z' }),
        sighting(4, 'east-gas', { receivedAt: '2024-04-12T00:00:00Z' }),
      ]),
    )!;
    expect(draft.contributions.map((c) => c.reportId)).toEqual([
      reportId(1),
      reportId(4),
      reportId(3),
      reportId(2),
    ]);
  });
});
