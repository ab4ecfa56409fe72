import { isIP } from 'node:net';

/**
 * Server-side request forgery: a webhook URL is the member's to choose, and
 * the hub connects to it from inside the operator's network. Only addresses
 * on the public internet may be reached, unless the operator's allow-list
 * names the host (a receiver of its own, the tests' local receiver).
 */

/** Why an address may not be connected to; null for a public address. */
export type AddressRefusal =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'the hub itself'
  | 'not an IP address';

type Range = readonly [prefix: readonly number[], bits: number, refusal: AddressRefusal];

// IPv4 ranges as bytes and prefix length (IANA special-purpose registry).
const IPV4_RANGES: readonly Range[] = [
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'shared'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'reserved'],
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 88, 99, 0], 24, 'reserved'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

// IPv6 ranges as bytes; the forms that embed an IPv4 address are judged by that address instead.
const IPV6_RANGES: readonly Range[] = [
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'reserved'], // site-local, deprecated but still routed by some stacks
  [[0xfc, 0x00], 7, 'unique-local'],
  [[0xff, 0x00], 8, 'multicast'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x20, 0x01, 0x00, 0x02, 0x00, 0x00], 48, 'benchmarking'],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'reserved'], // discard-only
];

function inRange(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const take = Math.min(8, bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    const index = bit / 8;
    if (((bytes[index] ?? 0) & mask) !== ((prefix[index] ?? 0) & mask)) return false;
  }
  return true;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address (`::` expanded, a dotted IPv4 tail read). Assumes `isIP` said 6. */
export function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  let tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail = ipv4Bytes(dotted[1]!);
    text = text.slice(0, -dotted[1]!.length) + (text.endsWith(':' + dotted[1]) ? '0:0' : '');
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').filter((g) => g !== '') : []);
  const before = groups(head);
  const after = groups(rest);
  const missing = 8 - before.length - after.length;
  const all = [...before, ...(rest === undefined ? [] : Array<string>(missing).fill('0')), ...after];
  const bytes = all.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function classifyIpv4(bytes: readonly number[]): AddressRefusal | null {
  if (bytes.every((b) => b === 255)) return 'reserved'; // limited broadcast, inside 240/4 anyway
  for (const [prefix, bits, refusal] of IPV4_RANGES) if (inRange(bytes, prefix, bits)) return refusal;
  return null;
}

function classifyIpv6(bytes: readonly number[]): AddressRefusal | null {
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  if (zeros(0, 16)) return 'unspecified';
  if (zeros(0, 15) && bytes[15] === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped), ::a.b.c.d (IPv4-compatible), 64:ff9b::a.b.c.d (NAT64) and
  // ::ffff:0:a.b.c.d (IPv4-translated) reach the IPv4 address they carry.
  const embedsIpv4 =
    (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) ||
    zeros(0, 12) ||
    (zeros(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zeros(10, 12)) ||
    (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12));
  if (embedsIpv4) return classifyIpv4(bytes.slice(12, 16));
  // 6to4 (2002::/16) carries an IPv4 address in bytes 2-5.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return classifyIpv4(bytes.slice(2, 6));
  for (const [prefix, bits, refusal] of IPV6_RANGES) if (inRange(bytes, prefix, bits)) return refusal;
  return null;
}

/** A canonical text for comparing addresses: IPv4 as is, IPv6 as its bytes in hex. */
function addressKey(address: string): string {
  const family = isIP(address);
  if (family === 4) return address;
  if (family === 6) {
    const bytes = ipv6Bytes(address);
    // An IPv4-mapped form is the same host as the IPv4 address.
    if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
      return bytes.slice(12).join('.');
    return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  return address;
}

/**
 * Why the hub may not connect to this address, or null when it may: every
 * loopback, private, shared, link-local, unique-local, multicast,
 * unspecified, reserved or documentation range, in any IPv6 form that
 * embeds one, and any of the hub's own addresses.
 */
export function refusedAddress(address: string, ownAddresses: Iterable<string> = []): AddressRefusal | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const range = family === 4 ? classifyIpv4(ipv4Bytes(address)) : classifyIpv6(ipv6Bytes(address));
  if (range) return range;
  const key = addressKey(address);
  for (const own of ownAddresses) if (addressKey(own) === key) return 'the hub itself';
  return null;
}

/** A host name as URLs and DNS compare it: lower case, no trailing dot, IPv6 without brackets. */
export function normaliseHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** Whether the operator's allow-list names this host (exact names or addresses, no wildcards). */
export function isHostAllowed(host: string, allowList: readonly string[]): boolean {
  const wanted = normaliseHost(host);
  return allowList.some((allowed) => normaliseHost(allowed) === wanted);
}

/** A webhook URL that passed the checks that need no DNS: HTTPS, a host, no credentials. */
export interface WebhookTarget {
  url: URL;
  host: string;
}

/**
 * The checks a webhook URL must pass before anything is resolved: HTTPS, a
 * host, no user name or password (they would travel in every request and
 * show in every listing). Returns the reason it is refused, or the target.
 */
export function parseWebhookUrl(
  text: string,
): { ok: true; target: WebhookTarget } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'must be an https:// URL' };
  if (url.username || url.password) return { ok: false, reason: 'must not carry a user name or password' };
  if (!url.hostname) return { ok: false, reason: 'must name a host' };
  url.hash = '';
  return { ok: true, target: { url, host: normaliseHost(url.hostname) } };
}

/**
 * Judges the addresses a host resolved to: every one must be public (a
 * resolver answering with one public and one private address must not get
 * the private one used). Returns the address to connect to, or the refusal.
 */
export function judgeResolved(
  addresses: readonly string[],
  ownAddresses: Iterable<string> = [],
): { ok: true; address: string } | { ok: false; reason: string } {
  if (addresses.length === 0) return { ok: false, reason: 'does not resolve to any address' };
  const own = [...ownAddresses];
  for (const address of addresses) {
    const refusal = refusedAddress(address, own);
    if (refusal) return { ok: false, reason: `resolves to ${address} (${refusal})` };
  }
  return { ok: true, address: addresses[0]! };
}
