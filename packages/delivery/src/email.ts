import type { DeliveryLanguage, Severity, Tlp } from '@renkei/schema';
import type { DeliveryContent } from './content.js';

/**
 * E-mail leaves the platform: once sent it sits in mailboxes, archives and
 * relays the hub does not control. So a message carries content only where
 * the label allows it to travel that way for the recipient: CLEAR, GREEN
 * and AMBER (the recipient organisation's own mail list, on a need-to-know
 * basis) in full; AMBER+STRICT and RED by link only, with neither title nor
 * body nor indicators, just the label, severity and where to read it.
 */
export type EmailDisclosure = 'full' | 'link-only';

export function emailDisclosure(tlp: Tlp): EmailDisclosure {
  return tlp === 'AMBER+STRICT' || tlp === 'RED' ? 'link-only' : 'full';
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Every report-supplied string goes into HTML through this, never as markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * A header line must stay one line: a title with a line break would start
 * a header of its own in the subject. Control characters become spaces.
 */
export function headerSafe(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

interface Words {
  warning: string;
  alert: string;
  test: string;
  exercise: string;
  severity: Record<Severity, string>;
  severityLabel: string;
  tlpLabel: string;
  sectorsLabel: string;
  indicatorsLabel: string;
  publishedLabel: string;
  linkOnly: (tlp: Tlp) => string;
  readAt: string;
  testBody: string;
  footer: string;
}

const WORDS: Record<DeliveryLanguage, Words> = {
  ja: {
    warning: '注意喚起',
    alert: 'アラート',
    test: 'テスト送信',
    exercise: '訓練',
    severity: { low: '低', medium: '中', high: '高', critical: '緊急' },
    severityLabel: '重要度',
    tlpLabel: 'TLP',
    sectorsLabel: '対象分野',
    indicatorsLabel: '指標',
    publishedLabel: '発行日時',
    linkOnly: (tlp) =>
      `この情報は TLP:${tlp} のため、内容をメールでは送信しません。以下から閲覧してください。`,
    readAt: '閲覧先',
    testBody: 'Renkei からの配信テストです。このメールが届いていれば、配信先の設定は有効です。',
    footer: 'このメールは Renkei（連携）から自動送信されています。',
  },
  en: {
    warning: 'Warning',
    alert: 'Alert',
    test: 'Test delivery',
    exercise: 'EXERCISE',
    severity: { low: 'low', medium: 'medium', high: 'high', critical: 'critical' },
    severityLabel: 'Severity',
    tlpLabel: 'TLP',
    sectorsLabel: 'Sectors',
    indicatorsLabel: 'Indicators',
    publishedLabel: 'Published',
    linkOnly: (tlp) =>
      `This item is labelled TLP:${tlp}, so its content is not sent by e-mail. Read it on the hub:`,
    readAt: 'Read it at',
    testBody: 'A test delivery from Renkei. If this message arrived, the delivery endpoint works.',
    footer: 'Sent automatically by Renkei.',
  },
};

/** A labelled line of the message; `value` is escaped for HTML here. */
type Line = { label: string; value: string };

function compose(
  subject: string,
  intro: string | null,
  lines: Line[],
  body: string | null,
  words: Words,
): RenderedEmail {
  const text = [
    ...(intro ? [intro, ''] : []),
    ...lines.map(({ label, value }) => `${label}: ${value}`),
    ...(body ? ['', body] : []),
    '',
    '--',
    words.footer,
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body>',
    ...(intro ? [`<p>${escapeHtml(intro)}</p>`] : []),
    '<table>',
    ...lines.map(
      ({ label, value }) =>
        `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
    ),
    '</table>',
    ...(body ? [`<pre style="white-space:pre-wrap">${escapeHtml(body)}</pre>`] : []),
    `<hr><p><small>${escapeHtml(words.footer)}</small></p>`,
    '</body></html>',
  ].join('\n');
  return { subject: headerSafe(subject, 250), text, html };
}

export interface EmailContext {
  language: DeliveryLanguage;
  /** Where the item can be read on the hub (the console, or the API route). */
  link: string;
}

/**
 * The message for one delivery, in the organisation's language: plain text
 * and HTML saying the same, every report-supplied string escaped in HTML and
 * flattened to one line in the subject, and only what {@link emailDisclosure}
 * lets leave the platform.
 */
export function renderEmail(content: DeliveryContent, context: EmailContext): RenderedEmail {
  const words = WORDS[context.language];
  const item = content.type === 'warning' ? content.warning : content.alert;
  const kind = content.type === 'warning' ? words.warning : words.alert;
  const exercise = content.exercise ? `[${words.exercise}] ` : '';
  const severity = words.severity[item.severity];
  const labels: Line[] = [
    { label: words.tlpLabel, value: `TLP:${item.tlp}` },
    { label: words.severityLabel, value: severity },
  ];
  if (emailDisclosure(item.tlp) === 'link-only') {
    return compose(
      `[Renkei] ${exercise}${kind} (TLP:${item.tlp}, ${words.severityLabel}: ${severity})`,
      words.linkOnly(item.tlp),
      [...labels, { label: words.readAt, value: context.link }],
      null,
      words,
    );
  }
  const sectors = Array.isArray(item.sectors) ? item.sectors.join(', ') : item.sectors;
  const indicators = item.indicators.map((i) => `${i.type} ${i.value}`).join('\n  ');
  const lines: Line[] = [
    ...labels,
    { label: words.sectorsLabel, value: sectors },
    ...(content.type === 'warning'
      ? [{ label: words.publishedLabel, value: content.warning.publishedAt }]
      : []),
    ...(indicators ? [{ label: words.indicatorsLabel, value: indicators }] : []),
    { label: words.readAt, value: context.link },
  ];
  const body = content.type === 'warning' ? content.warning.body : content.alert.reasons.join('\n');
  return compose(`[Renkei] ${exercise}${kind}: ${item.title}`, item.title, lines, body, words);
}

/** The message `POST /v1/deliveries/:id/test` sends to an e-mail endpoint. */
export function renderTestEmail(language: DeliveryLanguage, deliveryId: string): RenderedEmail {
  const words = WORDS[language];
  return compose(`[Renkei] ${words.test}`, words.testBody, [{ label: 'ID', value: deliveryId }], null, words);
}
