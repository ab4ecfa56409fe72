import { z } from 'zod';
import { alertIndicatorSchema, alertKindSchema } from './alert.js';
import { storableString } from './text.js';
import { alertReportSchema } from './triage.js';
import {
  indicatorTypeSchema,
  organisationIdSchema,
  reportCategorySchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
  triageStatusSchema,
} from './vocabulary.js';

/** A sealed position of one group of a search: hand it back as `page`, never compare it. */
const pageTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/u);

const booleanParameter = z.enum(['true', 'false']).transform((value) => value === 'true');

/** The query string of `GET /v1/search`. */
export const searchParametersSchema = z.object({
  /** Anything a person pastes: an indicator as written, a network (CIDR), a CVE id, or free text. */
  q: z.string().min(1).max(2048),
  /** Only indicators of this type (and the reports, alerts and warnings that carry them). */
  type: indicatorTypeSchema.optional(),
  /** Only reports (and sightings) of this sector. */
  sector: sectorSchema.optional(),
  /** Reports detected (indicators seen) at or after this time. */
  since: z.iso.datetime({ offset: true }).optional(),
  /** Reports detected (indicators seen) before this time. */
  until: z.iso.datetime({ offset: true }).optional(),
  /** Exercise data (`true`) or real data (`false`, the default): never both in one answer. */
  exercise: booleanParameter.default(false),
  /** Items per group. */
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** A group's `next` from an answer to the same search: that group's next page alone. */
  page: pageTokenSchema.optional(),
});
export type SearchParameters = z.output<typeof searchParametersSchema>;

/** How the hub read `q`. */
export const searchQueryViewSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('indicator'),
    indicator: alertIndicatorSchema,
    /** How it was read when that is not its own type (`url-without-scheme`: its host was sought). */
    readAs: z.string(),
  }),
  z.strictObject({ kind: z.literal('network'), type: z.enum(['ipv4', 'ipv6']), cidr: z.string() }),
  z.strictObject({
    kind: z.literal('text'),
    text: z.string(),
    /** `recent`: text of one or two characters per word is matched against the newest 10,000 rows only. */
    scope: z.enum(['all', 'recent']),
  }),
]);

/**
 * What the viewer may know of one canonical indicator. Counts include, for a
 * member, other organisations' AMBER reports of an indicator it reported
 * itself ("also reported elsewhere"); times and sectors come only from the
 * reports it may read (its own, and CLEAR and GREEN ones).
 */
export const sightingsSummarySchema = z.strictObject({
  firstSeen: z.iso.datetime({ offset: true }),
  lastSeen: z.iso.datetime({ offset: true }),
  reportCount: z.number().int().positive(),
  organisationCount: z.number().int().positive(),
  sectors: z.array(sectorSchema),
  /** Analysts: every reporting organisation. Members: only their own, when it reported it. */
  organisations: z.array(organisationIdSchema),
});
export type SightingsSummary = z.infer<typeof sightingsSummarySchema>;

export const indicatorHitSchema = sightingsSummarySchema.extend({
  type: indicatorTypeSchema,
  value: z.string(),
});
export type IndicatorHit = z.infer<typeof indicatorHitSchema>;

export const reportHitSchema = z.strictObject({
  id: z.uuid(),
  title: z.string(),
  category: reportCategorySchema,
  severity: severitySchema,
  tlp: tlpSchema,
  sector: sectorSchema,
  /** Null when the viewer may not know who reported it (another organisation's CLEAR or GREEN report). */
  organisationId: organisationIdSchema.nullable(),
  detectedAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
  /** Context the report carries (threat actors, malware, MISP tags…); text search matches them too. */
  labels: z.array(z.string()),
});
export type ReportHit = z.infer<typeof reportHitSchema>;

/** An alert as the viewer sees it (its own view's version), with its triage. */
export const alertHitSchema = z.strictObject({
  id: z.uuid(),
  kind: alertKindSchema,
  severity: severitySchema,
  title: z.string(),
  version: z.number().int().positive(),
  triageStatus: triageStatusSchema,
  updatedAt: z.iso.datetime({ offset: true }),
});
export type AlertHit = z.infer<typeof alertHitSchema>;

export const warningHitSchema = z.strictObject({
  id: z.uuid(),
  title: z.string(),
  severity: severitySchema,
  tlp: tlpSchema,
  publishedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
});
export type WarningHit = z.infer<typeof warningHitSchema>;

const group = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item),
    /** Pass as `page` (same query and filters) for this group's next page; null when there is none. */
    next: pageTokenSchema.nullable(),
  });

/** The answer of `GET /v1/search`: what matched, grouped. A `page` request fills its own group only. */
export const searchAnswerSchema = z.strictObject({
  query: searchQueryViewSchema,
  indicators: group(indicatorHitSchema),
  reports: group(reportHitSchema),
  alerts: group(alertHitSchema),
  warnings: group(warningHitSchema),
});
export type SearchAnswer = z.infer<typeof searchAnswerSchema>;

/** The most values one lookup takes. */
export const MAX_LOOKUP_VALUES = 10_000;

/** The body of `POST /v1/lookup`: values of any types, as written. */
export const lookupRequestSchema = z.strictObject({
  values: z.array(storableString().max(2048)).min(1).max(MAX_LOOKUP_VALUES),
  /** Exercise data (`true`) or real data (`false`, the default). */
  exercise: z.boolean().default(false),
});
export type LookupRequest = z.input<typeof lookupRequestSchema>;

/** One value's answer, in the order of the request. */
export const lookupResultSchema = z.strictObject({
  /** As written in the request. */
  value: z.string(),
  /** Its canonical form, or null when it is no indicator (`error` says why). */
  canonical: alertIndicatorSchema.nullable(),
  error: z.string().optional(),
  /** Whether the viewer's view of the hub holds any report of it. */
  known: z.boolean(),
  sightings: sightingsSummarySchema.nullable(),
  /** The alerts of it the viewer may see (at most 50, newest first). */
  alerts: z.array(alertHitSchema),
  /** The warning list (or `local exclusion <id>`) that keeps it out of correlation, now. */
  suppressedBy: z.string().nullable(),
});
export type LookupResult = z.infer<typeof lookupResultSchema>;

export const lookupAnswerSchema = z.strictObject({
  results: z.array(lookupResultSchema),
});
export type LookupAnswer = z.infer<typeof lookupAnswerSchema>;

/**
 * The answer of `GET /v1/reports/:id` on the gateway: one report as the
 * viewer may read it in a search (its own and, to analysts, any, named;
 * others' CLEAR and GREEN without their organisation). Anything else is
 * answered as a report that does not exist.
 */
export const readableReportSchema = alertReportSchema.extend({
  /** Null when the viewer may not know who reported it. */
  organisationId: organisationIdSchema.nullable(),
  /** Its label now: a tightening since it was sent shows here. */
  tlp: tlpSchema,
  /** Context the report carries (threat actors, malware, MISP tags and galaxies…). */
  labels: z.array(z.string()),
  /** Set when a later version of its source (an edited MISP event, a newer STIX container) replaced it. */
  supersededBy: z.uuid().nullable(),
});
export type ReadableReport = z.infer<typeof readableReportSchema>;
