import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclBindings, kafkaClientSecurity, TOPICS, type AclBinding } from '../src/index.js';

const grants = (bindings: AclBinding[], principal: string) =>
  bindings
    .filter((binding) => binding.principal === `User:${principal}`)
    .map(
      ({ resourceType, resourceName, patternType, operation }) =>
        `${operation} ${resourceType} ${patternType === 'PREFIXED' ? `${resourceName}*` : resourceName}`,
    )
    .sort();

describe('aclBindings', () => {
  const bindings = aclBindings('t1.');

  it('lets ingest write the reports topic and read it back for its ledger, nothing else', () => {
    expect(grants(bindings, 'ingest')).toEqual(
      [
        'DESCRIBE GROUP t1.renkei-ingest-ledger',
        'DESCRIBE TOPIC t1.renkei.reports.v1',
        'IDEMPOTENT_WRITE CLUSTER kafka-cluster',
        'READ GROUP t1.renkei-ingest-ledger',
        'READ TOPIC t1.renkei.reports.v1',
        'WRITE TOPIC t1.renkei.reports.v1',
      ].sort(),
    );
  });

  it('lets the correlator read reports and write alerts, the feed and dead letters', () => {
    const correlator = grants(bindings, 'correlator');
    expect(correlator.filter((grant) => grant.startsWith('WRITE '))).toEqual([
      'WRITE TOPIC t1.renkei.alerts.v1',
      'WRITE TOPIC t1.renkei.feed.v1',
      'WRITE TOPIC t1.renkei.reports.dead-letter.v1',
    ]);
    expect(correlator.filter((grant) => grant.startsWith('READ '))).toEqual([
      'READ GROUP t1.renkei-correlator',
      'READ TOPIC t1.renkei.reports.v1',
    ]);
  });

  it('lets the gateway follow the feed in groups of its own and relay to feed and alerts', () => {
    const gateway = grants(bindings, 'gateway');
    expect(gateway.filter((grant) => grant.startsWith('READ '))).toEqual([
      'READ GROUP t1.renkei-gateway.*',
      'READ TOPIC t1.renkei.feed.v1',
    ]);
    expect(gateway.filter((grant) => grant.startsWith('WRITE '))).toEqual([
      'WRITE TOPIC t1.renkei.alerts.v1',
      'WRITE TOPIC t1.renkei.feed.v1',
    ]);
    expect(gateway.join('\n')).not.toContain('reports');
  });

  it("lets only the correlator, which runs the retention purge, set the topics' retention", () => {
    const configuring = bindings.filter((b) => b.operation === 'ALTER_CONFIGS');
    expect(new Set(configuring.map((b) => b.principal))).toEqual(new Set(['User:correlator']));
    expect(configuring.map((b) => b.resourceName).sort()).toEqual(
      Object.values(TOPICS)
        .map((spec) => `t1.${spec.name}`)
        .sort(),
    );
  });

  it('grants no service to create or delete anything, nor a topic by prefix', () => {
    expect(new Set(bindings.map((binding) => binding.operation))).toEqual(
      new Set(['READ', 'WRITE', 'DESCRIBE', 'IDEMPOTENT_WRITE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS']),
    );
    expect(bindings.filter((b) => b.resourceType === 'TOPIC' && b.patternType !== 'LITERAL')).toEqual([]);
    expect(bindings.some((binding) => binding.principal === 'User:admin')).toBe(false);
  });

  it('names exactly the topics under the prefix it is given, each binding once', () => {
    const production = aclBindings('');
    const topicNames = new Set<string>(Object.values(TOPICS).map((spec) => spec.name));
    for (const binding of production.filter((b) => b.resourceType === 'TOPIC')) {
      expect(topicNames.has(binding.resourceName)).toBe(true);
    }
    expect(new Set(production.map((b) => JSON.stringify(b))).size).toBe(production.length);
    expect(bindings).toHaveLength(production.length);
  });
});

describe('kafkaClientSecurity', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kafka-security-'));
    await writeFile(path.join(dir, 'pw'), 's3cret\n');
    await writeFile(path.join(dir, 'ca.pem'), 'CA PEM');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is nothing on a plaintext broker', () => {
    expect(kafkaClientSecurity({ KAFKA_SECURITY: 'plaintext' }, { principal: 'ingest' })).toBeUndefined();
  });

  it('reads the password and CA files it is given', () => {
    const security = kafkaClientSecurity(
      {
        KAFKA_SECURITY: 'sasl_ssl',
        KAFKA_SASL_USERNAME: 'ingest-2',
        KAFKA_SASL_PASSWORD_FILE: path.join(dir, 'pw'),
        KAFKA_TLS_CA_FILE: path.join(dir, 'ca.pem'),
      },
      { principal: 'ingest' },
    );
    expect(security).toEqual({
      ssl: { ca: ['CA PEM'] },
      sasl: { mechanism: 'scram-sha-512', username: 'ingest-2', password: 's3cret' },
    });
  });

  it("defaults to the service's own principal and the files kafka.sh made in the state directory", async () => {
    const stateDir = await mkdtemp(path.join(dir, 'state-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(stateDir, 'kafka-credentials'));
    await writeFile(path.join(stateDir, 'kafka-credentials', 'gateway'), 'gw-pass\n');
    // No local CA: the system's roots are used.
    expect(
      kafkaClientSecurity(
        { KAFKA_SECURITY: 'sasl_ssl' },
        { principal: 'gateway', env: { RENKEI_STATE_DIR: stateDir } },
      ),
    ).toEqual({ ssl: {}, sasl: { mechanism: 'scram-sha-512', username: 'gateway', password: 'gw-pass' } });
  });

  it('names the variable when a file cannot be read', () => {
    expect(() =>
      kafkaClientSecurity(
        { KAFKA_SECURITY: 'sasl_ssl', KAFKA_SASL_PASSWORD_FILE: path.join(dir, 'missing') },
        { principal: 'ingest' },
      ),
    ).toThrow(/KAFKA_SASL_PASSWORD_FILE/);
    // The default (sasl_ssl) on a machine where no broker made the files yet: a code of its
    // own, and the way to get them.
    expect(() =>
      kafkaClientSecurity(
        { KAFKA_SECURITY: 'sasl_ssl' },
        { principal: 'ingest', env: { RENKEI_STATE_DIR: path.join(dir, 'no-state') } },
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'RENKEI_KAFKA_CREDENTIALS_MISSING',
        message: expect.stringMatching(/kafka-credentials\/ingest.*kafka\.sh start/) as unknown,
      }),
    );
    expect(() =>
      kafkaClientSecurity(
        {
          KAFKA_SECURITY: 'sasl_ssl',
          KAFKA_SASL_PASSWORD: 'x',
          KAFKA_TLS_CA_FILE: path.join(dir, 'missing'),
        },
        { principal: 'ingest' },
      ),
    ).toThrow(/KAFKA_TLS_CA_FILE/);
  });
});
