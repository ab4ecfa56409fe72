import { describe, expect, it } from 'vitest';
import { ageText, CATALOGUES, preferredLanguage, translate } from '../../src/i18n.js';

describe('message catalogues', () => {
  it('have the same keys in Japanese and English, none empty', () => {
    expect(Object.keys(CATALOGUES.ja).sort()).toEqual(Object.keys(CATALOGUES.en).sort());
    for (const catalogue of Object.values(CATALOGUES))
      for (const [key, text] of Object.entries(catalogue)) expect(text.trim(), key).not.toBe('');
  });

  it('use the same placeholders in both languages', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(CATALOGUES.en) as (keyof typeof CATALOGUES.en)[])
      expect(placeholders(CATALOGUES.ja[key]), key).toEqual(placeholders(CATALOGUES.en[key]));
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'reports.sent', { id: 'abc' })).toBe('Sent: abc');
    expect(translate('ja', 'reports.sent', { id: 'abc' })).toBe('送信しました: abc');
    expect(translate('en', 'reports.sent')).toBe('Sent: {id}');
  });

  it('prefers Japanese when the browser puts it before English', () => {
    expect(preferredLanguage(['ja-JP', 'en-US'])).toBe('ja');
    expect(preferredLanguage(['en-GB', 'ja'])).toBe('en');
    expect(preferredLanguage(['fr-FR', 'ja'])).toBe('ja');
    expect(preferredLanguage(['fr-FR'])).toBe('en');
    expect(preferredLanguage([])).toBe('en');
  });

  it('says an age in the largest whole unit', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(ageText('en', '2026-11-30T11:59:30Z', now)).toBe('30 s');
    expect(ageText('en', '2026-11-30T11:55:00Z', now)).toBe('5 min');
    expect(ageText('ja', '2026-11-30T09:00:00Z', now)).toBe('3時間');
    expect(ageText('en', '2026-11-28T12:00:00Z', now)).toBe('2 d');
    expect(ageText('en', '2026-11-30T12:00:05Z', now), 'a clock a little ahead').toBe('0 s');
  });
});

describe('vocabulary names', () => {
  it('name every alert kind, sector and category in both languages', async () => {
    const { ALERT_KINDS, REPORT_CATEGORIES, SECTORS } = await import('@renkei/schema');
    const { VOCABULARY } = await import('../../src/i18n.js');
    const expected = [
      ...ALERT_KINDS.map((v) => `kind.${v}`),
      ...SECTORS.map((v) => `sector.${v}`),
      ...REPORT_CATEGORIES.map((v) => `category.${v}`),
    ].sort();
    expect(Object.keys(VOCABULARY.en).sort()).toEqual(expected);
    expect(Object.keys(VOCABULARY.ja).sort()).toEqual(expected);
  });
});

describe('alert phrases', () => {
  const time = (iso: string) => `<${iso}>`;
  it('render a title and reasons in either language from codes and parameters', async () => {
    const { phraseText } = await import('../../src/i18n.js');
    const title = {
      code: 'shared-indicator',
      params: { indicators: ['domain evil.example'], more: 2, organisations: 3 },
    };
    expect(phraseText('en', 'title', title, time)).toBe(
      'domain evil.example and 2 more reported by 3 organisations',
    );
    expect(phraseText('ja', 'title', title, time)).toBe('3組織がdomain evil.example ほか2件を報告');
    const sectors = { code: 'in-sectors', params: { sectors: ['finance', 'water'], countedOnly: 1 } };
    expect(phraseText('ja', 'reason', sectors, time)).toBe('2分野（金融、水道）。ほか1組織が観測のみを共有');
    const period = { code: 'detected-between', params: { from: 'A', to: 'B' } };
    expect(phraseText('en', 'reason', period, time)).toBe('detected between <A> and <B>');
    expect(phraseText('ja', 'reason', { code: 'from-a-newer-hub', params: {} }, time)).toBeUndefined();
  });
});
