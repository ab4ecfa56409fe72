/**
 * The rules a recomputed view must satisfy before a non-analyst sees it: the
 * contributions that viewer may know of must raise the alert on their own,
 * or its mere existence would tell of reports the viewer may not know of.
 *
 * They mirror the correlator's defaults and must be at least as strict as
 * its configuration (a window no longer, thresholds no lower): a looser rule
 * here could show an alert that only hidden reports made.
 */
export const VIEW_RULES = {
  /** Reports correlate only when detected within this long of each other. */
  correlationWindowMs: 14 * 24 * 3_600_000,
  /** A campaign: two reports of different organisations sharing this many indicators. */
  campaignMinimumSharedIndicators: 2,
  /** A sector surge: this many reports of one category from one sector… */
  surgeMinimumReports: 5,
  /** …detected within this long. */
  surgeWindowMs: 60 * 60_000,
  /** More organisations than this make an indicator too common to be news. */
  tooCommonOrganisations: 25,
} as const;

export type ViewRules = typeof VIEW_RULES;
