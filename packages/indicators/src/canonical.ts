import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import type { CanonicalIndicator, CanonicalResult, DerivedIndicator, IndicatorType } from './types.js';

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * The canonical form of an indicator as a reporter wrote it: one string per
 * observable, however it was spelled (defanged, quoted, upper case, IDN,
 * compressed or not). A value that cannot be an indicator of its type is
 * refused with a reason a reporter can act on; nothing is guessed.
 */
export function canonicalIndicator(type: IndicatorType, written: string): CanonicalResult {
  const value = unwrap(written);
  if (value.length === 0) return fail('is empty');
  switch (type) {
    case 'ipv4':
      return single(canonicalIpv4Observable(refang(value)));
    case 'ipv6':
      return single(canonicalIpv6Observable(refang(value)));
    case 'domain': {
      const domain = canonicalDomain(refang(value));
      if (!domain.ok) return domain;
      // `localhost`, `intranet` or a note typed into the wrong box name nothing another organisation could meet.
      if (!domain.value.includes('.'))
        return fail('is a single label: a domain indicator needs at least two labels (like example.jp)');
      return { ok: true, indicator: { type, value: domain.value }, derived: [] };
    }
    case 'url':
      return canonicalUrl(refang(value));
    case 'email':
      return single(canonicalEmail(refang(value)));
    case 'md5':
      return single(canonicalHash('md5', value, 32));
    case 'sha1':
      return single(canonicalHash('sha1', value, 40));
    case 'sha256':
      return single(canonicalHash('sha256', value, 64));
    case 'cve':
      return single(canonicalCve(value));
  }
}

function single(parsed: Parsed<CanonicalIndicator>): CanonicalResult {
  return parsed.ok ? { ok: true, indicator: parsed.value, derived: [] } : parsed;
}

// Pairs people wrap values in when pasting them into reports and mail.
const WRAPPERS: readonly (readonly [string, string])[] = [
  ['"', '"'],
  ["'", "'"],
  ['`', '`'],
  ['<', '>'],
  ['\u201c', '\u201d'],
  ['\u2018', '\u2019'],
  ['\u300c', '\u300d'],
  ['\u300e', '\u300f'],
  ['\u00ab', '\u00bb'],
];

/** Surrounding whitespace (any Unicode space), quotes and angle brackets, however deeply nested. */
function unwrap(written: string): string {
  let value = written.trim();
  for (;;) {
    const pair = WRAPPERS.find(
      ([open, close]) =>
        value.length >= open.length + close.length && value.startsWith(open) && value.endsWith(close),
    );
    if (!pair) return value;
    value = value.slice(pair[0].length, value.length - pair[1].length).trim();
  }
}

/**
 * Undoes the defanging people apply so a value cannot be clicked:
 * `[.]` `(.)` `{.}` `[dot]` `(dot)`, `[:]`, `[://]`, `[@]` `[at]`, and the
 * `hxxp`, `hxxps` and `fxp` schemes. Only bracketed tokens are read, so a
 * plain "dot" or "at" inside a value is left alone.
 */
