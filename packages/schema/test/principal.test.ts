import { describe, expect, it } from 'vitest';
import { ROLES, SECTORS, principalFromClaims, principalSchema, tokenClaimsSchema } from '@renkei/schema';

const claims = { sub: 'alice', org: 'acme-bank', sector: 'finance', roles: ['reporter'] };

describe('tokenClaimsSchema', () => {
  it('accepts valid claims and ignores registered JWT claims', () => {
    const parsed = tokenClaimsSchema.parse({ ...claims, iss: 'renkei', aud: 'renkei-api', exp: 1, iat: 0 });
    expect(parsed).toEqual(claims);
  });

  it.each(SECTORS.map((s) => [s]))('accepts sector %s', (sector) => {
    expect(tokenClaimsSchema.safeParse({ ...claims, sector }).success).toBe(true);
  });

  it.each(ROLES.map((r) => [r]))('accepts role %s', (role) => {
    expect(tokenClaimsSchema.safeParse({ ...claims, roles: [role] }).success).toBe(true);
  });

  it.each([
    ['an empty subject', { sub: '' }],
    ['a 257-character subject', { sub: 's'.repeat(257) }],
    ['an organisation that is not a slug', { org: 'ACME' }],
    ['an unknown sector', { sector: 'retail' }],
    ['no roles', { roles: [] }],
    ['an unknown role', { roles: ['root'] }],
    ['roles that are not a list', { roles: 'analyst' }],
  ])('rejects %s', (_label, override) => {
    expect(tokenClaimsSchema.safeParse({ ...claims, ...override }).success).toBe(false);
  });

  it('accepts a 256-character subject', () => {
    expect(tokenClaimsSchema.safeParse({ ...claims, sub: 's'.repeat(256) }).success).toBe(true);
  });
});

describe('principalFromClaims', () => {
  it('maps claims onto a principal', () => {
    const principal = principalFromClaims(tokenClaimsSchema.parse(claims));
    expect(principal).toEqual({
      subject: 'alice',
      organisationId: 'acme-bank',
      sector: 'finance',
      roles: ['reporter'],
    });
    expect(principalSchema.parse(principal)).toEqual(principal);
  });

  it('removes duplicate roles, keeping first-seen order', () => {
    const principal = principalFromClaims(
      tokenClaimsSchema.parse({ ...claims, roles: ['analyst', 'reporter', 'analyst', 'reporter', 'ceptar'] }),
    );
    expect(principal.roles).toEqual(['analyst', 'reporter', 'ceptar']);
  });

  it('does not share the roles array with the claims', () => {
    const parsed = tokenClaimsSchema.parse(claims);
    const principal = principalFromClaims(parsed);
    principal.roles.push('admin');
    expect(parsed.roles).toEqual(['reporter']);
  });
});
