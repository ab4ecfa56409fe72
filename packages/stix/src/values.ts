import { isIPv4, isIPv6 } from 'node:net';
import { TLP_LEVELS, indicatorSchema, type Indicator, type IndicatorType, type Tlp } from '@renkei/schema';

/**
 * Small rules the STIX and MISP importers share. Values are only trimmed: the
 * hub's canonical forms belong to `@renkei/indicators`, and ingest validates
 * every submission through the shared schema anyway.
 */

/** The most restrictive of the given labels; undefined when there is none. */
export function mostRestrictiveTlp(levels: Iterable<Tlp | undefined>): Tlp | undefined {
  let result: Tlp | undefined;
  for (const level of levels) {
    if (
      level !== undefined &&
      (result === undefined || TLP_LEVELS.indexOf(level) > TLP_LEVELS.indexOf(result))
    ) {
      result = level;
    }
  }
  return result;
}

/** The least restrictive of the given labels; undefined when there is none. */
export function leastRestrictiveTlp(levels: Iterable<Tlp>): Tlp | undefined {
  let result: Tlp | undefined;
  for (const level of levels) {
    if (result === undefined || TLP_LEVELS.indexOf(level) < TLP_LEVELS.indexOf(result)) result = level;
  }
  return result;
}

// Defanged separators seen in the wild; undone only to judge the syntax, never in the value passed on.
const DEFANGED_DOT = /\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)/gi;
const DEFANGED_COLON = /\[:\]/g;

/**
 * Whether a value written where either address family may appear (a MISP
 * `ip-dst`, a STIX `network-traffic` reference) is IPv4 or IPv6, by its syntax;
 * undefined when it is neither (a host name, a network range, garbage).
 */
export function addressIndicatorType(value: string): 'ipv4' | 'ipv6' | undefined {
  let plain = value.trim().replace(DEFANGED_DOT, '.').replace(DEFANGED_COLON, ':');
  if (plain.startsWith('[') && plain.endsWith(']')) plain = plain.slice(1, -1);
  if (isIPv4(plain)) return 'ipv4';
  if (isIPv6(plain)) return 'ipv6';
  return undefined;
}

export type IndicatorCheck = { ok: true; indicator: Indicator } | { ok: false; reason: string };

/**
 * One indicator as Renkei's report schema accepts it, or why not. Network
 * ranges are refused here because an address indicator names one host: a
 * range would correlate every report about any host in it.
 */
export function checkIndicator(type: IndicatorType, rawValue: string, role?: string): IndicatorCheck {
  const value = rawValue.trim();
  if (value === '') return { ok: false, reason: `the ${type} value is empty` };
  if ((type === 'ipv4' || type === 'ipv6') && value.includes('/')) {
    return { ok: false, reason: `"${clip(value, 80)}" is a network range, not an address` };
  }
  const parsed = indicatorSchema.safeParse(role === undefined ? { type, value } : { type, value, role });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `"${clip(value, 80)}" is not a valid ${type}: ${issue?.message ?? 'invalid'}`,
    };
  }
  return { ok: true, indicator: parsed.data };
}

/** Text cut to `max` characters, with an ellipsis when something was cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  // Never split a surrogate pair: half of one cannot be stored.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Free text made storable: NUL and unpaired surrogates (which PostgreSQL refuses) become U+FFFD. */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').replace(UNPAIRED_SURROGATE, '\uFFFD');
}

/** Indicators without repeats of the same type and value, first occurrence kept. */
export function uniqueIndicators(indicators: Iterable<Indicator>): Indicator[] {
  const seen = new Map<string, Indicator>();
  for (const indicator of indicators) {
    const key = `${indicator.type}\u0000${indicator.value}`;
    if (!seen.has(key)) seen.set(key, indicator);
  }
  return [...seen.values()];
}

export { importedReportId, type ImportIds } from './ids.js';
