import ipaddr from 'ipaddr.js';
import { canonicalIndicator } from './canonical.js';

/**
 * A network for an exclusion: `203.0.113.0/24`, `2001:db8::/32`. The address
 * must be the network's own (no host bits), so what an analyst wrote is what
 * is excluded; the family must match the type.
 */
export function canonicalCidr(
  type: 'ipv4' | 'ipv6',
  written: string,
): { ok: true; value: string } | { ok: false; reason: string } {
  const text = written.trim();
  if (!ipaddr.isValidCIDR(text))
    return { ok: false, reason: 'is not a network in CIDR form (address/prefix)' };
  const [address, prefix] = ipaddr.parseCIDR(text);
  if (address.kind() !== type) return { ok: false, reason: `is not an ${type} network` };
  if (type === 'ipv4' && !canonicalIndicator('ipv4', text.slice(0, text.indexOf('/'))).ok) {
    return { ok: false, reason: 'is not a dotted-quad IPv4 network' };
  }
  const network =
    address.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(text)
      : ipaddr.IPv6.networkAddressFromCIDR(text);
  if (
    network.toString() !== address.toString() &&
    network.toNormalizedString() !== address.toNormalizedString()
  ) {
    return { ok: false, reason: `has host bits set: the network is ${formatted(network)}/${prefix}` };
  }
  return { ok: true, value: `${formatted(network)}/${prefix}` };
}

function formatted(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}
