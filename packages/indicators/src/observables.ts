import { canonicalIndicator } from './canonical.js';
import { indicatorKey, type CanonicalIndicator, type IndicatorType } from './types.js';

export interface ReadIndicator {
  type: IndicatorType;
  value: string;
  /** Null when the value is not an indicator of its type. */
  canonical: CanonicalIndicator | null;
}

/** One observable of a report: what correlates, once per report however often it appears. */
export interface Observable {
  key: string;
  indicator: CanonicalIndicator;
  /** False when the hub derived it and the report never wrote it itself. */
  written: boolean;
  /** The report's canonical URLs whose host it is (sorted; empty for most). */
  hostOf: string[];
}

/**
 * Reads a report's indicators as written: the canonical form of each, and the
 * report's distinct observables (written ones, then those derived from
 * URLs), ordered by key so every reader sees them in the same order.
 */
export function readIndicators(indicators: readonly { type: IndicatorType; value: string }[]): {
  written: ReadIndicator[];
  observables: Observable[];
} {
  const observables = new Map<string, Observable>();
  const written = indicators.map(({ type, value }): ReadIndicator => {
    const result = canonicalIndicator(type, value);
    if (!result.ok) return { type, value, canonical: null };
    const key = indicatorKey(result.indicator);
    const known = observables.get(key);
    if (known) known.written = true;
    else observables.set(key, { key, indicator: result.indicator, written: true, hostOf: [] });
    for (const derived of result.derived) {
      const derivedKey = indicatorKey(derived);
      const host = observables.get(derivedKey) ?? {
        key: derivedKey,
        indicator: { type: derived.type, value: derived.value },
        written: false,
        hostOf: [],
      };
      if (!host.hostOf.includes(derived.from)) host.hostOf.push(derived.from);
      observables.set(derivedKey, host);
    }
    return { type, value, canonical: result.indicator };
  });
  for (const observable of observables.values()) observable.hostOf.sort();
  return {
    written,
    observables: [...observables.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  };
}
