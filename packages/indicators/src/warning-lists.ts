import ipaddr from 'ipaddr.js';
import type { CanonicalIndicator, IndicatorType } from './types.js';

/** A warning list in MISP's format (misp-warninglists `list.json`). */
export interface WarningList {
  name: string;
  description?: string;
  version?: number;
  type: 'cidr' | 'string' | 'hostname' | 'substring' | 'regex';
  matching_attributes: string[];
  list: string[];
}

const LIST_TYPES = new Set<WarningList['type']>(['cidr', 'string', 'hostname', 'substring', 'regex']);

/**
 * Which of the hub's indicator types a MISP attribute type covers. Composite
 * types (`domain|ip`, `filename|sha256`) name the half the hub has.
 */
const ATTRIBUTE_TYPES: Record<string, readonly IndicatorType[]> = {
  'ip-src': ['ipv4', 'ipv6'],
  'ip-dst': ['ipv4', 'ipv6'],
  'ip-src|port': ['ipv4', 'ipv6'],
  'ip-dst|port': ['ipv4', 'ipv6'],
  'domain|ip': ['domain', 'ipv4', 'ipv6'],
  domain: ['domain'],
  hostname: ['domain'],
  url: ['url'],
  uri: ['url'],
  link: ['url'],
  email: ['email'],
  'email-src': ['email'],
  'email-dst': ['email'],
  'target-email': ['email'],
  'whois-registrant-email': ['email'],
  md5: ['md5'],
  'filename|md5': ['md5'],
  sha1: ['sha1'],
  'filename|sha1': ['sha1'],
  sha256: ['sha256'],
  'filename|sha256': ['sha256'],
  vulnerability: ['cve'],
};

/** Reads one list file's JSON, refusing what the matcher could not honour. */
export function parseWarningList(json: unknown, source: string): WarningList {
  const problem = (what: string) => new Error(`warning list ${source}: ${what}`);
  if (typeof json !== 'object' || json === null) throw problem('not a JSON object');
  const candidate = json as Record<string, unknown>;
  const { name, type, list, matching_attributes: attributes } = candidate;
  if (typeof name !== 'string' || name.length === 0) throw problem('no "name"');
  if (typeof type !== 'string' || !LIST_TYPES.has(type as WarningList['type'])) {
    throw problem(`unsupported "type" ${JSON.stringify(type)}`);
  }
  if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'string')) {
    throw problem('"list" is not an array of strings');
  }
  if (!Array.isArray(attributes) || !attributes.every((entry) => typeof entry === 'string')) {
    throw problem('"matching_attributes" is not an array of strings');
  }
  return {
    name,
    ...(typeof candidate.description === 'string' ? { description: candidate.description } : {}),
    ...(typeof candidate.version === 'number' ? { version: candidate.version } : {}),
    type: type as WarningList['type'],
    matching_attributes: attributes as string[],
    list: list as string[],
  };
}

/** Answers, for a canonical indicator, the name of the first list that holds it. */
export interface WarningListMatcher {
  match(indicator: CanonicalIndicator): string | undefined;
  /** The lists loaded, for logs: name and entry count. */
  readonly lists: readonly { name: string; entries: number }[];
}

/**
 * An indicator as the lists look at it, each view worked out at most once
 * per lookup: every list used to lower-case the value, parse a URL's host
 * and parse an address again for itself, and a report's indicators meet
 * every list.
 */
class Probe {
  private lowerValue?: string;
  private urlHostValue?: string;
  private parsedAddress?: ipaddr.IPv4 | ipaddr.IPv6 | null;

  constructor(readonly indicator: CanonicalIndicator) {}

  get lower(): string {
    return (this.lowerValue ??= this.indicator.value.toLowerCase());
  }

  get urlHost(): string {
    return (this.urlHostValue ??= urlHost(this.indicator.value));
  }

  /** The address the value (a URL's host) is, if it is one. */
  get address(): ipaddr.IPv4 | ipaddr.IPv6 | null {
    if (this.parsedAddress === undefined) {
      const text = this.indicator.type === 'url' ? bareHost(this.urlHost) : this.indicator.value;
      this.parsedAddress = mayBeAddress(text) && ipaddr.isValid(text) ? ipaddr.parse(text) : null;
    }
    return this.parsedAddress;
  }
}

type Test = (probe: Probe) => boolean;

/**
 * Compiles lists once so that a lookup costs a few hash probes: CIDR lists
 * keep one set of network addresses per prefix length (a bare address is a
 * /32 or /128), string lists a set, hostname lists a set probed with each
 * parent domain.
 */
export function compileWarningLists(lists: readonly WarningList[]): WarningListMatcher {
  const compiled = lists.map((list) => {
    const types = new Set(list.matching_attributes.flatMap((attribute) => ATTRIBUTE_TYPES[attribute] ?? []));
    return { name: list.name, types, test: compileTest(list) };
  });
  return {
    lists: lists.map((list) => ({ name: list.name, entries: list.list.length })),
    match(indicator) {
      let probe: Probe | undefined;
      for (const list of compiled) {
        if (list.types.has(indicator.type) && list.test((probe ??= new Probe(indicator)))) return list.name;
      }
      return undefined;
    },
  };
}

