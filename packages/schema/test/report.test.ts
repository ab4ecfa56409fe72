import { describe, expect, it } from 'vitest';
import {
  DETECTED_AT_MAX_AHEAD_MS,
  EARLIEST_DETECTED_AT,
  INDICATOR_TYPES,
  MAX_CANONICAL_INDICATOR_BYTES,
  MAX_INDICATORS_PER_REPORT,
  REPORT_CATEGORIES,
  REPORT_ENVELOPE_SCHEMA,
  SEVERITIES,
  TLP_LEVELS,
  fieldIssues,
  indicatorSchema,
  reportEnvelopeSchema,
  reportSchema,
  reportSubmissionSchema,
  type IndicatorType,
  type ReportSubmission,
} from '@renkei/schema';

const REPORT_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

function validReport(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Phishing campaign against bank customers',
    category: 'phishing',
    severity: 'high',
    tlp: 'AMBER',
    detectedAt: '2024-04-12T09:30:00+09:00',
    indicators: [{ type: 'domain', value: 'evil.example' }],
    ...overrides,
  } satisfies Partial<ReportSubmission>;
}

function fieldsOf(input: unknown): string[] {
  const result = reportSubmissionSchema.safeParse(input);
  if (result.success) return [];
  return fieldIssues(result.error).map((issue) => issue.field);
}

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('reportSubmissionSchema', () => {
  it('accepts a minimal valid report and defaults exercise to false', () => {
    const result = reportSubmissionSchema.parse(validReport());
    expect(result.exercise).toBe(false);
    expect(result.id).toBeUndefined();
    expect(result.description).toBeUndefined();
    expect(result.indicators).toEqual([{ type: 'domain', value: 'evil.example' }]);
  });

  it('keeps an explicit exercise flag and a client-chosen uuid', () => {
    const result = reportSubmissionSchema.parse(validReport({ exercise: true, id: REPORT_ID }));
    expect(result.exercise).toBe(true);
    expect(result.id).toBe(REPORT_ID);
  });

  it('rejects an id that is not a uuid', () => {
    expect(fieldsOf(validReport({ id: 'report-1' }))).toEqual(['id']);
  });

  it('rejects a non-boolean exercise flag', () => {
    expect(fieldsOf(validReport({ exercise: 'yes' }))).toEqual(['exercise']);
  });

  it.each(['title', 'category', 'severity', 'tlp', 'detectedAt', 'indicators'])('requires %s', (field) => {
    const report = validReport();
    delete report[field];
    expect(fieldsOf(report)).toEqual([field]);
  });

  describe('title', () => {
    it('is trimmed', () => {
      expect(reportSubmissionSchema.parse(validReport({ title: '  spaced out  ' })).title).toBe('spaced out');
    });

    it.each([
      ['one character', 'x', true],
      ['200 characters', 'x'.repeat(200), true],
      ['201 characters', 'x'.repeat(201), false],
      ['200 characters plus surrounding space', `  ${'x'.repeat(200)}  `, true],
      ['empty', '', false],
      ['only whitespace', '   \t ', false],
    ])('%s → valid: %s', (_label, title, valid) => {
      expect(reportSubmissionSchema.safeParse(validReport({ title })).success).toBe(valid);
      if (!valid) expect(fieldsOf(validReport({ title }))).toEqual(['title']);
    });
  });

  describe('description', () => {
    it.each([
      [0, true],
      [10_000, true],
      [10_001, false],
    ])('length %i → valid: %s', (length, valid) => {
      const result = reportSubmissionSchema.safeParse(validReport({ description: 'd'.repeat(length) }));
      expect(result.success).toBe(valid);
      if (!valid) expect(fieldsOf(validReport({ description: 'd'.repeat(length) }))).toEqual(['description']);
    });
  });

  describe('enumerations', () => {
    it.each(REPORT_CATEGORIES.map((c) => [c]))('accepts category %s', (category) => {
      expect(reportSubmissionSchema.parse(validReport({ category })).category).toBe(category);
    });

    it.each(SEVERITIES.map((s) => [s]))('accepts severity %s', (severity) => {
      expect(reportSubmissionSchema.parse(validReport({ severity })).severity).toBe(severity);
    });

    it.each(TLP_LEVELS.map((t) => [t]))('accepts tlp %s', (tlp) => {
      expect(reportSubmissionSchema.parse(validReport({ tlp })).tlp).toBe(tlp);
    });

    it('includes AMBER+STRICT among the TLP levels', () => {
      expect(TLP_LEVELS).toEqual(['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED']);
    });

    it.each([
      ['category', 'espionage'],
      ['category', 'Phishing'],
      ['severity', 'urgent'],
      ['severity', 'HIGH'],
      ['tlp', 'WHITE'],
      ['tlp', 'amber'],
      ['tlp', 'AMBER STRICT'],
    ])('rejects %s %j', (field, value) => {
      expect(fieldsOf(validReport({ [field]: value }))).toEqual([field]);
    });
  });

  describe('detectedAt', () => {
    it.each([
      '2024-04-12T09:30:00Z',
      '2024-04-12T09:30:00.123Z',
      '2024-04-12T09:30:00+09:00',
      '2024-04-12T09:30:00-05:30',
    ])('accepts %s', (detectedAt) => {
      expect(reportSubmissionSchema.parse(validReport({ detectedAt })).detectedAt).toBe(detectedAt);
    });

    it.each(['2024-04-12', '2024-04-12 09:30:00Z', 'yesterday', '2024-13-12T09:30:00Z', ''])(
      'rejects %j',
      (detectedAt) => {
        expect(fieldsOf(validReport({ detectedAt }))).toEqual(['detectedAt']);
      },
    );

    it('rejects a number (epoch) timestamp', () => {
      expect(fieldsOf(validReport({ detectedAt: 1712910600000 }))).toEqual(['detectedAt']);
    });

    // Year 0000 was accepted, then dead-lettered in the correlator: PostgreSQL has no year 0.
    it.each([
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '1989-12-31T23:59:59.999Z',
      '1990-01-01T08:59:59+09:00',
      '9999-12-31T23:59:59Z',
    ])('refuses %s, outside the documented range, naming detectedAt', (detectedAt) => {
      const result = reportSubmissionSchema.safeParse(validReport({ detectedAt }));
      expect(result.success).toBe(false);
      expect(fieldIssues(result.error!)).toEqual([
        { field: 'detectedAt', message: expect.stringContaining(EARLIEST_DETECTED_AT) },
      ]);
    });

    it('accepts the range edges: the earliest time, and an hour ahead of the clock less a margin', () => {
      expect(fieldsOf(validReport({ detectedAt: EARLIEST_DETECTED_AT }))).toEqual([]);
      expect(fieldsOf(validReport({ detectedAt: '1990-01-01T09:00:00+09:00' }))).toEqual([]);
      const soon = new Date(Date.now() + DETECTED_AT_MAX_AHEAD_MS - 60_000).toISOString();
      expect(fieldsOf(validReport({ detectedAt: soon }))).toEqual([]);
      const later = new Date(Date.now() + DETECTED_AT_MAX_AHEAD_MS + 60_000).toISOString();
      expect(fieldsOf(validReport({ detectedAt: later }))).toEqual(['detectedAt']);
    });

    it('refuses a UTC offset no time zone uses (PostgreSQL refuses beyond ±15:59)', () => {
      expect(fieldsOf(validReport({ detectedAt: '2024-04-12T09:30:00+14:00' }))).toEqual([]);
      expect(fieldsOf(validReport({ detectedAt: '2024-04-12T09:30:00-14:00' }))).toEqual([]);
      expect(fieldsOf(validReport({ detectedAt: '2024-04-12T09:30:00+14:01' }))).toEqual(['detectedAt']);
      expect(fieldsOf(validReport({ detectedAt: '2024-04-12T09:30:00-23:59' }))).toEqual(['detectedAt']);
    });

    it('still reads any ISO time on the topic (a report accepted earlier is never lost)', () => {
      const carried = { ...validReport({ detectedAt: '1970-01-01T00:00:00Z' }), id: REPORT_ID };
      expect(reportSchema.parse(carried).detectedAt).toBe('1970-01-01T00:00:00Z');
    });
  });

  describe('indicators', () => {
    it('accepts an empty list', () => {
      expect(reportSubmissionSchema.parse(validReport({ indicators: [] })).indicators).toEqual([]);
    });

    it(`accepts exactly ${MAX_INDICATORS_PER_REPORT} indicators and rejects one more`, () => {
      expect(MAX_INDICATORS_PER_REPORT).toBe(1000);
      const many = Array.from({ length: 1001 }, (_, i) => ({
        type: 'ipv4',
        value: `10.0.${i >> 8}.${i & 255}`,
      }));
      expect(reportSubmissionSchema.safeParse(validReport({ indicators: many.slice(0, 1000) })).success).toBe(
        true,
      );
      expect(fieldsOf(validReport({ indicators: many }))).toEqual(['indicators']);
    });

    it('rejects a list that is not an array', () => {
      expect(fieldsOf(validReport({ indicators: { type: 'ipv4', value: '10.0.0.1' } }))).toEqual([
        'indicators',
      ]);
    });

    it('trims value and role, and keeps the role', () => {
      const result = reportSubmissionSchema.parse(
        validReport({ indicators: [{ type: 'url', value: '  hxxp://evil[.]example/a  ', role: ' c2 ' }] }),
      );
      expect(result.indicators).toEqual([{ type: 'url', value: 'hxxp://evil[.]example/a', role: 'c2' }]);
    });

    it.each(INDICATOR_TYPES.map((t) => [t]))('accepts indicator type %s with a well-formed value', (type) => {
      const values: Record<IndicatorType, string> = {
        ipv4: '192.0.2.1',
        ipv6: '2001:db8::1',
        domain: 'evil.example',
        url: 'https://evil.example/login',
        email: 'ceo@evil.example',
        md5: MD5,
        sha1: SHA1,
        sha256: SHA256,
        cve: 'CVE-2024-3400',
      };
      expect(indicatorSchema.parse({ type, value: values[type] })).toEqual({ type, value: values[type] });
    });

    it('rejects an unknown indicator type', () => {
      expect(fieldsOf(validReport({ indicators: [{ type: 'mutex', value: 'Global\\x' }] }))).toEqual([
        'indicators[0].type',
      ]);
    });

    it.each([
      ['md5', MD5, true],
      ['md5', MD5.toUpperCase(), true],
      ['md5', MD5.slice(0, 31), false],
      ['md5', `${MD5}0`, false],
      ['md5', `${MD5.slice(0, 31)}g`, false],
      ['sha1', SHA1, true],
      ['sha1', SHA1.toUpperCase(), true],
      ['sha1', SHA1.slice(0, 39), false],
      ['sha1', `${SHA1}0`, false],
      ['sha1', MD5, false],
      ['sha256', SHA256, true],
      ['sha256', SHA256.toUpperCase(), true],
      ['sha256', SHA256.slice(0, 63), false],
      ['sha256', `${SHA256}0`, false],
      ['sha256', SHA1, false],
      ['cve', 'CVE-2024-3400', true],
      ['cve', 'cve-2024-3400', true],
      ['cve', 'CVE-2021-44228', true],
      ['cve', 'CVE-2024-123456', true],
      ['cve', 'CVE-24-1', false],
      ['cve', 'CVE-2024-123', false],
      ['cve', 'CVE2024-3400', false],
      ['cve', '2024-3400', false],
      ['cve', 'CVE-2024-3400 extra', false],
    ])('%s %j → valid: %s', (type, value, valid) => {
      const result = reportSubmissionSchema.safeParse(validReport({ indicators: [{ type, value }] }));
      expect(result.success).toBe(valid);
      if (!valid && !result.success) {
        const issues = fieldIssues(result.error);
        expect(issues.map((i) => i.field)).toEqual(['indicators[0].value']);
        expect(issues[0]!.message).toMatch(/^is not a/);
      }
    });

    it('checks the hash shape after trimming', () => {
      const result = indicatorSchema.parse({ type: 'md5', value: `  ${MD5}\n` });
      expect(result.value).toBe(MD5);
    });

    it('accepts defanged values, kept as written', () => {
      for (const [type, value] of [
        ['ipv4', '192.0.2[.]1'],
        ['domain', 'evil[.]example'],
        ['url', 'hxxp://evil[.]example'],
        ['email', 'ceo[at]evil.example'],
      ] as const) {
        expect(indicatorSchema.safeParse({ type, value }).success).toBe(true);
      }
    });

    it.each([
      ['empty value', { type: 'domain', value: '' }, 'indicators[0].value'],
      ['blank value', { type: 'domain', value: '   ' }, 'indicators[0].value'],
      ['2049-character value', { type: 'url', value: 'u'.repeat(2049) }, 'indicators[0].value'],
      ['missing value', { type: 'domain' }, 'indicators[0].value'],
      ['empty role', { type: 'domain', value: 'a.example', role: ' ' }, 'indicators[0].role'],
      [
        '65-character role',
        { type: 'domain', value: 'a.example', role: 'r'.repeat(65) },
        'indicators[0].role',
      ],
      ['unknown key', { type: 'domain', value: 'a.example', confidence: 90 }, 'indicators[0].confidence'],
    ])('rejects an indicator with %s', (_label, indicator, field) => {
      expect(fieldsOf(validReport({ indicators: [indicator] }))).toEqual([field]);
    });

    it('accepts a 2048-character value and a 64-character role', () => {
      const url = 'https://evil.example/';
      const indicator = { type: 'url', value: url + 'u'.repeat(2048 - url.length), role: 'r'.repeat(64) };
      expect(indicatorSchema.safeParse(indicator).success).toBe(true);
    });

    it('refuses a URL whose canonical (percent-encoded) form is too long to index, naming the value', () => {
      const url = 'https://evil.example/';
      // 2,048 characters as written; each of the 2,027 ideographs becomes nine bytes once encoded.
      const indicator = { type: 'url', value: url + '\u6f22'.repeat(2048 - url.length) };
      expect(fieldsOf(validReport({ indicators: [indicator] }))).toEqual(['indicators[0].value']);
      const fits = {
        type: 'url',
        value: url + '\u6f22'.repeat(Math.floor((MAX_CANONICAL_INDICATOR_BYTES - url.length) / 9)),
      };
      expect(fieldsOf(validReport({ indicators: [fits] }))).toEqual([]);
    });

    it('reports the index of the failing indicator', () => {
      const indicators = [
        { type: 'domain', value: 'a.example' },
        { type: 'domain', value: 'b.example' },
        { type: 'domain', value: 'c.example' },
        { type: 'sha256', value: 'nope' },
      ];
      expect(fieldsOf(validReport({ indicators }))).toEqual(['indicators[3].value']);
    });
  });

  describe('unknown keys', () => {
    it('rejects an organisation id in the body, naming the key', () => {
      const result = reportSubmissionSchema.safeParse(validReport({ organisationId: 'acme-bank' }));
      expect(result.success).toBe(false);
      if (!result.success) {
        expect(fieldIssues(result.error)).toEqual([
          { field: 'organisationId', message: 'is not a known field' },
        ]);
      }
    });

    it('names every unknown key separately', () => {
      expect(fieldsOf(validReport({ organisationId: 'acme-bank', sector: 'finance' })).sort()).toEqual([
        'organisationId',
        'sector',
      ]);
    });
  });

  it('reports several problems at once', () => {
    const fields = fieldsOf(
      validReport({ title: '', severity: 'urgent', indicators: [{ type: 'md5', value: 'x' }] }),
    );
    expect(fields.sort()).toEqual(['indicators[0].value', 'severity', 'title']);
  });

  it('rejects a body that is not an object', () => {
    for (const body of [null, [], 'report', 42]) {
      expect(reportSubmissionSchema.safeParse(body).success).toBe(false);
    }
    expect(fieldsOf(null)).toEqual(['(body)']);
  });
});

