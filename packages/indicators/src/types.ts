/**
 * The kinds of observable the hub correlates. They live here, not in the
 * schema package, so this package depends on nothing of the hub's and the
 * schema can validate values with it without a workspace cycle.
 */
export const INDICATOR_TYPES = [
  'ipv4',
  'ipv6',
  'domain',
  'url',
  'email',
  'md5',
  'sha1',
  'sha256',
  'cve',
] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

/** An observable in its canonical form: what correlates and what alerts show. */
export interface CanonicalIndicator {
  type: IndicatorType;
  value: string;
}

/** A further observable the hub reads out of a reported one (a URL's host). */
export interface DerivedIndicator extends CanonicalIndicator {
  /** The canonical value it was derived from. */
  from: string;
}

export type CanonicalResult =
  | {
      ok: true;
      /**
       * Usually of the written type; an IPv4-mapped IPv6 address is the IPv4
       * observable, so its canonical type is `ipv4`.
       */
      indicator: CanonicalIndicator;
      derived: DerivedIndicator[];
    }
  | { ok: false; reason: string };

/** One string per observable, for locks, lookups and alert keys. */
export function indicatorKey(indicator: CanonicalIndicator): string {
  return `${indicator.type}:${indicator.value}`;
}
