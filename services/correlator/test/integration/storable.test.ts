import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CORRELATION_SETTINGS } from '@renkei/correlation';
import {
  DETECTED_AT_MAX_AHEAD_MS,
  EARLIEST_DETECTED_AT,
  INDICATOR_TYPES,
  indicatorSchema,
  MAX_CANONICAL_INDICATOR_BYTES,
  MAX_INDICATORS_PER_REPORT,
  REPORT_CATEGORIES,
  REPORT_ENVELOPE_SCHEMA,
  SEVERITIES,
  TLP_LEVELS,
  reportEnvelopeSchema,
  reportSchema,
  reportSubmissionSchema,
  type ReportEnvelope,
  type Sector,
} from '@renkei/schema';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';
import { processChunk } from '../../src/process-batch.js';
import { processReport, type CorrelationContext } from '../../src/process-report.js';
import { loadWarningLists } from '@renkei/indicators/load';

/*
 * Whatever ingest accepts, the correlator stores: the report schema's accepted
 * values, generated with their edges, go through the correlator's real
 * storage (both the chunk and the one-report path) against a migrated
 * database, and each must be stored, alerts included. Year 0000 was accepted
 * and then dead-lettered for ever; so were UTC offsets beyond ±15:59 and URLs
 * whose percent-encoded form is too long for a B-tree index entry.
 */

const HOUR = 3_600_000;

const anyText = (maxLength: number, minLength: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', minLength, maxLength }),
    fc.string({ unit: 'binary', minLength, maxLength }),
    // The longest allowed, where limits in bytes (not characters) would bite.
    fc.string({ unit: 'binary', minLength: maxLength, maxLength }),
  );

/** Any text, mostly without the NUL the schema refuses (long binary strings nearly always hold one). */
const text = (maxLength: number, minLength = 0) =>
  fc.oneof(
    { weight: 9, arbitrary: anyText(maxLength, minLength).map((t) => t.replaceAll('\u0000', ' ')) },
    { weight: 1, arbitrary: anyText(maxLength, minLength) },
  );

/** `n` characters drawn from `unit`, `n` chosen anywhere up to `max` (long ones too, not only short). */
const sized = (max: number, unit: 'binary' | 'grapheme' | 'binary-ascii') =>
  fc.integer({ min: 0, max }).chain((n) => fc.string({ unit, minLength: n, maxLength: n }));

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: length, maxLength: length });

/** Values of each type, mostly ones the schema accepts, in the spellings reporters use. */
const indicatorValue = fc.oneof(
  fc.tuple(fc.constantFrom('ipv4' as const), fc.ipV4()),
  fc.tuple(
    fc.constantFrom('ipv4' as const),
    fc.ipV4().map((ip) => `::ffff:${ip}`),
  ),
  fc.tuple(fc.constantFrom('ipv6' as const), fc.ipV6()),
  fc.tuple(fc.constantFrom('domain' as const), fc.domain()),
  fc.tuple(
    fc.constantFrom('domain' as const),
    fc
      .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), fc.domain())
      .map(([label, domain]) => `${label}.${domain}`),
  ),
  fc.tuple(fc.constantFrom('url' as const), fc.webUrl({ withQueryParameters: true, withFragments: true })),
  fc.tuple(
    fc.constantFrom('url' as const),
    fc
      .tuple(fc.constantFrom('https', 'hxxp', 'ftp', 'ssh'), fc.domain(), sized(2048, 'binary'))
      .map(([scheme, host, path]) => `${scheme}://${host}/${path}`.slice(0, 2048)),
  ),
  fc.tuple(
    fc.constantFrom('url' as const),
    fc
      .tuple(fc.domain(), sized(2048, 'grapheme'))
      .map(([host, path]) => `https://${host}/?q=${path}`.slice(0, 2048)),
  ),
  fc.tuple(fc.constantFrom('email' as const), fc.emailAddress()),
  fc.tuple(fc.constantFrom('md5' as const), hex(32)),
  fc.tuple(fc.constantFrom('sha1' as const), hex(40)),
  fc.tuple(fc.constantFrom('sha256' as const), hex(64)),
  fc.tuple(
    fc.constantFrom('cve' as const),
    fc
      .tuple(fc.integer({ min: 1999, max: 9999 }), fc.integer({ min: 4, max: 10 }))
      .chain(([year, digits]) =>
        fc
          .string({ unit: fc.constantFrom(...'0123456789'), minLength: digits, maxLength: digits })
          .map((number) => `CVE-${year}-${number}`),
      ),
  ),
  fc.tuple(fc.constantFrom(...INDICATOR_TYPES), text(2048, 1)),
);

