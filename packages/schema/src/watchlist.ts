import { z } from 'zod';
import { canonicalCidr, canonicalIndicator } from '@renkei/indicators';
import { storableString } from './text.js';
import { indicatorTypeSchema } from './vocabulary.js';

const canonicalSchema = z.strictObject({ type: indicatorTypeSchema, value: z.string() });

/** The body of `POST /v1/watchlist`: the value must be an indicator of its type (defanged is fine). */
export const watchlistEntrySubmissionSchema = z
  .strictObject({
    type: indicatorTypeSchema,
    value: storableString().trim().min(1).max(2048),
    note: storableString().trim().min(1).max(1000),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine(
    (entry, ctx) => {
      const canonical = canonicalIndicator(entry.type, entry.value);
      if (!canonical.ok) ctx.addIssue({ code: 'custom', path: ['value'], message: canonical.reason });
    },
    { when: (payload) => payload.issues.length === 0 },
  );

/** A watchlist entry: reports carrying `canonical` raise one `watchlist-match` alert per entry. */
export const watchlistEntrySchema = z.strictObject({
  id: z.uuid(),
  type: indicatorTypeSchema,
  /** As the analyst wrote it. */
  value: z.string(),
  canonical: canonicalSchema,
  note: z.string(),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  createdBy: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type WatchlistEntryView = z.output<typeof watchlistEntrySchema>;

/**
 * The body of `POST /v1/exclusions`: a local warning-list entry, either one
 * value (matched in canonical form) or, for IP types, a network.
 */
export const exclusionSubmissionSchema = z
  .strictObject({
    type: indicatorTypeSchema,
    value: storableString().trim().min(1).max(2048).optional(),
    cidr: z.string().trim().min(1).max(64).optional(),
    note: storableString().trim().min(1).max(1000),
  })
  .superRefine(
    (exclusion, ctx) => {
      if ((exclusion.value === undefined) === (exclusion.cidr === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'give either value or cidr, not both' });
        return;
      }
      if (exclusion.value !== undefined) {
        const canonical = canonicalIndicator(exclusion.type, exclusion.value);
        if (!canonical.ok) ctx.addIssue({ code: 'custom', path: ['value'], message: canonical.reason });
        return;
      }
      if (exclusion.type !== 'ipv4' && exclusion.type !== 'ipv6') {
        ctx.addIssue({ code: 'custom', path: ['cidr'], message: 'is only for ipv4 and ipv6' });
        return;
      }
      const network = canonicalCidr(exclusion.type, exclusion.cidr!);
      if (!network.ok) ctx.addIssue({ code: 'custom', path: ['cidr'], message: network.reason });
    },
    { when: (payload) => payload.issues.length === 0 },
  );

export const exclusionSchema = z.strictObject({
  id: z.uuid(),
  type: indicatorTypeSchema,
  /** The canonical value excluded, or null for a network. */
  value: z.string().nullable(),
  /** The network excluded (canonical), or null for a value. */
  cidr: z.string().nullable(),
  note: z.string(),
  createdBy: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type ExclusionView = z.output<typeof exclusionSchema>;
