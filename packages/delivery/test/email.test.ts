import { describe, expect, it } from 'vitest';
import type { WarningView } from '@renkei/schema';
import {
  emailDisclosure,
  escapeHtml,
  headerSafe,
  renderEmail,
  renderTestEmail,
  type DeliveryContent,
} from '../src/index.js';

const hostile = '<script>alert("x")</script> & \'q\'';

function warningContent(overrides: Partial<WarningView> = {}): DeliveryContent {
  const warning: WarningView = {
    id: '7b0d6e52-3a8c-4a43-9a3e-8d2b9f1c0a11',
    title: `Credential phishing ${hostile}`,
    body: `Block the domain now.\n${hostile}`,
    severity: 'high',
    tlp: 'GREEN',
    sectors: ['finance'],
    indicators: [{ type: 'domain', value: 'evil<b>.example' }],
    alertIds: [],
    publishedAt: '2026-12-01T00:00:00.000Z',
    exercise: false,
    ...overrides,
  };
  return { type: 'warning', subjectId: warning.id, exercise: warning.exercise, warning };
}

const context = { language: 'en' as const, link: 'https://renkei.example/?warning=7b0d' };

describe('emailDisclosure', () => {
  it('sends AMBER+STRICT and RED by link only', () => {
    expect(
      ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'].map((t) => emailDisclosure(t as never)),
    ).toEqual(['full', 'full', 'full', 'link-only', 'link-only']);
  });
});

describe('renderEmail', () => {
  it('escapes every report-supplied string in the HTML part', () => {
    const mail = renderEmail(warningContent(), context);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
    expect(mail.text).toContain('Block the domain now.');
    expect(mail.text).toContain('evil<b>.example');
    expect(mail.subject).toBe(`[Renkei] Warning: Credential phishing ${hostile}`);
  });

  it('keeps the subject on one line whatever the title holds', () => {
    const mail = renderEmail(warningContent({ title: 'a\r\nBcc: victim@example.org' }), context);
    expect(mail.subject).toBe('[Renkei] Warning: a Bcc: victim@example.org');
  });

  it.each(['AMBER+STRICT', 'RED'] as const)('holds no title, body or indicator for %s', (tlp) => {
    const mail = renderEmail(warningContent({ tlp }), context);
    for (const part of [mail.subject, mail.text, mail.html]) {
      expect(part).not.toContain('Credential phishing');
      expect(part).not.toContain('Block the domain');
      expect(part).not.toContain('evil');
    }
    expect(mail.text).toContain(context.link);
    expect(mail.text).toContain(`TLP:${tlp}`);
  });

  it('writes Japanese for a Japanese organisation, and marks exercises', () => {
    const mail = renderEmail(warningContent({ exercise: true }), { ...context, language: 'ja' });
    expect(mail.subject).toMatch(/^\[Renkei\] \[訓練\] 注意喚起: /);
    expect(mail.text).toContain('重要度: 高');
    const english = renderEmail(warningContent({ exercise: true }), context);
    expect(english.subject).toMatch(/^\[Renkei\] \[EXERCISE\] Warning: /);
  });

  it('renders a test message in either language', () => {
    expect(renderTestEmail('ja', 'd-1').text).toContain('配信テスト');
    expect(renderTestEmail('en', 'd-1').html).toContain('d-1');
  });
});

describe('escaping helpers', () => {
  it('escapes the five HTML metacharacters and flattens header text', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
    expect(headerSafe('x\u0000y\u2028z')).toBe('x y z');
    expect(headerSafe('a'.repeat(300), 10)).toBe(`${'a'.repeat(9)}…`);
  });
});
