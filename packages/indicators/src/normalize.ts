import type { IndicatorType } from '@renkei/schema';

/**
 * The form correlation matches on. This is the foundation's minimal rule set:
 * surrounding space and letter case only, which is where the same observable
 * most often differs between reporters. Refanging (`hxxp`, `[.]`), IPv6
 * compression, URL canonicalisation and warning lists belong to the
 * correlation-engine work and will replace this function's body, not its use.
 */
export function normalizeIndicatorValue(type: IndicatorType, value: string): string {
  const trimmed = value.trim();
  switch (type) {
    case 'domain':
      return trimmed.toLowerCase().replace(/\.$/, '');
    case 'email':
    case 'md5':
    case 'sha1':
    case 'sha256':
    case 'ipv6':
      return trimmed.toLowerCase();
    case 'cve':
      return trimmed.toUpperCase();
    case 'ipv4':
    case 'url':
      return trimmed;
  }
}

/** One string per observable, for locks and lookups. */
export function indicatorKey(type: IndicatorType, normalizedValue: string): string {
  return `${type}:${normalizedValue}`;
}
