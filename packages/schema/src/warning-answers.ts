// The gateway's answers about warnings, shared with every client that reads
// them (the console parses with these too, so a field the gateway adds is
// added here once, not found missing by a strict copy).
import { z } from 'zod';
import { cursorSchema } from './cursor.js';
import { warningReceiptSchema } from './delivery.js';
import { organisationIdSchema } from './vocabulary.js';
import { warningViewSchema } from './warning.js';

/** `GET /v1/warnings/:id`. */
export const warningDetailSchema = warningViewSchema.extend({
  /** Analysts: which organisations acknowledged, and when. */
  acknowledgedBy: z
    .array(z.object({ organisationId: organisationIdSchema, at: z.iso.datetime({ offset: true }) }))
    .optional(),
  /** Analysts: enabled organisations of the targeted sectors that have not acknowledged yet. */
  pendingOrganisations: z.array(organisationIdSchema).optional(),
  /**
   * Analysts: per organisation, whether a webhook or e-mail delivery reached
   * it (when, by which channel), is failing, and when it acknowledged.
   * Every targeted organisation is listed, and any other one that was sent it.
   */
  receipts: z.array(warningReceiptSchema).optional(),
  /** Recipients: when their own organisation acknowledged it; null while it has not. */
  acknowledgedAt: z.iso.datetime({ offset: true }).nullable().optional(),
});
export type WarningDetail = z.infer<typeof warningDetailSchema>;

/** `GET /v1/warnings`: newest first. */
export const warningPageSchema = z.object({
  items: z.array(warningViewSchema.extend({ cursor: cursorSchema })),
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: cursorSchema.nullable(),
});
export type WarningPage = z.infer<typeof warningPageSchema>;
