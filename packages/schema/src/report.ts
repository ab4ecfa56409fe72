import { z } from 'zod';
import { storableString } from './text.js';
import {
  indicatorTypeSchema,
  organisationIdSchema,
  reportCategorySchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
  type IndicatorType,
} from './vocabulary.js';

export const MAX_INDICATORS_PER_REPORT = 1000;

/**
 * Shapes a value must have for its type. Only types whose written form cannot be
 * defanged are checked strictly here; addresses, domains, URLs and e-mail senders
 * are often reported defanged (`hxxp://evil[.]example`) and are normalised later,
 * by the indicators package, rather than refused at the door.
 */
const STRICT_VALUE_PATTERNS: Partial<Record<IndicatorType, { pattern: RegExp; description: string }>> = {
  md5: { pattern: /^[0-9a-fA-F]{32}$/, description: '32 hexadecimal digits' },
  sha1: { pattern: /^[0-9a-fA-F]{40}$/, description: '40 hexadecimal digits' },
  sha256: { pattern: /^[0-9a-fA-F]{64}$/, description: '64 hexadecimal digits' },
  cve: { pattern: /^CVE-\d{4}-\d{4,}$/i, description: 'a CVE id such as CVE-2024-3400' },
};

export const indicatorSchema = z
  .strictObject({
    type: indicatorTypeSchema,
    value: storableString().trim().min(1).max(2048),
    role: storableString().trim().min(1).max(64).optional(),
  })
  .superRefine((indicator, ctx) => {
    const rule = STRICT_VALUE_PATTERNS[indicator.type];
    if (rule && !rule.pattern.test(indicator.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `a ${indicator.type} must be ${rule.description}`,
      });
    }
  });
export type Indicator = z.infer<typeof indicatorSchema>;

/** The body of `POST /v1/reports` (report schema v1). */
export const reportSubmissionSchema = z.strictObject({
  id: z.uuid().optional(),
  title: storableString().trim().min(1).max(200),
  description: storableString().max(10_000).optional(),
  category: reportCategorySchema,
  severity: severitySchema,
  tlp: tlpSchema,
  detectedAt: z.iso.datetime({ offset: true }),
  indicators: z.array(indicatorSchema).max(MAX_INDICATORS_PER_REPORT),
  exercise: z.boolean().default(false),
});
export type ReportSubmission = z.input<typeof reportSubmissionSchema>;
export type ValidReportSubmission = z.output<typeof reportSubmissionSchema>;

/** A report once the hub has given it an id: what travels on the reports topic. */
export const reportSchema = reportSubmissionSchema.extend({ id: z.uuid() });
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

/** The answer of `GET /v1/reports/:id`. */
export const reportStatusViewSchema = z.object({
  id: z.uuid(),
  status: z.enum(REPORT_STATUSES),
  organisationId: organisationIdSchema,
  sector: sectorSchema,
  receivedAt: z.iso.datetime({ offset: true }),
  processedAt: z.iso.datetime({ offset: true }).nullable(),
  report: reportSchema,
});
export type ReportStatusView = z.output<typeof reportStatusViewSchema>;
