import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '@renkei/audit';
import { createLogger } from '@renkei/runtime';
import type { AuditEntry } from '@renkei/schema';
import {
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadGatewayConfig } from '../../src/config.js';
import { startGateway } from '../../src/service.js';

const entry = (object: string): AuditEntry => ({
  kind: 'key.rotated',
  actor: 'cli:operator',
  organisationId: null,
  object,
  outcome: 'success',
});

/** The gateway service seals the audit log in the background, and once more as it stops. */
describe('the gateway seals the audit log', () => {
  const logger = createLogger('audit-sealer-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let env: Record<string, string>;
  const sealedSeq = async (object: string) =>
    (
      await database.pool.query<{ seq: string | null }>(
        'SELECT chain_seq::text AS seq FROM audit_events WHERE object = $1',
        [object],
      )
    ).rows[0]?.seq;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    env = {
      DATABASE_URL: database.url,
      ...(await sharedKafkaEnv(randomTopicPrefix())),
      AUTH_JWKS_FILE: keys.jwksFile,
      GATEWAY_PORT: '0',
    };
  });
  afterAll(async () => {
    await database?.drop();
    await keys?.remove();
    if (env) await deleteTopicsWithPrefix(env.KAFKA_TOPIC_PREFIX!);
  });

  it('every GATEWAY_AUDIT_SEAL_MS while it runs', async () => {
    const gateway = await startGateway(loadGatewayConfig({ ...env, GATEWAY_AUDIT_SEAL_MS: '100' }), logger);
    try {
      await recordAudit(database.pool, entry('while-running'));
      await eventually(async () => expect(await sealedSeq('while-running')).not.toBeNull(), {
        timeoutMs: 10_000,
      });
    } finally {
      await gateway.close();
    }
  });

  it('and what was written before it stopped, when it closes', async () => {
    const gateway = await startGateway(loadGatewayConfig({ ...env, GATEWAY_AUDIT_SEAL_MS: '60000' }), logger);
    await recordAudit(database.pool, entry('before-close'));
    expect(await sealedSeq('before-close')).toBeNull();
    await gateway.close();
    expect(await sealedSeq('before-close')).toBe('2');
  });
});
