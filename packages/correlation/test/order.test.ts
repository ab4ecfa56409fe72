import { describe, expect, it } from 'vitest';
import { SEVERITIES, TLP_LEVELS, type Severity, type Tlp } from '@renkei/schema';
import { highestSeverity, mostRestrictiveTlp } from '@renkei/correlation';

const tlpPairs = TLP_LEVELS.flatMap((a, i) =>
  TLP_LEVELS.map((b, j) => [a, b, TLP_LEVELS[Math.max(i, j)]!] as const),
);
const severityPairs = SEVERITIES.flatMap((a, i) =>
  SEVERITIES.map((b, j) => [a, b, SEVERITIES[Math.max(i, j)]!] as const),
);

describe('mostRestrictiveTlp', () => {
  it.each(TLP_LEVELS.map((t) => [t]))('returns the only level %s', (tlp) => {
    expect(mostRestrictiveTlp([tlp])).toBe(tlp);
  });

  it.each(tlpPairs)('%s with %s → %s', (a, b, expected) => {
    expect(mostRestrictiveTlp([a, b])).toBe(expected);
  });

  it('ranks AMBER+STRICT between AMBER and RED', () => {
    expect(mostRestrictiveTlp(['AMBER', 'AMBER+STRICT', 'GREEN'])).toBe('AMBER+STRICT');
    expect(mostRestrictiveTlp(['AMBER+STRICT', 'RED'])).toBe('RED');
  });

  it('does not depend on order', () => {
    const levels: Tlp[] = ['GREEN', 'RED', 'CLEAR', 'AMBER'];
    expect(mostRestrictiveTlp(levels)).toBe('RED');
    expect(mostRestrictiveTlp([...levels].reverse())).toBe('RED');
  });

  it('throws on an empty list', () => {
    expect(() => mostRestrictiveTlp([])).toThrow(/at least one/);
  });
});

describe('highestSeverity', () => {
  it.each(SEVERITIES.map((s) => [s]))('returns the only severity %s', (severity) => {
    expect(highestSeverity([severity])).toBe(severity);
  });

  it.each(severityPairs)('%s with %s → %s', (a, b, expected) => {
    expect(highestSeverity([a, b])).toBe(expected);
  });

  it('picks the highest of many, in any order', () => {
    const severities: Severity[] = ['medium', 'low', 'critical', 'high', 'low'];
    expect(highestSeverity(severities)).toBe('critical');
    expect(highestSeverity([...severities].reverse())).toBe('critical');
  });

  it('throws on an empty list', () => {
    expect(() => highestSeverity([])).toThrow(/at least one/);
  });
});
