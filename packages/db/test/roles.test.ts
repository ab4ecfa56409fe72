import { describe, expect, it } from 'vitest';
import { serviceDatabaseUrl, serviceRoleName, SERVICE_ROLES } from '../src/index.js';

describe('serviceRoleName', () => {
  it('names each service role after the prefix', () => {
    expect(SERVICE_ROLES.map((service) => serviceRoleName(service))).toEqual([
      'renkei_ingest',
      'renkei_correlator',
      'renkei_gateway',
    ]);
    expect(serviceRoleName('gateway', 'staging')).toBe('staging_gateway');
  });

  it.each(['Renkei', 'a-b', '1a', '', 'x"; DROP ROLE y; --'])('refuses the prefix %j', (prefix) => {
    expect(() => serviceRoleName('ingest', prefix)).toThrow('not a role prefix');
  });
});

describe('serviceDatabaseUrl', () => {
  it("is the owner's URL as the service's role, without the owner's password", () => {
    const url = serviceDatabaseUrl('postgres://owner:secret@db.internal:6543/hub?sslmode=require', 'gateway');
    expect(url).toBe('postgres://renkei_gateway@db.internal:6543/hub?sslmode=require');
    expect(url).not.toContain('secret');
  });

  it('follows the prefix', () => {
    expect(serviceDatabaseUrl('postgres://postgres@127.0.0.1:5432/renkei', 'ingest', { prefix: 'b' })).toBe(
      'postgres://b_ingest@127.0.0.1:5432/renkei',
    );
  });

  it("is the service's own URL when one is given", () => {
    const own = 'postgres://renkei_correlator:pw@db.internal/hub';
    expect(serviceDatabaseUrl('postgres://owner:secret@db.internal/hub', 'correlator', { url: own })).toBe(
      own,
    );
  });
});
