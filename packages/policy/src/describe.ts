import type {
  AlertIndicator,
  AlertKind,
  AlertPhrase,
  AlertText,
  ReportCategory,
  Sector,
} from '@renkei/schema';

/** What a recomputed view may say, all of it from contributions the viewer may know of. */
export interface ViewFacts {
  kind: AlertKind;
  exercise: boolean;
  indicators: readonly AlertIndicator[];
  organisationCount: number;
  /** Organisations that count but share nothing more (AMBER reports of the same indicator). */
  countedOnly: number;
  /** Sectors of the reports the viewer may read or that are shared with everyone. */
  sectors: readonly Sector[];
  /** How many of those reports there are. */
  reportCount: number;
  categories: readonly ReportCategory[];
  firstDetectedAt: string;
  lastDetectedAt: string;
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function indicatorList(indicators: readonly AlertIndicator[]): string {
  const named = indicators.slice(0, 5).map((indicator) => `${indicator.type} ${indicator.value}`);
  const more = indicators.length - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
}

function sectorsPhrase(facts: ViewFacts): string {
  const known = `${plural(facts.sectors.length, 'sector')} (${facts.sectors.join(', ')})`;
  return facts.countedOnly > 0
    ? `${known}; ${plural(facts.countedOnly, 'organisation')} shared only that ${facts.countedOnly === 1 ? 'it' : 'they'} saw it too`
    : known;
}

function period(facts: ViewFacts): string {
  return facts.firstDetectedAt === facts.lastDetectedAt
    ? `detected ${facts.firstDetectedAt}`
    : `detected between ${facts.firstDetectedAt} and ${facts.lastDetectedAt}`;
}

/** The indicators a phrase names (the first five) and how many more there are. */
function indicatorParams(indicators: readonly AlertIndicator[]) {
  return {
    indicators: indicators.slice(0, 5).map((indicator) => `${indicator.type} ${indicator.value}`),
    more: Math.max(0, indicators.length - 5),
  };
}

function periodPhrase(facts: ViewFacts): AlertPhrase {
  return facts.firstDetectedAt === facts.lastDetectedAt
    ? { code: 'detected-at', params: { at: facts.firstDetectedAt } }
    : { code: 'detected-between', params: { from: facts.firstDetectedAt, to: facts.lastDetectedAt } };
}

/**
 * The same title and reasons as {@link describeView}, as codes and
 * parameters a console renders in the reader's language (sectors and
 * categories as their codes, times as ISO instants for the reader's zone).
 */
export function describeViewText(facts: ViewFacts): AlertText {
  const organisations = facts.organisationCount;
  const sectors: AlertPhrase = {
    code: 'in-sectors',
    params: { sectors: [...facts.sectors], countedOnly: facts.countedOnly },
  };
  switch (facts.kind) {
    case 'shared-indicator':
      return {
        title: { code: 'shared-indicator', params: { ...indicatorParams(facts.indicators), organisations } },
        reasons: [
          { code: 'reported', params: { ...indicatorParams(facts.indicators), organisations } },
          sectors,
          periodPhrase(facts),
        ],
      };
    case 'campaign':
      return {
        title: { code: 'campaign', params: { organisations, count: facts.indicators.length } },
        reasons: [
          { code: 'reported-same', params: { ...indicatorParams(facts.indicators), organisations } },
          sectors,
          periodPhrase(facts),
        ],
      };
    case 'sector-surge': {
      const params = {
        categories: [...facts.categories],
        sectors: [...facts.sectors],
        reports: facts.reportCount,
        organisations,
      };
      return {
        title: { code: 'sector-surge', params },
        reasons: [{ code: 'surge', params }, periodPhrase(facts)],
      };
    }
    case 'watchlist-match':
      return {
        title: { code: 'watchlist-match', params: indicatorParams(facts.indicators) },
        reasons: [
          { code: 'reported', params: { ...indicatorParams(facts.indicators), organisations } },
          periodPhrase(facts),
        ],
      };
  }
}

/**
 * Title and reasons of a recomputed view, per alert kind, in the plain words
 * the correlator uses: what matched, how many organisations and sectors, over
 * what period. Written here, not taken from the record, because the record's
 * words count every report, hidden ones included.
 */
export function describeView(facts: ViewFacts): { title: string; reasons: string[] } {
  const prefix = facts.exercise ? '[EXERCISE] ' : '';
  const organisations = plural(facts.organisationCount, 'organisation');
  switch (facts.kind) {
    case 'shared-indicator': {
      const described = indicatorList(facts.indicators);
      return {
        title: `${prefix}${described} reported by ${organisations}`,
        reasons: [`${organisations} reported ${described}`, `in ${sectorsPhrase(facts)}`, period(facts)],
      };
    }
    case 'campaign':
      return {
        title: `${prefix}Campaign: ${organisations} share ${plural(facts.indicators.length, 'indicator')}`,
        reasons: [
          `${organisations} reported the same indicators: ${indicatorList(facts.indicators)}`,
          `in ${sectorsPhrase(facts)}`,
          period(facts),
        ],
      };
    case 'sector-surge': {
      const category = facts.categories.join(', ');
      const sector = facts.sectors.join(', ');
      return {
        title: `${prefix}Surge of ${category} reports in ${sector}: ${plural(facts.reportCount, 'report')}`,
        reasons: [
          `${plural(facts.reportCount, 'report')} of ${category} from ${organisations} in ${sector}`,
          period(facts),
        ],
      };
    }
    case 'watchlist-match':
      // The watchlist is the GSOC's own: nobody else is shown these (see viewAlert).
      return {
        title: `${prefix}Watchlist match: ${indicatorList(facts.indicators)}`,
        reasons: [`${organisations} reported ${indicatorList(facts.indicators)}`, period(facts)],
      };
  }
}
