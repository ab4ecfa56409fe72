import { z } from 'zod';
import { canonicalIndicator } from '@renkei/indicators';
import { storableString } from './text.js';
import {
  indicatorTypeSchema,
  organisationIdSchema,
  reportCategorySchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
} from './vocabulary.js';

export const MAX_INDICATORS_PER_REPORT = 1000;

/**
 * The longest canonical indicator value, in UTF-8 bytes. The canonical value
 * is a key of PostgreSQL B-tree indexes (sightings, alert correlation keys),
 * whose entries cannot exceed about 2,700 bytes; a URL's canonical form
 * percent-encodes what is not ASCII, so a 2,048-character URL can grow nine
 * times over and would be accepted, then never stored.
 */
export const MAX_CANONICAL_INDICATOR_BYTES = 2048;

/**
 * The earliest detection time accepted. CSIRTs date from 1988, so nothing a
 * member can still act on was detected earlier; what is earlier is a typo or a
 * zero value (the Unix epoch, year 0000, which PostgreSQL cannot even store).
 */
export const EARLIEST_DETECTED_AT = '1990-01-01T00:00:00Z';

/**
 * How far ahead of the hub's clock a detection time may be: ordinary clock
 * skew. Later is a mistake (a local time written as UTC is hours ahead), and
 * a report "detected" in the future would sort before every real one.
 */
export const DETECTED_AT_MAX_AHEAD_MS = 60 * 60_000;

/** UTC offsets in use lie within ±14:00; PostgreSQL refuses beyond ±15:59, where the syntax would still allow ±23:59. */
const MAX_OFFSET_MINUTES = 14 * 60;

const OFFSET = /([+-])(\d{2}):(\d{2})$/;

/**
 * An ISO 8601 time with an offset (`Z` or `±hh:mm`) within the range a
 * member may report, and that PostgreSQL and the correlator's window
 * arithmetic can store: from {@link EARLIEST_DETECTED_AT} to
 * {@link DETECTED_AT_MAX_AHEAD_MS} after the hub's clock at validation.
 */
export function detectionTimeSchema() {
  return z.iso.datetime({ offset: true }).superRefine(
    (value, ctx) => {
      const offset = OFFSET.exec(value);
      if (offset && Number(offset[2]) * 60 + Number(offset[3]) > MAX_OFFSET_MINUTES) {
        ctx.addIssue({ code: 'custom', message: 'has a UTC offset beyond ±14:00, which no time zone uses' });
        return;
      }
      const at = Date.parse(value);
      const latest = Date.now() + DETECTED_AT_MAX_AHEAD_MS;
      if (!(at >= Date.parse(EARLIEST_DETECTED_AT) && at <= latest)) {
        ctx.addIssue({
          code: 'custom',
          message: `must lie between ${EARLIEST_DETECTED_AT} and an hour after the hub's clock (now ${new Date().toISOString()})`,
        });
      }
    },
    { when: (payload) => payload.issues.length === 0 },
  );
}

// The console runs this schema in the browser too: no Buffer.
const encoder = new TextEncoder();
function utf8Length(value: string): number {
  return encoder.encode(value).length;
}

const indicatorFields = {
  type: indicatorTypeSchema,
  value: storableString().trim().min(1).max(2048),
  role: storableString().trim().min(1).max(64).optional(),
};

/**
 * An indicator as a reporter submits it: the value must be an indicator of
 * its type once refanged (`hxxp://evil[.]example` is a URL; `010.1.1.1` is no
 * IPv4 address). The value is kept as written; its canonical form, which is
 * what correlates, comes from the same function in the indicators package.
 */
export const indicatorSchema = z.strictObject(indicatorFields).superRefine(
  (indicator, ctx) => {
    const canonical = canonicalIndicator(indicator.type, indicator.value);
    if (!canonical.ok) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: canonical.reason });
    } else if (utf8Length(canonical.indicator.value) > MAX_CANONICAL_INDICATOR_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `is longer than ${MAX_CANONICAL_INDICATOR_BYTES} bytes in its canonical form (non-ASCII characters of a URL are percent-encoded)`,
      });
    }
  },
  // A value already refused (empty, too long, unstorable) gets one message, not two.
  { when: (payload) => payload.issues.length === 0 },
);
export type Indicator = z.infer<typeof indicatorSchema>;

/**
 * An indicator as carried on the reports topic and stored: not re-checked,
 * so a report accepted before a stricter check (or by an older ingest) is
 * still read and stored; the correlator keeps a value it cannot read as
 * "not an indicator" instead of losing the report.
 */
export const carriedIndicatorSchema = z.strictObject(indicatorFields);

/** Context labels one report may carry, and how long each may be. */
export const MAX_REPORT_LABELS = 200;
export const MAX_LABEL_LENGTH = 200;

/**
 * Context a report carries for people rather than for correlation: the names
 * of threat actors, intrusion sets, malware, campaigns and attack patterns,
 * MISP tags and galaxy clusters (`threat-actor:APT1`, `misp-galaxy:…`,
 * `tag:…`). Shown, searched and exported again; never correlated.
 */
export const reportLabelSchema = storableString().trim().min(1).max(MAX_LABEL_LENGTH);

/**
 * Where an imported report came from, without naming it: `id` is derived
 * under the hub's key from the organisation and the source object (a STIX
 * container's id, a MISP event's uuid), so it links the versions and parts of
 * one source and nobody outside the hub can compute it from the partner's
 * public ids. A report with a later `version` of the same source supersedes
 * the earlier (docs/INTEROP.md, "One report per source object"); a source too
 * large for one report is `part` of `parts` reports of that version.
 */
