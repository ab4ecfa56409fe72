/** What the rules may be tuned with; every service that runs them must use the same values. */
export interface CorrelationSettings {
  /** Two sightings correlate when detected at most this far apart (default 14 days). */
  windowMs: number;
  /** An indicator reported by more organisations than this within one window is too common (default 25). */
  tooCommonOrganisations: number;
  /**
   * The most reports an alert holds (default 500). One more, or more than
   * this many sightings of one indicator within one window, makes it too
   * common. It bounds an alert's size and the rows read per indicator.
   */
  maxContributions: number;
  /** Reports of two organisations sharing at least this many indicators form a campaign (default 2). */
  campaignMinIndicators: number;
  /** A sector surge: at least this many reports of one category from one sector (default 5) … */
  surgeReports: number;
  /** … detected within this period (default 60 minutes). */
  surgePeriodMs: number;
  /**
   * Surge alerts are one per sector, category and day; the day starts at
   * midnight in this offset from UTC (default +9 h, Japan), when reports are
   * fewest, so a surge is rarely split between two days.
   */
  surgeDayOffsetMinutes: number;
  /** A campaign lists at most this many indicators (the first in canonical order; default 50). */
  maxListedIndicators: number;
}

export const DEFAULT_CORRELATION_SETTINGS: CorrelationSettings = {
  windowMs: 14 * 24 * 3_600_000,
  tooCommonOrganisations: 25,
  maxContributions: 500,
  campaignMinIndicators: 2,
  surgeReports: 5,
  surgePeriodMs: 60 * 60_000,
  surgeDayOffsetMinutes: 9 * 60,
  maxListedIndicators: 50,
};

/**
 * Rows read per indicator and per sector around one report. More than this
 * within ±window means some window holding the report has more than
 * `maxContributions` sightings (one half of the range must), so reading
 * further could only confirm that the indicator is too common.
 */
export function sightingLimit(settings: CorrelationSettings): number {
  return 2 * settings.maxContributions + 1;
}