export function refang(value: string): string {
  return value
    .replace(/\s*[[({]\s*(?:\.|dot)\s*[\])}]\s*/giu, '.')
    .replace(/\s*[[({]\s*(?:@|at)\s*[\])}]\s*/giu, '@')
    .replace(/\[\s*:\/\/\s*\]/gu, '://')
    .replace(/\[\s*:\s*\]/gu, ':')
    .replace(/^h(?:xx|XX|\*\*)p(s?)(?=:)/iu, 'http$1')
    .replace(/^fxp(?=:)/iu, 'ftp');
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/u;

/** Dotted-quad decimal only: `010.1.1.1`, `1.2.3`, `0x7f.1.1.1` and `2130706433` are refused, never reinterpreted. */
function canonicalIpv4(value: string): Parsed<string> {
  const match = DOTTED_QUAD.exec(value);
  if (!match) return fail('is not an IPv4 address in dotted-quad form (four decimal numbers, as 192.0.2.1)');
  const octets = match.slice(1);
  for (const octet of octets) {
    if (octet.length > 1 && octet.startsWith('0'))
      return fail('has a leading zero in an IPv4 octet (refused: it could be read as octal)');
    if (Number(octet) > 255) return fail('has an IPv4 octet above 255');
  }
  return { ok: true, value: octets.join('.') };
}

function canonicalIpv4Observable(value: string): Parsed<CanonicalIndicator> {
  const ascii = value.normalize('NFKC');
  if (ascii.includes(':')) {
    // Written as IPv6: only an IPv4-mapped address is this observable.
    const v6 = canonicalIpv6Observable(ascii);
    if (!v6.ok) return fail('is not an IPv4 address');
    if (v6.value.type !== 'ipv4') return fail('is an IPv6 address: report it as ipv6');
    return v6;
  }
  const v4 = canonicalIpv4(ascii);
  return v4.ok ? { ok: true, value: { type: 'ipv4', value: v4.value } } : v4;
}

// `::ffff:a.b.c.d`, with the leading zero groups written out or not.
const MAPPED_DOTTED = /^(?:(?:0{1,4}:){5}|::(?:0{1,4}:){0,4})ffff:(\d{1,3}(?:\.\d{1,3}){3})$/iu;

/** RFC 5952 text; an IPv4-mapped address (`::ffff:203.0.113.7`) is the IPv4 observable. */
function canonicalIpv6Observable(value: string): Parsed<CanonicalIndicator> {
  let ascii = value.normalize('NFKC');
  if (ascii.startsWith('[') && ascii.endsWith(']')) ascii = ascii.slice(1, -1);
  if (ascii.includes('%'))
    return fail('has a zone index (%…): a zone is local to one host, not an indicator');
  if (ascii.includes('/')) return fail('is a network (…/prefix), not an address');
  if (ascii.includes('.')) {
    // An embedded IPv4 part is only accepted in the mapped form; the
    // deprecated "compatible" form (::a.b.c.d) is not the IPv4 observable.
    const mapped = MAPPED_DOTTED.exec(ascii);
    if (!mapped) {
      return DOTTED_QUAD.test(ascii)
        ? fail('is an IPv4 address: report it as ipv4')
        : fail('is not an IPv6 address (an embedded IPv4 part is accepted only as ::ffff:a.b.c.d)');
    }
    const v4 = canonicalIpv4(mapped[1]!);
    return v4.ok ? { ok: true, value: { type: 'ipv4', value: v4.value } } : v4;
  }
  if (!ipaddr.IPv6.isValid(ascii)) return fail('is not an IPv6 address');
  const address = ipaddr.IPv6.parse(ascii);
  if (address.isIPv4MappedAddress()) {
    return { ok: true, value: { type: 'ipv4', value: address.toIPv4Address().toString() } };
  }
  return { ok: true, value: { type: 'ipv6', value: address.toRFC5952String() } };
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/u;
// A last label that a URL parser would read as a number makes the name an IPv4 address in disguise.
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|\d+)$/iu;

/**
 * Lower case, internationalised names as ASCII (punycode, per UTS 46, which
 * also folds full-width letters and the ideographic full stop), one trailing
 * dot removed, labels and length checked. Underscores are accepted: DNS
 * allows them and malicious names use them.
 */
export function canonicalDomain(value: string): Parsed<string> {
  if (/[\s%/\\:@?#*[\]]/u.test(value))
    return fail('is not a domain name (it holds a character no domain has)');
  const ascii = domainToASCII(value);
  if (!ascii) return fail('is not a valid domain name');
  const name = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  if (name.length === 0) return fail('is not a domain name');
  if (name.length > 253) return fail('is longer than the 253 characters a domain name may have');
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0) return fail('has an empty label (two dots in a row)');
    if (label.length > 63) return fail('has a label longer than 63 characters');
    if (!LABEL.test(label)) return fail(`has an invalid label "${label}"`);
  }
  if (NUMERIC_LABEL.test(labels.at(-1)!)) {
    return fail(
      'ends in a number: an IP address is not a domain name (and only dotted-quad IPv4 is accepted)',
    );
  }
  return { ok: true, value: name };
}

// Schemes whose URLs WHATWG parsers treat specially (a backslash ends the host, default ports known).
const SPECIAL_SCHEMES = new Set(['http', 'https', 'ftp', 'ws', 'wss']);

/**
 * Scheme and host lower case, host canonical as a domain or address, default
 * port removed (via the WHATWG URL serialiser, which also settles path
 * escapes). The host also yields a derived domain or IP indicator.
 */
function canonicalUrl(value: string): CanonicalResult {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/isu.exec(value);
  if (!match) return fail('is not a URL with a scheme (such as https://…)');
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  const end = rest.search(SPECIAL_SCHEMES.has(scheme) ? /[/?#\\]/u : /[/?#]/u);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const hostAndPort = authority.slice(at + 1);

  let rawHost: string;
  let port: string | undefined;
  if (hostAndPort.startsWith('[')) {
    const close = hostAndPort.indexOf(']');
    if (close === -1) return fail('has an unclosed [ in its host');
    rawHost = hostAndPort.slice(0, close + 1);
    const after = hostAndPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail('has text after its IPv6 host');
    port = after === '' ? undefined : after.slice(1);
  } else {
    const colon = hostAndPort.lastIndexOf(':');
    rawHost = colon === -1 ? hostAndPort : hostAndPort.slice(0, colon);
    port = colon === -1 ? undefined : hostAndPort.slice(colon + 1);
  }
  if (port !== undefined && port !== '' && !(/^\d{1,5}$/u.test(port) && Number(port) <= 65_535)) {
    return fail('has an invalid port');
  }
  if (rawHost.length === 0) return fail('has no host');

  const host = canonicalHost(rawHost);
  if (!host.ok) return fail(`has a host that ${host.reason}`);
  const hostText = host.value.type === 'ipv6' ? `[${host.value.value}]` : host.value.value;
  const rebuilt = `${scheme}://${userinfo === undefined ? '' : `${userinfo}@`}${hostText}${port ? `:${port}` : ''}${tail}`;
  let href: string;
  try {
    const url = new URL(rebuilt);
    if (url.hostname !== hostText) return fail('has a host the URL parser reads differently');
    href = url.href;
  } catch {
    return fail('is not a valid URL');
  }
  const derived: DerivedIndicator = { ...host.value, from: href };
  return { ok: true, indicator: { type: 'url', value: href }, derived: [derived] };
}

function canonicalHost(raw: string): Parsed<CanonicalIndicator> {
  if (raw.startsWith('[')) {
    if (!raw.endsWith(']')) return fail('is not a bracketed IPv6 address');
    return canonicalIpv6Observable(raw.slice(1, -1));
  }
  const folded = raw.normalize('NFKC');
  const labels = (folded.endsWith('.') ? folded.slice(0, -1) : folded).split('.');
  if (NUMERIC_LABEL.test(labels.at(-1) ?? '')) {
    const v4 = canonicalIpv4(folded);
    return v4.ok ? { ok: true, value: { type: 'ipv4', value: v4.value } } : v4;
  }
  const domain = canonicalDomain(raw);
  return domain.ok ? { ok: true, value: { type: 'domain', value: domain.value } } : domain;
}

// RFC 5322 dot-atom characters; quoted local parts are not accepted.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/iu;

/**
 * Domain part canonical as a domain. The local part is folded to lower case
 * too: RFC 5321 lets a server treat it case-sensitively, but mail systems do
 * not, and a sender spelled two ways is one observable. No domain indicator
 * is derived: free-mail domains would correlate everyone with everyone.
 */
function canonicalEmail(value: string): Parsed<CanonicalIndicator> {
  const address = value.replace(/^mailto:/iu, '');
  const at = address.lastIndexOf('@');
  if (at < 1 || at === address.length - 1) return fail('is not an e-mail address (local@domain)');
  const local = address.slice(0, at);
  if (local.length > 64) return fail('has a local part longer than 64 characters');
  if (!LOCAL_PART.test(local)) return fail('has an invalid local part');
  const domain = canonicalDomain(address.slice(at + 1));
  if (!domain.ok) return fail(`has a domain that ${domain.reason}`);
  return { ok: true, value: { type: 'email', value: `${local.toLowerCase()}@${domain.value}` } };
}

function canonicalHash(
  type: 'md5' | 'sha1' | 'sha256',
  value: string,
  digits: number,
): Parsed<CanonicalIndicator> {
  const ascii = value.normalize('NFKC');
  if (!new RegExp(`^[0-9a-f]{${digits}}$`, 'iu').test(ascii)) {
    return fail(`is not a ${type} (${digits} hexadecimal digits)`);
  }
  return { ok: true, value: { type, value: ascii.toLowerCase() } };
}

function canonicalCve(value: string): Parsed<CanonicalIndicator> {
  // Full-width text and typographic dashes come with ids pasted from documents.
  const ascii = value.normalize('NFKC').replace(/[\u2010-\u2015\u2212\ufe63]/gu, '-');
  const match = /^CVE-(\d{4})-(\d{4,10})$/iu.exec(ascii);
  if (!match) return fail('is not a CVE id (CVE-YYYY-NNNN…)');
  if (Number(match[1]) < 1999) return fail('has a year before 1999, when CVE ids began');
  return { ok: true, value: { type: 'cve', value: `CVE-${match[1]}-${match[2]}` } };
}
