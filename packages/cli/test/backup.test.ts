import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupManifestSchema } from '@renkei/schema';
import { hubGroups, keyLocations, kidsIn, nonSecretConfig, withoutPassword } from '../src/backup.js';

describe('what a backup keeps of the configuration', () => {
  it('keeps the hub settings, drops secrets and passwords, keeps paths to secrets', () => {
    expect(
      nonSecretConfig({
        DATABASE_URL: 'postgres://renkei:s3cret@db.internal:5432/renkei?sslmode=require',
        KAFKA_BROKERS: 'k1:9092,k2:9092',
        METRICS_TOKEN: 'a-scrape-token-of-enough-length',
        RENKEI_TOKEN: 'eyJhbGciOi…',
        HUB_SECRET_FILE: '/etc/renkei/hub-secret',
        DELIVERY_SMTP_PASSWORD: 'hunter2',
        GATEWAY_PUBLIC_URL: 'https://hub.example',
        PATH: '/usr/bin',
        HOME: '/root',
      }),
    ).toEqual({
      DATABASE_URL: 'postgres://renkei@db.internal:5432/renkei?sslmode=require',
      GATEWAY_PUBLIC_URL: 'https://hub.example',
      HUB_SECRET_FILE: '/etc/renkei/hub-secret',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
    });
  });

  it('never puts a password on a command line', () => {
    expect(withoutPassword('postgres://u:p%40ss@h:5432/d')).toBe('postgres://u@h:5432/d');
  });
});

describe('the key files', () => {
  it('are found where the services find them', () => {
    expect(keyLocations({ RENKEI_STATE_DIR: '/var/lib/renkei' })).toEqual({
      'public-key-set': '/var/lib/renkei/keys/jwks.json',
      'signing-key': '/var/lib/renkei/keys/signing-key.jwk.json',
      'hub-secret': '/var/lib/renkei/keys/hub-secret',
    });
    expect(
      keyLocations({ AUTH_JWKS_FILE: '/etc/renkei/jwks.json', HUB_SECRET_FILE: '/etc/renkei/secret' }),
    ).toMatchObject({
      'public-key-set': path.resolve('/etc/renkei/jwks.json'),
      'signing-key': path.resolve('/etc/renkei/signing-key.jwk.json'),
      'hub-secret': path.resolve('/etc/renkei/secret'),
    });
  });

  it('name their key ids; the hub secret has none', () => {
    expect(kidsIn(Buffer.from(JSON.stringify({ keys: [{ kid: 'a' }, { kid: 'b' }] })))).toEqual(['a', 'b']);
    expect(kidsIn(Buffer.from(JSON.stringify({ kid: 'a', d: 'private' })))).toEqual(['a']);
    expect(kidsIn(Buffer.from('0123abcd\n'))).toEqual([]);
  });
});

describe('the consumer groups a restore may rewind', () => {
  it('are the correlator and the ledger catch-up only; gateways start at the database head', () => {
    const groups = hubGroups('p.');
    expect(groups.rewindable).toEqual(['p.renkei-correlator', 'p.renkei-ingest-ledger']);
    expect(groups.isHubGroup('p.renkei-gateway.gw-1')).toBe(true);
    expect(groups.isHubGroup('renkei-correlator')).toBe(false);
  });
});

describe('the manifest', () => {
  const manifest = {
    format: 'renkei.backup.v1',
    createdAt: '2026-12-07T18:00:00.000Z',
    createdBy: 'cli:operator',
    database: {
      file: 'database.dump',
      sha256: 'a'.repeat(64),
      bytes: 1,
      format: 'custom',
      schemaVersion: 14,
      serverVersion: '15.20',
      pgDumpVersion: 'pg_dump (PostgreSQL) 15.20',
      source: 'postgres://postgres@127.0.0.1:5432/renkei',
      rowCounts: { reports: 3 },
    },
    keys: [{ role: 'hub-secret', file: 'keys/hub-secret', sha256: 'b'.repeat(64), kids: [] }],
    config: {},
    kafka: null,
  };

  it('accepts what a backup writes', () => {
    expect(backupManifestSchema.safeParse(manifest).success).toBe(true);
  });

  it('refuses a file outside the backup, another format and a bad checksum, naming the field', () => {
    const outside = backupManifestSchema.safeParse({
      ...manifest,
      database: { ...manifest.database, file: '../../etc/passwd' },
    });
    expect(outside.error?.issues[0]?.path).toEqual(['database', 'file']);
    expect(
      backupManifestSchema.safeParse({ ...manifest, format: 'renkei.backup.v2' }).error?.issues[0]?.path,
    ).toEqual(['format']);
    const badKey = backupManifestSchema.safeParse({
      ...manifest,
      keys: [{ ...manifest.keys[0], sha256: 'x' }],
    });
    expect(badKey.error?.issues[0]?.path).toEqual(['keys', 0, 'sha256']);
  });
});
