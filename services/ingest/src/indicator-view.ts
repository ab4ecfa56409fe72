import { indicatorKey, readIndicators } from '@renkei/indicators';
import type { Report, ReportIndicatorView } from '@renkei/schema';

/**
 * Each indicator as written and canonical (read with the function the
 * correlator correlates with), then those derived from them, with the
 * suppression the correlator recorded once it processed the report.
 */
export function indicatorViews(
  report: Report,
  suppressions: ReadonlyMap<string, string>,
): ReportIndicatorView[] {
  const { written, observables } = readIndicators(report.indicators);
  const suppressedBy = (key: string) => suppressions.get(key) ?? null;
  return [
    ...written.map((read) => ({
      type: read.type,
      value: read.value,
      canonical: read.canonical,
      derived: false,
      suppressedBy: read.canonical ? suppressedBy(indicatorKey(read.canonical)) : null,
    })),
    ...observables
      .filter((observable) => !observable.written)
      .map((observable) => ({
        type: 'url' as const,
        value: observable.hostOf[0]!,
        canonical: observable.indicator,
        derived: true,
        suppressedBy: suppressedBy(observable.key),
      })),
  ];
}