const anyIndicator = fc
  .tuple(indicatorValue, fc.option(text(64, 1), { nil: undefined }))
  .map(([[type, value], role]) => ({ type, value, ...(role === undefined ? {} : { role }) }));

// Mostly indicators the schema accepts, so that most reports are accepted and stored.
const indicator = fc.oneof(
  { weight: 19, arbitrary: anyIndicator.filter((i) => indicatorSchema.safeParse(i).success) },
  { weight: 1, arbitrary: anyIndicator },
);

/** Any ISO 8601 time with four-digit year and any syntactic offset; biased to the range's edges. */
const isoTime = (millis: fc.Arbitrary<number>) =>
  fc
    .tuple(
      millis,
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: -14 * 60, max: 14 * 60 }) },
        { weight: 1, arbitrary: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }) },
      ),
      fc.integer({ min: 0, max: 9 }),
    )
    .filter(([at, offset]) => {
      const year = new Date(at + offset * 60_000).getUTCFullYear();
      return year >= 0 && year <= 9999;
    })
    .map(([at, offset, digits]) => {
      const local = new Date(at + offset * 60_000).toISOString().slice(0, 19);
      const fraction =
        digits === 0
          ? ''
          : `.${String(((at % 1000) + 1000) % 1000)
              .padStart(3, '0')
              .padEnd(digits, '7')}`;
      const sign = offset < 0 ? '-' : '+';
      const abs = Math.abs(offset);
      const zone =
        offset === 0 && digits % 2 === 0
          ? 'Z'
          : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      return `${local}${fraction}${zone}`;
    });

const earliest = Date.parse(EARLIEST_DETECTED_AT);
const detectedAt = fc.oneof(
  isoTime(fc.integer({ min: earliest, max: Date.now() })),
  isoTime(fc.integer({ min: Date.parse('0000-01-02T00:00:00Z'), max: Date.parse('9999-12-30T00:00:00Z') })),
  isoTime(fc.integer({ min: earliest - 2 * 24 * HOUR, max: earliest + 2 * 24 * HOUR })),
  isoTime(
    fc.integer({ min: -2 * HOUR, max: 2 * HOUR }).map((d) => Date.now() + DETECTED_AT_MAX_AHEAD_MS + d),
  ),
  isoTime(fc.integer({ min: earliest, max: Date.now() })),
);

const submission = fc.record(
  {
    id: fc.uuid(),
    title: text(200, 1),
    description: text(10_000),
    category: fc.constantFrom(...REPORT_CATEGORIES),
    severity: fc.constantFrom(...SEVERITIES),
    tlp: fc.constantFrom(...TLP_LEVELS),
    detectedAt,
    indicators: fc.array(indicator, { maxLength: 12 }),
    exercise: fc.boolean(),
  },
  { requiredKeys: ['title', 'category', 'severity', 'tlp', 'detectedAt', 'indicators'] },
);

const ORGANISATIONS: [string, Sector][] = [
  ['a-csirt', 'central-government'],
  ['b-ceptar', 'finance'],
  ['c-op', 'telecom'],
];

/** What ingest puts on the topic for an accepted submission, read back as the correlator reads it. */
function envelopeOf(accepted: unknown, [organisationId, sector]: [string, Sector]): ReportEnvelope {
  const id = randomUUID();
  const report = reportSchema.parse({ ...(accepted as object), id });
  const envelope: ReportEnvelope = {
    schema: REPORT_ENVELOPE_SCHEMA,
    id,
    organisationId,
    sector,
    submittedBy: `${organisationId}-${'u'.repeat(200)}`,
    receivedAt: new Date().toISOString(),
    contentSha256: 'a'.repeat(64),
    report,
  };
  return reportEnvelopeSchema.parse(JSON.parse(JSON.stringify(envelope)));
}

