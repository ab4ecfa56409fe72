import {
  canonicalCidr,
  canonicalDomain,
  canonicalIndicator,
  refang,
  type CanonicalIndicator,
  type IndicatorType,
} from '@renkei/indicators';

/** The longest query read: longer than any canonical indicator the hub stores (2,048 bytes). */
export const MAX_QUERY_LENGTH = 2048;

/**
 * Free text shorter than this (in characters, per word) yields no trigram, so
 * a trigram index cannot narrow it; such a query searches only the newest
 * rows (see {@link TextQuery.scope}).
 */
export const TRIGRAM_LENGTH = 3;

export interface IndicatorQuery {
  kind: 'indicator';
  /** The canonical observable: what the hub correlates on and stores in its sightings. */
  indicator: CanonicalIndicator;
  /**
   * How it was read, when that differs from the indicator's own type: `url`
   * for a URL without a scheme, read as its host (a URL's host is a sighting
   * of every report carrying the URL); `ipv6` for an IPv4-mapped address.
   */
  readAs: IndicatorType | 'url-without-scheme';
}

export interface NetworkQuery {
  kind: 'network';
  type: 'ipv4' | 'ipv6';
  /** The network in canonical CIDR form (`203.0.113.0/24`). */
  cidr: string;
}

export interface TextQuery {
  kind: 'text';
  /** The text with its runs of white space made single spaces. */
  text: string;
  /** A case-insensitive `LIKE` pattern for the text anywhere (`%`, `_` and `\` escaped). */
  pattern: string;
  /**
   * `all`: some word has three characters or more, so a trigram index finds
   * every match. `recent`: one- and two-character text (`攻撃`, `DB`) has no
   * trigram; it is matched against the newest rows only.
   */
  scope: 'all' | 'recent';
}

export type ReadQuery = IndicatorQuery | NetworkQuery | TextQuery;

export type QueryResult = { ok: true; query: ReadQuery } | { ok: false; reason: string };

const HASHES: readonly [IndicatorType, number][] = [
  ['md5', 32],
  ['sha1', 40],
  ['sha256', 64],
];
const CVE = /^cve-\d{4}-\d{4,}$/iu;
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//iu;
const NETWORK = /^[0-9a-f:.]+\/\d{1,3}$/iu;
// Quotes and brackets people wrap a pasted value in (canonicalIndicator unwraps the same and more).
const WRAPPED = /^["'`<\u201c\u2018\u300c\u300e\u00ab]+|["'`>\u201d\u2019\u300d\u300f\u00bb]+$/gu;

/**
 * What a person pasted into search: an indicator as written (defanged, upper
 * case, internationalised, IPv4-mapped, a URL with its path), a network in
 * CIDR form, a CVE id, or free text in any language. Indicators are read with
 * `@renkei/indicators`, so a query finds exactly the canonical value reports
 * were stored under. Anything that is no indicator is free text: a query is
 * never refused for not looking like one.
 */
export function readQuery(written: string): QueryResult {
  const trimmed = written.trim();
  if (trimmed.length === 0) return { ok: false, reason: 'is empty' };
  if (trimmed.length > MAX_QUERY_LENGTH)
    return { ok: false, reason: `is longer than ${MAX_QUERY_LENGTH} characters` };
  const indicator = readIndicator(trimmed);
  if (indicator) return { ok: true, query: indicator };
  const network = readNetwork(trimmed);
  if (network) return network;
  return { ok: true, query: readText(trimmed) };
}

/**
 * One value of a bulk lookup, as written: the indicator it is, or why it is
 * none (a network or free text is not a value the hub has sightings of).
 */
export function readLookupValue(
  written: string,
): { ok: true; query: IndicatorQuery } | { ok: false; reason: string } {
  const read = readQuery(written);
  if (!read.ok) return read;
  switch (read.query.kind) {
    case 'indicator':
      return { ok: true, query: read.query };
    case 'network':
      return { ok: false, reason: 'is a network: look up addresses, or search for the network' };
    case 'text':
      return { ok: false, reason: 'is not an indicator of any type the hub correlates' };
  }
}

function readIndicator(value: string): IndicatorQuery | undefined {
  const bare = value.replace(WRAPPED, '').trim();
  const plain = refang(bare).normalize('NFKC');
  if (/\s/u.test(plain)) return undefined;
  const as = (type: IndicatorType, text: string = value): IndicatorQuery | undefined => {
    const read = canonicalIndicator(type, text);
    return read.ok ? { kind: 'indicator', indicator: read.indicator, readAs: type } : undefined;
  };
  if (CVE.test(plain)) return as('cve');
  for (const [type, length] of HASHES) {
    if (plain.length === length && /^[0-9a-f]+$/iu.test(plain)) return as(type);
  }
  if (SCHEME.test(plain)) return as('url');
  if (/^mailto:/iu.test(plain) || plain.includes('@')) return as('email');
  if (NETWORK.test(plain)) return undefined;
  // Only digits and dots can be IPv4; a colon, IPv6 (an IPv4-mapped one reads as IPv4).
  const address = /^[0-9.]+$/u.test(plain) ? as('ipv4') : plain.includes(':') ? as('ipv6') : undefined;
  if (address) return address;
  if (!plain.includes('.')) return undefined;
  const slash = plain.search(/[/?#]/u);
  if (slash > 0) {
    // `evil.example/login`: which scheme was meant is unknown, so the host is
    // what is sought (every report carrying a URL on it has the host as a sighting).
    const host = canonicalDomain(plain.slice(0, slash));
    return host.ok
      ? { kind: 'indicator', indicator: { type: 'domain', value: host.value }, readAs: 'url-without-scheme' }
      : undefined;
  }
  return as('domain', plain);
}

function readNetwork(value: string): QueryResult | undefined {
  const plain = refang(value.replace(WRAPPED, '').trim()).normalize('NFKC');
  if (!NETWORK.test(plain)) return undefined;
  const type = plain.includes(':') ? 'ipv6' : 'ipv4';
  const network = canonicalCidr(type, plain);
  return network.ok
    ? { ok: true, query: { kind: 'network', type, cidr: network.value } }
    : { ok: false, reason: network.reason };
}

function readText(value: string): TextQuery {
  const text = value.replace(/\s+/gu, ' ');
  const longest = Math.max(...text.split(' ').map((word) => [...word].length));
  return {
    kind: 'text',
    text,
    pattern: `%${text.replace(/[\\%_]/gu, (character) => `\\${character}`)}%`,
    scope: longest >= TRIGRAM_LENGTH ? 'all' : 'recent',
  };
}
