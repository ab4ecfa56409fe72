import type { IndicatorType } from '@renkei/schema';

const PATHS: Readonly<Record<Exclude<IndicatorType, 'cve'>, string>> = {
  ipv4: 'ipv4-addr:value',
  ipv6: 'ipv6-addr:value',
  domain: 'domain-name:value',
  url: 'url:value',
  email: 'email-addr:value',
  md5: 'file:hashes.MD5',
  sha1: "file:hashes.'SHA-1'",
  sha256: "file:hashes.'SHA-256'",
};

/** A string literal of the STIX patterning language: only the quote and the backslash are escaped. */
export function quotePatternString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** The pattern of one indicator. A CVE has none: it is exported as a vulnerability. */
export function formatPattern(type: Exclude<IndicatorType, 'cve'>, value: string): string {
  return `[${PATHS[type]} = ${quotePatternString(value)}]`;
}
