import { z } from 'zod';
import { storableString } from './text.js';
import { organisationIdSchema, sectorSchema } from './vocabulary.js';

/**
 * What kind of member an organisation is: a government agency's CSIRT, a
 * sector body (CEPTAR), a critical-infrastructure operator, or the GSOC itself.
 */
export const ORGANISATION_KINDS = ['agency', 'ceptar', 'operator', 'gsoc'] as const;
export const organisationKindSchema = z.enum(ORGANISATION_KINDS);
export type OrganisationKind = z.infer<typeof organisationKindSchema>;

/** The language an organisation's e-mail (and other messages the hub writes to it) is written in. */
export const organisationLanguageSchema = z.enum(['ja', 'en']);
export type OrganisationLanguage = z.infer<typeof organisationLanguageSchema>;

/** The body of `POST /v1/organisations` and `pnpm renkei org add`. */
export const organisationSubmissionSchema = z.strictObject({
  id: organisationIdSchema,
  name: storableString().trim().min(1).max(200),
  sector: sectorSchema,
  kind: organisationKindSchema,
  /** Japanese unless said otherwise. */
  language: organisationLanguageSchema.optional(),
});

/** The body of `PATCH /v1/organisations/:id` (administrators): what may change after registration. */
export const organisationChangeSchema = z
  .strictObject({
    name: storableString().trim().min(1).max(200).optional(),
    language: organisationLanguageSchema.optional(),
  })
  .refine((change) => change.name !== undefined || change.language !== undefined, {
    message: 'name or language is required',
  });
export type OrganisationChange = z.infer<typeof organisationChangeSchema>;
export type OrganisationSubmission = z.infer<typeof organisationSubmissionSchema>;

/** A registered organisation. Only administrators and analysts ever see one. */
export const organisationSchema = organisationSubmissionSchema.extend({
  language: organisationLanguageSchema,
  enabled: z.boolean(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type Organisation = z.infer<typeof organisationSchema>;