function compileTest(list: WarningList): Test {
  switch (list.type) {
    case 'cidr':
      return cidrTest(list);
    case 'string': {
      const entries = new Set(list.list.map((entry) => entry.trim().toLowerCase()));
      // Entries of host lists are host names, so a URL is matched by its host.
      return (probe) =>
        entries.has(probe.lower) || (probe.indicator.type === 'url' && entries.has(probe.urlHost));
    }
    case 'hostname': {
      const entries = new Set(list.list.map((entry) => entry.trim().toLowerCase().replace(/\.$/u, '')));
      return (probe) => {
        const host = probe.indicator.type === 'url' ? probe.urlHost : probe.lower;
        for (let name = host; name.length > 0;) {
          if (entries.has(name)) return true;
          const dot = name.indexOf('.');
          if (dot === -1) return false;
          name = name.slice(dot + 1);
        }
        return false;
      };
    }
    case 'substring': {
      const entries = list.list
        .map((entry) => entry.trim().toLowerCase())
        .filter((entry) => entry.length > 0);
      return (probe) => {
        const value = probe.lower;
        return entries.some((entry) => value.includes(entry));
      };
    }
    case 'regex': {
      const patterns = list.list.map((entry) => pcreToRegExp(entry, list.name));
      return (probe) => patterns.some((pattern) => pattern.test(probe.indicator.value));
    }
  }
}

/**
 * IPv4 networks are kept as 32-bit numbers (masking a number costs nothing,
 * where the byte-string key cost an array and a join per prefix length);
 * IPv6 keeps byte-string keys.
 */
function cidrTest(list: WarningList): Test {
  const ipv4 = new Map<number, Set<number>>();
  const ipv6 = new Map<number, Set<string>>();
  for (const entry of list.list) {
    const text = entry.trim();
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    let prefix: number;
    try {
      if (text.includes('/')) {
        [address, prefix] = ipaddr.parseCIDR(text);
      } else {
        address = ipaddr.parse(text);
        prefix = address.kind() === 'ipv4' ? 32 : 128;
      }
    } catch {
      throw new Error(`warning list ${list.name}: "${text}" is not an address or CIDR block`);
    }
    if (address.kind() === 'ipv4') {
      const set = ipv4.get(prefix) ?? new Set<number>();
      set.add(ipv4Network(ipv4Number(address as ipaddr.IPv4), prefix));
      ipv4.set(prefix, set);
    } else {
      const set = ipv6.get(prefix) ?? new Set<string>();
      set.add(networkKey(address, prefix));
      ipv6.set(prefix, set);
    }
  }
  return (probe) => {
    const address = probe.address;
    if (address === null) return false;
    if (address.kind() === 'ipv4') {
      if (ipv4.size === 0) return false;
      const n = ipv4Number(address as ipaddr.IPv4);
      for (const [prefix, networks] of ipv4) {
        if (networks.has(ipv4Network(n, prefix))) return true;
      }
      return false;
    }
    for (const [prefix, networks] of ipv6) {
      if (networks.has(networkKey(address, prefix))) return true;
    }
    return false;
  };
}

function ipv4Number(address: ipaddr.IPv4): number {
  const [a, b, c, d] = address.octets as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** The network address of `n/prefix` (a shift by 32 is no shift in JavaScript: /0 is masked apart). */
function ipv4Network(n: number, prefix: number): number {
  return prefix <= 0 ? 0 : (n & (0xffffffff << (32 - Math.min(prefix, 32)))) >>> 0;
}

/**
 * False for what cannot be an address (most host names), before the costly
 * parse: every CIDR list asks about every domain and URL of every report.
 * IPv4 parts may be decimal, octal or hexadecimal (0x7f.1); IPv6 has colons.
 */
function mayBeAddress(text: string): boolean {
  return text.includes(':') || /^[0-9a-fx.]+$/iu.test(text);
}

/** The network address of `address/prefix` as bytes, so a host address inside the block finds it. */
function networkKey(address: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): string {
  const bytes = address.toByteArray();
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 1) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out.push(bytes[i]! & ((0xff << (8 - bits)) & 0xff));
  }
  return out.join('.');
}

function urlHost(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** `/pattern/flags` as MISP writes PCRE; flags JavaScript does not know are refused, not ignored. */
function pcreToRegExp(entry: string, listName: string): RegExp {
  const match = /^\/(.*)\/([a-z]*)$/su.exec(entry.trim());
  if (!match) throw new Error(`warning list ${listName}: "${entry}" is not a /pattern/flags regex`);
  const flags = match[2]!;
  if (!/^[ims]*$/u.test(flags))
    throw new Error(`warning list ${listName}: unsupported regex flags "${flags}"`);
  try {
    return new RegExp(match[1]!, flags);
  } catch (error) {
    throw new Error(`warning list ${listName}: invalid regex "${entry}"`, { cause: error });
  }
}
