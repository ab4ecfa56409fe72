import { z } from 'zod';
import { cursorSchema } from './cursor.js';
import {
  indicatorTypeSchema,
  organisationIdSchema,
  reportCategorySchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
  triageStatusSchema,
} from './vocabulary.js';

/**
 * What raised an alert. `shared-indicator`: one canonical indicator from two
 * or more organisations; `campaign`: organisations whose reports share two or
 * more indicators; `sector-surge`: many reports of one category from one
 * sector in a short time; `watchlist-match`: a report carries an indicator
 * on the GSOC's watchlist.
 */
export const ALERT_KINDS = ['shared-indicator', 'campaign', 'sector-surge', 'watchlist-match'] as const;
export const alertKindSchema = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof alertKindSchema>;

/** An indicator in its canonical form: what correlates and what alerts show. */
export const alertIndicatorSchema = z.strictObject({
  type: indicatorTypeSchema,
  value: z.string().min(1),
  /** True when the hub derived it (a URL's host) rather than a reporter writing it. */
  derived: z.boolean().optional(),
});
export type AlertIndicator = z.infer<typeof alertIndicatorSchema>;

/** One report that an alert was built from, with what the rules and the policy need to judge it. */
export const alertContributionSchema = z.strictObject({
  reportId: z.uuid(),
  organisationId: organisationIdSchema,
  sector: sectorSchema,
  /** The report's TLP now: tightening a report's TLP rewrites it here in a new version. */
  tlp: tlpSchema,
  severity: severitySchema,
  category: reportCategorySchema,
  detectedAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
  /** The report's canonical indicators that put it in this alert (none for a sector surge). */
  indicators: z.array(alertIndicatorSchema),
  /** The version of the alert that first included this report. */
  addedInVersion: z.number().int().positive(),
});
export type AlertContribution = z.infer<typeof alertContributionSchema>;

/**
 * What one version of an alert changed. With the contributions, it lets the
 * policy rebuild any earlier version as a given viewer would have seen it,
 * so a change the viewer may not know of never shows as a new version.
 */
export const alertChangeSchema = z.strictObject({
  version: z.number().int().positive(),
  at: z.iso.datetime({ offset: true }),
  /**
   * `contribution`: reports joined (those with this `addedInVersion`);
   * `tlp`: a report's TLP was tightened; `too-common`: the alert passed the
   * over-correlation cap and stops raising versions.
   */
  change: z.enum(['contribution', 'tlp', 'too-common']),
  /** For `tlp`: the report, and its TLP before this version. */
  reportId: z.uuid().optional(),
  previousTlp: tlpSchema.optional(),
});
export type AlertChange = z.infer<typeof alertChangeSchema>;

export const ALERT_RECORD_SCHEMA = 'renkei.alert.v2';

/**
 * The full alert as the hub keeps it: in PostgreSQL, in the feed and on the
 * alerts topic. It names organisations, so it never leaves the hub as is:
 * viewers get an {@link AlertView} made for them by the policy package.
 */
export const alertRecordSchema = z.strictObject({
  schema: z.literal(ALERT_RECORD_SCHEMA),
  /** Name-based on (rule, key, exercise): the same alert grows new versions instead of multiplying. */
  id: z.uuid(),
  version: z.number().int().positive(),
  kind: alertKindSchema,
  severity: severitySchema,
  /** The most restrictive TLP of its contributions. */
  tlp: tlpSchema,
  title: z.string().min(1),
  /** Plain words: what matched, how many organisations and sectors, over what period. */
  reasons: z.array(z.string().min(1)).min(1),
  indicators: z.array(alertIndicatorSchema),
  sectors: z.array(sectorSchema),
  organisationCount: z.number().int().nonnegative(),
  contributions: z.array(alertContributionSchema).min(1),
  /**
   * For a campaign: the pairs of contributions that the correlator filed
   * under it. Two reports that
   * are both in a campaign may still be paired under another one (they share
   * an indicator smaller than its key), and only the correlator, which saw
   * every indicator of both, can tell; the policy needs to know, or a
   * viewer would see a campaign form from reports that never formed it.
   * Kept as bits (`encodeAlertPairs`); absent in records written before it was kept.
   */
  pairs: z.base64().optional(),
  /** Alerts this one builds on: a campaign lists its shared-indicator alerts. */
  relatedAlertIds: z.array(z.uuid()),
  /** Reported by more organisations than the cap allows: marked once, then no further versions. */
  tooCommon: z.boolean(),
  /** For `watchlist-match`: the watchlist entry that matched. */
  watchlistEntryId: z.uuid().nullable(),
  /** One entry per version, oldest first. */
  history: z.array(alertChangeSchema).min(1),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
});
export type AlertRecord = z.infer<typeof alertRecordSchema>;

/** A contribution as analysts see it: named. Nobody else ever receives one. */
export const alertContributionViewSchema = alertContributionSchema.omit({ addedInVersion: true });

/**
 * One sentence of an alert's title or reasons as a code and its parameters,
 * beside the English words API clients keep: a console renders it through
 * its message catalogues. Lists are of codes (sectors, categories) or data
 * values (indicators, written `type value`); times are ISO instants.
 */
export const alertPhraseSchema = z.strictObject({
  code: z.string().min(1),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string())])),
});
export type AlertPhrase = z.infer<typeof alertPhraseSchema>;

export const alertTextSchema = z.strictObject({
  title: alertPhraseSchema,
  reasons: z.array(alertPhraseSchema),
});
export type AlertText = z.infer<typeof alertTextSchema>;

/**
 * An alert as one viewer may see it. For analysts it is the record, named;
 * for anyone else the policy recomputes it from the contributions that viewer
 * may know of, and `version` counts the versions that viewer could see.
 */
export const alertViewSchema = z.strictObject({
  id: z.uuid(),
  version: z.number().int().positive(),
  kind: alertKindSchema,
  severity: severitySchema,
  tlp: tlpSchema,
  title: z.string(),
  reasons: z.array(z.string()),
  indicators: z.array(alertIndicatorSchema),
  sectors: z.array(sectorSchema),
  organisationCount: z.number().int().nonnegative(),
  /** Only the reports the viewer may read: its own organisation's (all of them for analysts). */
  reportIds: z.array(z.uuid()),
  relatedAlertIds: z.array(z.uuid()),
  tooCommon: z.boolean(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
  /** Analysts only: every contribution, organisations named. */
  contributions: z.array(alertContributionViewSchema).optional(),
  /** Analysts only. */
  watchlistEntryId: z.uuid().nullable().optional(),
  /** `title` and `reasons` as codes and parameters, for consoles to render in their reader's language. */
  text: alertTextSchema.optional(),
});
export type AlertView = z.infer<typeof alertViewSchema>;

/** The answer of `GET /v1/alerts`. */
export const alertPageSchema = z.strictObject({
  items: z.array(
    alertViewSchema.extend({
      cursor: cursorSchema,
      /** Where its triage stands now (the gateway always sends it; `alert-update` frames move it on). */
      triageStatus: triageStatusSchema.optional(),
    }),
  ),
  /** Pass as `before` to get the next (older) page; null on the last page. */
  nextBefore: cursorSchema.nullable(),
  /**
   * Pass as `after` to get what is newer than this page, oldest first: a
   * client catching up keeps it as its bookmark. Null only when nothing was
   * found and no `after` was given.
   */
  nextAfter: cursorSchema.nullable(),
});
export type AlertPage = z.infer<typeof alertPageSchema>;
