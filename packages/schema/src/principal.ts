import { z } from 'zod';
import { organisationIdSchema, roleSchema, sectorSchema } from './vocabulary.js';

/** Claims the hub's tokens carry besides iss, aud, exp and iat. */
export const tokenClaimsSchema = z.object({
  sub: z.string().min(1).max(256),
  org: organisationIdSchema,
  sector: sectorSchema,
  roles: z.array(roleSchema).min(1),
});
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

/** Who is calling, as every service sees it after verifying the token. */
export const principalSchema = z.strictObject({
  subject: z.string(),
  organisationId: organisationIdSchema,
  sector: sectorSchema,
  roles: z.array(roleSchema),
  /** When the token stops being valid: an open stream is closed then. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type Principal = z.infer<typeof principalSchema>;

export function principalFromClaims(claims: TokenClaims, expiresAt?: number): Principal {
  return {
    subject: claims.sub,
    organisationId: claims.org,
    sector: claims.sector,
    roles: [...new Set(claims.roles)],
    ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt * 1000).toISOString() }),
  };
}
