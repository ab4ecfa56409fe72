import { SEVERITIES, TLP_LEVELS, type Severity, type Tlp } from '@renkei/schema';

/** An alert built from several reports is as restricted as the most restricted of them. */
export function mostRestrictiveTlp(levels: readonly Tlp[]): Tlp {
  if (levels.length === 0) throw new Error('mostRestrictiveTlp needs at least one level');
  return levels.reduce((a, b) => (TLP_LEVELS.indexOf(b) > TLP_LEVELS.indexOf(a) ? b : a));
}

export function highestSeverity(severities: readonly Severity[]): Severity {
  if (severities.length === 0) throw new Error('highestSeverity needs at least one severity');
  return severities.reduce((a, b) => (SEVERITIES.indexOf(b) > SEVERITIES.indexOf(a) ? b : a));
}
