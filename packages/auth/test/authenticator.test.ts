import { describe, expect, it, vi } from 'vitest';
import { createLogger, RenkeiError } from '@renkei/runtime';
import type { AuditEntry, OrganisationKind, Principal, Sector } from '@renkei/schema';
import {
  createRefusalAuditor,
  guardTokens,
  isPrincipalStillAllowed,
  redactUrl,
  refusalReason,
  resolvePrincipal,
  tokenRefused,
  type OrganisationDirectory,
} from '../src/index.js';

type Entry = { sector: Sector; kind: OrganisationKind; enabled: boolean };

function directory(entries: Record<string, Entry>): OrganisationDirectory {
  return { get: (id) => entries[id] };
}

const registry = directory({
  'acme-bank': { sector: 'finance', kind: 'operator', enabled: true },
  'old-bank': { sector: 'finance', kind: 'operator', enabled: false },
  gsoc: { sector: 'central-government', kind: 'gsoc', enabled: true },
});

const principal = (overrides: Partial<Principal> = {}): Principal => ({
  subject: 'alice',
  organisationId: 'acme-bank',
  sector: 'finance',
  roles: ['reporter'],
  ...overrides,
});

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RenkeiError);
    return refusalReason(error);
  }
  return undefined;
}

describe('resolvePrincipal', () => {
  it('takes the sector from the registry, whatever the token says', () => {
    expect(resolvePrincipal(registry, principal({ sector: 'water' }))).toEqual(principal());
  });

  it('refuses an unregistered or disabled organisation', () => {
    expect(reasonOf(() => resolvePrincipal(registry, principal({ organisationId: 'nobody' })))).toBe(
      'organisation nobody is not registered',
    );
    expect(reasonOf(() => resolvePrincipal(registry, principal({ organisationId: 'old-bank' })))).toBe(
      'organisation old-bank is disabled',
    );
  });

  it('keeps analyst and admin roles to the GSOC', () => {
    expect(reasonOf(() => resolvePrincipal(registry, principal({ roles: ['analyst'] })))).toMatch(
      /GSOC only/,
    );
    expect(reasonOf(() => resolvePrincipal(registry, principal({ roles: ['reporter', 'admin'] })))).toMatch(
      /admin is for the GSOC only/,
    );
    const analyst = principal({ organisationId: 'gsoc', roles: ['analyst', 'admin'] });
    expect(resolvePrincipal(registry, analyst).sector).toBe('central-government');
  });
});

describe('isPrincipalStillAllowed', () => {
  const now = Date.parse('2026-11-28T00:00:00Z');
  it('holds until the token expires', () => {
    expect(isPrincipalStillAllowed(registry, principal({ expiresAt: '2026-11-28T00:00:01Z' }), now)).toBe(
      true,
    );
    expect(isPrincipalStillAllowed(registry, principal({ expiresAt: '2026-11-28T00:00:00Z' }), now)).toBe(
      false,
    );
  });

  it('ends when the organisation is disabled, removed or moved to another sector', () => {
    expect(isPrincipalStillAllowed(registry, principal(), now)).toBe(true);
    expect(isPrincipalStillAllowed(registry, principal({ organisationId: 'old-bank' }), now)).toBe(false);
    expect(isPrincipalStillAllowed(registry, principal({ organisationId: 'nobody' }), now)).toBe(false);
    expect(isPrincipalStillAllowed(registry, principal({ sector: 'water' }), now)).toBe(false);
  });
});

describe('guardTokens', () => {
  it('passes refusals of the signature and of the registry to onRefused, then rethrows', async () => {
    const refusals: unknown[] = [];
    const guard = guardTokens({
      verify: async (token) => {
        if (token === 'bad') throw tokenRefused('the token has expired');
        return principal({ organisationId: token });
      },
      directory: registry,
      onRefused: (refusal) => refusals.push(refusal),
    });
    const context = { method: 'POST', route: '/v1/reports', ip: '127.0.0.1' };
    await expect(guard('acme-bank', context)).resolves.toEqual(principal());
    await expect(guard('bad', context)).rejects.toThrow(RenkeiError);
    await expect(guard('old-bank', context)).rejects.toThrow(RenkeiError);
    expect(refusals).toEqual([
      { reason: 'the token has expired', context },
      {
        reason: 'organisation old-bank is disabled',
        context,
        principal: principal({ organisationId: 'old-bank' }),
      },
    ]);
  });

  it('does not report errors that are not refusals', async () => {
    const onRefused = vi.fn();
    const guard = guardTokens({
      verify: async () => {
        throw new Error('disk on fire');
      },
      directory: registry,
      onRefused,
    });
    await expect(guard('x')).rejects.toThrow('disk on fire');
    expect(onRefused).not.toHaveBeenCalled();
  });
});

describe('createRefusalAuditor', () => {
  const logger = createLogger('test', 'silent');

  it('writes up to its budget one by one, then one entry counting the rest by reason', async () => {
    const written: AuditEntry[] = [];
    const auditor = createRefusalAuditor({
      write: async (entry) => void written.push(entry),
      perMinute: 2,
      logger,
      windowMs: 3_600_000,
    });
    const context = { method: 'GET', route: '/v1/alerts', ip: '127.0.0.1' };
    for (const reason of ['expired', 'expired', 'expired', 'bad kid', 'expired']) {
      auditor.record({ reason, context });
    }
    auditor.record({
      reason: 'organisation old-bank is disabled',
      context,
      principal: principal({ organisationId: 'old-bank' }),
    });
    await auditor.close();
    expect(written).toEqual([
      expect.objectContaining({
        kind: 'token.refused',
        actor: null,
        details: { reason: 'expired', ...context },
      }),
      expect.objectContaining({ kind: 'token.refused', details: { reason: 'expired', ...context } }),
      expect.objectContaining({
        kind: 'token.refused',
        outcome: 'denied',
        details: {
          reason: 'more refusals than the audit budget',
          suppressed: 4,
          byReason: { expired: 2, 'bad kid': 1, 'organisation old-bank is disabled': 1 },
        },
      }),
    ]);
  });

  it('starts a new budget each window', async () => {
    vi.useFakeTimers();
    try {
      const written: AuditEntry[] = [];
      const auditor = createRefusalAuditor({
        write: async (entry) => void written.push(entry),
        perMinute: 1,
        logger,
        windowMs: 1_000,
      });
      auditor.record({ reason: 'a', context: {} });
      auditor.record({ reason: 'b', context: {} });
      await vi.advanceTimersByTimeAsync(1_000);
      auditor.record({ reason: 'c', context: {} });
      await auditor.close();
      expect(written.map((entry) => entry.details?.reason)).toEqual([
        'a',
        'more refusals than the audit budget',
        'c',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('redactUrl', () => {
  it.each([
    ['/v1/stream?access_token=eyJ.abc.def', '/v1/stream?access_token=[redacted]'],
    ['/v1/stream?after=12&access_token=eyJ.abc&x=1', '/v1/stream?after=12&access_token=[redacted]&x=1'],
    ['/v1/stream?ACCESS_TOKEN=eyJ', '/v1/stream?ACCESS_TOKEN=[redacted]'],
    ['/v1/alerts?limit=5', '/v1/alerts?limit=5'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
