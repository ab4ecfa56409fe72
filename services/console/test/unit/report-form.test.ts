import { describe, expect, it } from 'vitest';
import { checkReportForm, localInputValue, type ReportFormValues } from '../../src/report-form.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const form = (overrides: Partial<ReportFormValues> = {}): ReportFormValues => ({
  title: 'Outage of the e-procurement portal',
  description: '',
  category: 'service-outage',
  severity: 'high',
  tlp: 'GREEN',
  detectedAt: localInputValue(NOW - 60_000),
  indicators: 'domain portal-outage.example',
  exercise: false,
  ...overrides,
});

describe('the report form checks what ingest checks', () => {
  it('passes a good report, as it would be sent', () => {
    const checked = checkReportForm(form(), NOW);
    expect(checked.errors).toEqual({});
    expect(checked.submission).toMatchObject({
      title: 'Outage of the e-procurement portal',
      indicators: [{ type: 'domain', value: 'portal-outage.example' }],
    });
  });

  it('refuses single-label domains (localhost, foo, a note typed in Japanese)', () => {
    for (const written of ['domain localhost', 'domain foo', 'domain これはメモです']) {
      const checked = checkReportForm(form({ indicators: written }), NOW);
      expect(checked.errors.indicators, written).toMatchObject({
        key: 'validation.indicator',
        params: { line: 1, type: 'domain' },
      });
      expect(checked.submission).toBeNull();
    }
    expect(checkReportForm(form({ indicators: 'localhost' }), NOW).errors.indicators?.key).toBe(
      'validation.indicatorUnknown',
    );
  });

  it('refuses a detection time more than an hour ahead, a missing one and one before 1990', () => {
    expect(checkReportForm(form({ detectedAt: '2031-05-01T09:00' }), NOW).errors.detectedAt?.key).toBe(
      'validation.future',
    );
    expect(checkReportForm(form({ detectedAt: '' }), NOW).errors.detectedAt?.key).toBe('validation.time');
    expect(checkReportForm(form({ detectedAt: '1985-05-01T09:00' }), NOW).errors.detectedAt?.key).toBe(
      'validation.past',
    );
    expect(checkReportForm(form({ detectedAt: localInputValue(NOW + 30 * 60_000) }), NOW).errors).toEqual({});
  });

  it('names a missing or overlong title', () => {
    expect(checkReportForm(form({ title: '  ' }), NOW).errors.title?.key).toBe('validation.required');
    expect(checkReportForm(form({ title: 'x'.repeat(201) }), NOW).errors.title).toMatchObject({
      key: 'validation.tooLong',
      params: { max: 200 },
    });
  });
});