describe('every report ingest accepts is storable by the correlator', () => {
  let database: TestDatabase;
  let context: CorrelationContext;
  let offset = 0;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    context = {
      settings: DEFAULT_CORRELATION_SETTINGS,
      warningLists: await loadWarningLists({ extraDir: undefined, disabled: [] }),
    };
  });

  afterAll(async () => {
    await database?.drop();
  });

  const at = () => ({ topic: 'renkei.reports.v1', partition: 0, offset: String(offset++) });

  /** Stores the report from three organisations (a chunk of two, then one alone) so alerts are written too. */
  async function store(accepted: Record<string, unknown>): Promise<void> {
    const [first, second, third] = ORGANISATIONS.map((organisation) => envelopeOf(accepted, organisation));
    const chunk = await processChunk(
      database.pool,
      [
        { envelope: first!, at: at() },
        { envelope: second!, at: at() },
      ],
      context,
    );
    expect(chunk.map((outcome) => outcome.stored)).toEqual([true, true]);
    expect((await processReport(database.pool, third!, at(), context)).stored).toBe(true);

    const { rows } = await database.pool.query<{ millis: number; indicators: number }>(
      `SELECT (extract(epoch FROM r.detected_at) * 1000)::float8 AS millis, (SELECT count(*)::int FROM report_indicators i WHERE i.report_id = r.id) AS indicators
         FROM reports r WHERE r.id = ANY($1::uuid[])`,
      [[first!.id, second!.id, third!.id]],
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.indicators).toBe((accepted.indicators as unknown[]).length);
      // PostgreSQL keeps microseconds where JavaScript keeps milliseconds.
      expect(Math.abs(row.millis - Date.parse(accepted.detectedAt as string))).toBeLessThanOrEqual(1);
    }
  }

  it('stores every generated report the schema accepts', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(submission, async (candidate) => {
        const parsed = reportSubmissionSchema.safeParse(candidate);
        if (!parsed.success) {
          refused += 1;
          return;
        }
        accepted += 1;
        await store(parsed.data);
      }),
      // Each run is three transactions; shrinking through the database would take minutes, so a
      // failure is reported as found (the seed in the message replays it).
      { numRuns: 150, endOnFailure: true },
    );
    // A generator the schema refuses throughout would make this test assert nothing.
    expect(accepted).toBeGreaterThan(60);
    expect(refused).toBeGreaterThan(0);
  }, 120_000);

  it('stores the edges: the range of detection times, the longest texts, the most and longest indicators', async () => {
    const base = {
      title: 'x',
      category: 'other',
      severity: 'low',
      tlp: 'CLEAR',
      detectedAt: EARLIEST_DETECTED_AT,
      indicators: [],
    };
    const url = 'https://evil.example/';
    // The longest canonical URL the schema allows, of ideographs, each nine bytes encoded.
    const longestUrl = url + '\u6f22'.repeat(Math.floor((MAX_CANONICAL_INDICATOR_BYTES - url.length) / 9));
    const edges: Record<string, unknown>[] = [
      base,
      { ...base, detectedAt: '1990-01-01T09:00:00+09:00' },
      { ...base, detectedAt: '1990-01-01T00:00:00-14:00' },
      { ...base, detectedAt: new Date(Date.now() + DETECTED_AT_MAX_AHEAD_MS - 60_000).toISOString() },
      { ...base, detectedAt: '2026-01-01T00:00:00.123456789+14:00' },
      {
        ...base,
        title: '\u{1f600}'.repeat(100),
        description: '\u{10ffff}'.repeat(5_000),
        indicators: [{ type: 'url', value: longestUrl, role: '\u{1f600}'.repeat(32) }],
      },
      {
        ...base,
        indicators: Array.from({ length: MAX_INDICATORS_PER_REPORT }, (_, i) => ({
          type: 'url',
          value: `${url}${i}/${'\u00e9'.repeat(200)}`,
        })),
      },
    ];
    for (const edge of edges) {
      const parsed = reportSubmissionSchema.safeParse(edge);
      expect(parsed.error).toBeUndefined();
      await store(parsed.data!);
    }
  }, 120_000);
});
