// The report form's indicator box: one per line, typed or not, defanged or
// not; each read with the same function ingest uses, so the form says what
// is wrong before anything is sent.
import { canonicalIndicator } from '@renkei/indicators';
import { INDICATOR_TYPES, type IndicatorType } from '@renkei/schema';

export type ReadLine =
  | { line: number; written: string; type: IndicatorType; value: string; canonical: string }
  | { line: number; written: string; error: string };

// Most specific first: a hash is never taken for a domain, a URL never for an e-mail.
const GUESS_ORDER: readonly IndicatorType[] = [
  'cve',
  'sha256',
  'sha1',
  'md5',
  'url',
  'email',
  'ipv4',
  'ipv6',
  'domain',
];

function isType(word: string): word is IndicatorType {
  return (INDICATOR_TYPES as readonly string[]).includes(word);
}

/** One line: `type value`, `type: value`, or a bare value whose type is guessed. */
export function readIndicatorLine(text: string, line: number): ReadLine | null {
  const written = text.trim();
  if (written === '') return null;
  const typed = /^([a-z0-9]+)\s*[:\s]\s*(\S.*)$/i.exec(written);
  if (typed && isType(typed[1]!.toLowerCase())) {
    const type = typed[1]!.toLowerCase() as IndicatorType;
    const value = typed[2]!.trim();
    const read = canonicalIndicator(type, value);
    return read.ok
      ? { line, written, type, value, canonical: read.indicator.value }
      : { line, written, error: `${type}: ${read.reason}` };
  }
  for (const type of GUESS_ORDER) {
    const read = canonicalIndicator(type, written);
    if (read.ok) return { line, written, type, value: written, canonical: read.indicator.value };
  }
  return { line, written, error: 'is not an indicator of any type (write "type value" to say which)' };
}

export function readIndicatorLines(text: string): ReadLine[] {
  return text.split(/\r?\n/).flatMap((row, index) => readIndicatorLine(row, index + 1) ?? []);
}

/**
 * A canonical value made safe to paste into mail and chat: no link a client
 * would make clickable (`hxxps://evil[.]example`, `ceo[at]evil[.]example`).
 */
export function defang(type: IndicatorType, value: string): string {
  switch (type) {
    case 'url':
      return value
        .replace(/^http/i, 'hxxp')
        .replace(/^ftp/i, 'fxp')
        .replace(
          /^([a-z]+:\/\/)([^/?#]*)/i,
          (_, scheme: string, host: string) => scheme + host.replace(/\./g, '[.]'),
        );
    case 'domain':
      return value.replace(/\./g, '[.]');
    case 'email':
      return value.replace('@', '[at]').replace(/\./g, '[.]');
    case 'ipv4':
      return value.replace(/\./g, '[.]');
    case 'ipv6':
      return value.replace(/:/g, '[:]');
    default:
      return value;
  }
}