describe('reportSchema', () => {
  it('requires an id', () => {
    expect(reportSchema.safeParse(validReport()).success).toBe(false);
    expect(reportSchema.parse(validReport({ id: REPORT_ID })).id).toBe(REPORT_ID);
  });
});

describe('reportEnvelopeSchema', () => {
  function envelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      schema: REPORT_ENVELOPE_SCHEMA,
      id: REPORT_ID,
      organisationId: 'acme-bank',
      sector: 'finance',
      submittedBy: 'alice@acme-bank',
      receivedAt: '2024-04-12T00:31:00.000Z',
      contentSha256: SHA256,
      report: { ...validReport({ id: REPORT_ID }), exercise: false },
      ...overrides,
    };
  }

  it('accepts a complete envelope', () => {
    const parsed = reportEnvelopeSchema.parse(envelope());
    expect(parsed.schema).toBe('renkei.report.v1');
    expect(parsed.report.id).toBe(REPORT_ID);
    expect(parsed.organisationId).toBe('acme-bank');
  });

  it('defaults the inner report exercise flag', () => {
    const parsed = reportEnvelopeSchema.parse(envelope({ report: validReport({ id: REPORT_ID }) }));
    expect(parsed.report.exercise).toBe(false);
  });

  it.each([
    ['schema', 'renkei.report.v2'],
    ['id', 'not-a-uuid'],
    ['organisationId', 'Acme Bank'],
    ['organisationId', '-acme'],
    ['organisationId', 'a'.repeat(64)],
    ['sector', 'retail'],
    ['submittedBy', ''],
    ['receivedAt', '2024-04-12T00:31:00'],
    ['contentSha256', SHA256.toUpperCase()],
    ['contentSha256', SHA256.slice(1)],
  ])('rejects %s %j', (field, value) => {
    const result = reportEnvelopeSchema.safeParse(envelope({ [field]: value }));
    expect(result.success).toBe(false);
    if (!result.success) expect(fieldIssues(result.error).map((i) => i.field)).toEqual([field]);
  });

  it('accepts a 63-character organisation slug', () => {
    expect(reportEnvelopeSchema.safeParse(envelope({ organisationId: 'a'.repeat(63) })).success).toBe(true);
  });

  it('requires the inner report to carry an id', () => {
    const result = reportEnvelopeSchema.safeParse(envelope({ report: validReport() }));
    expect(result.success).toBe(false);
    if (!result.success) expect(fieldIssues(result.error).map((i) => i.field)).toEqual(['report.id']);
  });

  it('rejects unknown keys on the envelope', () => {
    const result = reportEnvelopeSchema.safeParse(envelope({ extra: 1 }));
    expect(result.success).toBe(false);
    if (!result.success) expect(fieldIssues(result.error).map((i) => i.field)).toEqual(['extra']);
  });
});