export const reportSourceSchema = z.strictObject({
  id: z.uuid(),
  /** The source's own version time (STIX `modified`, MISP `timestamp`), as ISO 8601 in UTC. */
  version: z.iso.datetime(),
  part: z.number().int().min(1),
  parts: z.number().int().min(1).max(1000),
});
export type ReportSource = z.infer<typeof reportSourceSchema>;

/** The body of `POST /v1/reports` (report schema v1). */
export const reportSubmissionSchema = z.strictObject({
  id: z.uuid().optional(),
  title: storableString().trim().min(1).max(200),
  description: storableString().max(10_000).optional(),
  category: reportCategorySchema,
  severity: severitySchema,
  tlp: tlpSchema,
  detectedAt: detectionTimeSchema(),
  indicators: z.array(indicatorSchema).max(MAX_INDICATORS_PER_REPORT),
  exercise: z.boolean().default(false),
  // Optional without a default: a report sent before they existed hashes as it did.
  labels: z.array(reportLabelSchema).max(MAX_REPORT_LABELS).optional(),
  source: reportSourceSchema
    .refine((source) => source.part <= source.parts, { message: 'part is larger than parts', path: ['part'] })
    .optional(),
});
export type ReportSubmission = z.input<typeof reportSubmissionSchema>;
export type ValidReportSubmission = z.output<typeof reportSubmissionSchema>;

/** A report once the hub has given it an id: what travels on the reports topic. */
export const reportSchema = reportSubmissionSchema.extend({
  id: z.uuid(),
  // Not re-checked against the clock or the range: a report on the topic was
  // accepted when it was sent, and is read as it was.
  detectedAt: z.iso.datetime({ offset: true }),
  indicators: z.array(carriedIndicatorSchema).max(MAX_INDICATORS_PER_REPORT),
});
export type Report = z.output<typeof reportSchema>;

export const REPORT_ENVELOPE_SCHEMA = 'renkei.report.v1';

/**
 * The message on the reports topic. Organisation and sector come from the
 * submitter's token, never from the body, so they live beside the report.
 */
export const reportEnvelopeSchema = z.strictObject({
  schema: z.literal(REPORT_ENVELOPE_SCHEMA),
  id: z.uuid(),
  organisationId: organisationIdSchema,
  sector: sectorSchema,
  submittedBy: z.string().min(1).max(256),
  receivedAt: z.iso.datetime({ offset: true }),
  contentSha256: z.string().regex(/^[0-9a-f]{64}$/),
  report: reportSchema,
});
export type ReportEnvelope = z.output<typeof reportEnvelopeSchema>;

export const REPORT_STATUSES = ['accepted', 'processed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** One indicator of a report as written and as the hub reads it. */
export const reportIndicatorViewSchema = z.strictObject({
  /** As written; for a derived indicator, the written type of the indicator it came from (`url`). */
  type: indicatorTypeSchema,
  /** As written; for a derived indicator, the canonical value it came from (the URL). */
  value: z.string(),
  /**
   * What correlates and what alerts show. Its type can differ from the written
   * one (an IPv4-mapped IPv6 address is the IPv4 observable). Null for a value
   * that is not an indicator of its type (only in reports accepted before
   * values were checked): it is stored and never correlates.
   */
  canonical: z.strictObject({ type: indicatorTypeSchema, value: z.string() }).nullable(),
  /** True for an indicator the hub derived (a URL's host), not one the reporter wrote. */
  derived: z.boolean(),
  /** The warning list (or local exclusion) that keeps it out of correlation; null when none does or before processing. */
  suppressedBy: z.string().nullable(),
});
export type ReportIndicatorView = z.output<typeof reportIndicatorViewSchema>;

/** The answer of `GET /v1/reports/:id`. */
export const reportStatusViewSchema = z.object({
  id: z.uuid(),
  status: z.enum(REPORT_STATUSES),
  organisationId: organisationIdSchema,
  sector: sectorSchema,
  receivedAt: z.iso.datetime({ offset: true }),
  processedAt: z.iso.datetime({ offset: true }).nullable(),
  /** The report's TLP now: as submitted (`report.tlp`), or tighter once a change was accepted. */
  tlp: tlpSchema,
  report: reportSchema,
  /** Each indicator as written and canonical, then those derived from them; suppression once processed. */
  indicators: z.array(reportIndicatorViewSchema),
});
export type ReportStatusView = z.output<typeof reportStatusViewSchema>;

/** One of the caller's own reports, as `GET /v1/reports` on the gateway lists it. */
export const myReportSchema = z.strictObject({
  id: z.uuid(),
  title: z.string(),
  category: reportCategorySchema,
  severity: severitySchema,
  tlp: tlpSchema,
  exercise: z.boolean(),
  status: z.enum(REPORT_STATUSES),
  receivedAt: z.iso.datetime({ offset: true }),
  processedAt: z.iso.datetime({ offset: true }).nullable(),
  /** The report that replaced this one (a later version of the same source object), if any. */
  supersededBy: z.uuid().nullable(),
});
export type MyReport = z.output<typeof myReportSchema>;

/** The answer of `GET /v1/reports` (gateway): newest first. */
export const myReportPageSchema = z.strictObject({
  items: z.array(myReportSchema),
  /** Pass as `before` for older reports (the id of this page's last one); null on the last page. */
  nextBefore: z.uuid().nullable(),
});
export type MyReportPage = z.output<typeof myReportPageSchema>;
