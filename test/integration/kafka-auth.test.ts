import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { aclBindings, kafkaClient, TOPICS, topicNames } from '@renkei/bus';
import { runCommand } from '@renkei/cli';
import { createLogger } from '@renkei/runtime';
import { kafkaEnv, parseEnv, reportStatusViewSchema, type AlertFrame } from '@renkei/schema';
import {
  createPrivateBroker,
  createTestDatabase,
  createTestKeys,
  eventually,
  openStream,
  randomTopicPrefix,
  registerOrganisations,
  spawnService,
  waitUntilReady,
  TEST_ORGANISATIONS,
  type PrivateBroker,
  type ServiceName,
  type ServiceProcess,
  type StreamClient,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';

/**
 * A broker started with KAFKA_SECURITY=sasl_ssl (TLS from kafka.sh's local CA,
 * SCRAM-SHA-512, StandardAuthorizer denying whatever no ACL allows) refuses
 * clients without credentials, with a wrong password, and a principal writing
 * outside its ACLs; the services, each as its own principal with only the ACLs
 * `renkei topics` grants, still carry a report to a live alert. The broker is
 * the test's own and always secured, whatever the shared one is.
 */
describe('an authenticated Kafka', () => {
  let broker: PrivateBroker;
  const prefix = randomTopicPrefix();
  const topics = topicNames(prefix);
  const logger = createLogger('kafka-auth-test', 'silent');
  const clients: { disconnect(): Promise<void> }[] = [];

  /** A client as one of the hub's principals, configured the way the services are. */
  const kafkaAs = (principal: string) =>
    kafkaClient(parseEnv(kafkaEnv, { KAFKA_BROKERS: broker.brokers, ...broker.clientEnv(principal) }), {
      clientId: `kafka-auth-${principal}`,
      principal,
      logger,
    });

  /** A bare client, retrying little: refusals should come quickly. */
  const rawKafka = (config: Partial<KafkaConfig>) =>
    // The one client outside the hub's factory on purpose: an outsider without (or with wrong) credentials.
    // eslint-disable-next-line no-restricted-syntax
    new Kafka({
      clientId: 'kafka-auth-outsider',
      brokers: [broker.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      retry: { retries: 1, initialRetryTime: 100 },
      ...config,
    });

  const sendOne = async (kafka: Kafka, topic: string) => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    clients.push(producer);
    await producer.connect();
    return producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
  };

  beforeAll(async () => {
    broker = await createPrivateBroker({ security: 'sasl_ssl', startTimeoutSeconds: 240 });
    await broker.start();
    // As an operator would: the admin principal creates the topics and grants the ACLs.
    const output = await runCommand(['topics'], {
      KAFKA_BROKERS: broker.brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      ...broker.clientEnv('admin'),
    });
    expect(output).toContain(`granted ${aclBindings(prefix).length} ACLs`);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.disconnect().catch(() => undefined)));
    await broker?.remove();
  });

  it('keeps its passwords and key readable by their owner only', async () => {
    const { stat } = await import('node:fs/promises');
    for (const file of [broker.passwordFile('ingest'), broker.passwordFile('admin')]) {
      expect((await stat(file)).mode & 0o077).toBe(0);
    }
  });

  it('refuses a producer without credentials, over TLS or in plaintext', async () => {
    const { readFile } = await import('node:fs/promises');
    const ca = await readFile(broker.caFile, 'utf8');
    // The broker closes a connection that sends anything but a SASL handshake.
    await expect(sendOne(rawKafka({ ssl: { ca: [ca] } }), topics.reports)).rejects.toThrow(
      /Closed connection/,
    );
    await expect(sendOne(rawKafka({}), topics.reports)).rejects.toThrow(/Closed connection/);
  });

  it('refuses a wrong password', async () => {
    const { readFile } = await import('node:fs/promises');
    const ca = await readFile(broker.caFile, 'utf8');
    const impostor = rawKafka({
      ssl: { ca: [ca] },
      sasl: { mechanism: 'scram-sha-512', username: 'ingest', password: 'not-the-password' },
    });
    await expect(sendOne(impostor, topics.reports)).rejects.toMatchObject({
      name: 'KafkaJSSASLAuthenticationError',
      message: expect.stringMatching(/invalid credentials/) as unknown,
    });
  });

  it('refuses a client that does not trust the local CA', async () => {
    const stranger = rawKafka({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'ingest', password: 'irrelevant' },
    });
    await expect(sendOne(stranger, topics.reports)).rejects.toThrow(/certificate/);
  });

  it("lets ingest's principal write the reports topic and no other", async () => {
    const ingest = kafkaAs('ingest');
    const [written] = await sendOne(ingest, topics.reports);
    expect(written).toMatchObject({ topicName: topics.reports, errorCode: 0 });

    for (const topic of [topics.feed, topics.alerts, topics.reportsDeadLetter, TOPICS.reports.name]) {
      await expect(sendOne(ingest, topic), topic).rejects.toMatchObject({
        cause: { type: 'TOPIC_AUTHORIZATION_FAILED' },
      });
    }
    // Nor may it make a topic of its own.
    const admin = ingest.admin();
    clients.push(admin);
    await admin.connect();
    await expect(
      admin.createTopics({ topics: [{ topic: `${prefix}ingest-made-this` }] }),
    ).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })],
    });
    // It sees only the topics it may use.
    expect(await admin.listTopics()).toEqual([topics.reports]);
  });

  it("refuses the gateway's principal on the reports topic", async () => {
    await expect(sendOne(kafkaAs('gateway'), topics.reports)).rejects.toMatchObject({
      cause: { type: 'TOPIC_AUTHORIZATION_FAILED' },
    });
  });

  describe('the services, each as its own principal', () => {
    let database: TestDatabase;
    let keys: TestKeys;
    const services: ServiceProcess[] = [];
    let stream: StreamClient | undefined;

    beforeAll(async () => {
      [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
      const env = (principal: string) => ({
        DATABASE_URL: database.url,
        KAFKA_BROKERS: broker.brokers,
        KAFKA_TOPIC_PREFIX: prefix,
        AUTH_JWKS_FILE: keys.jwksFile,
        FEED_SWEEP_MS: '200',
        ...broker.clientEnv(principal),
      });
      // Patient: beside other suites on two cores, a first TLS handshake with the broker can be slow.
      const spawn = (name: ServiceName) =>
        spawnService(name, env(name), { label: `${name}-secured`, readyTimeoutMs: 150_000 });
      services.push(...(await Promise.all([spawn('correlator'), spawn('ingest'), spawn('gateway')])));
      await Promise.all(services.map((service) => service.url && waitUntilReady(service.url)));
      const { mlitCsirt, financeCeptar, gsoc } = TEST_ORGANISATIONS;
      await registerOrganisations(database, [mlitCsirt, financeCeptar, gsoc]);
    }, 240_000);

    afterAll(async () => {
      await stream?.close();
      await Promise.all(services.map((service) => service.stop()));
      await database?.drop();
      await keys?.remove();
    });

    it('carry reports from ingest to a live alert', async () => {
      const [, ingest, gateway] = services;
      const agency = await keys.token({
        org: 'mlit-csirt',
        sector: 'central-government',
        roles: ['reporter'],
      });
      const bank = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
      const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
      // The gateway learns of the organisations just registered within a poll or a notification.
      stream = await eventually(() => openStream(gateway!.url!, analyst));
      await stream.next((frame) => frame.type === 'welcome');

      // Two organisations reporting one indicator make an alert.
      const post = async (token: string) =>
        eventually(async () => {
          const response = await fetch(`${ingest!.url}/v1/reports`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({
              title: 'Beacon to a known C2 domain',
              category: 'targeted-attack',
              severity: 'high',
              tlp: 'GREEN',
              detectedAt: '2026-12-01T09:00:00+09:00',
              indicators: [{ type: 'domain', value: 'c2.secured-kafka.example' }],
            }),
          });
          expect(response.status).toBe(202);
          return ((await response.json()) as { id: string }).id;
        });
      const ids = [await post(agency), await post(bank)];

      // The correlator read them from the reports topic and wrote the alert to the feed
      // topic; the gateway read that and pushed it to the socket.
      const frame = (await stream.next((f) => f.type === 'alert')) as AlertFrame;
      expect(frame.alert.reportIds.sort()).toEqual([...ids].sort());
      await eventually(async () => {
        const response = await fetch(`${ingest!.url}/v1/reports/${ids[0]}`, {
          headers: { authorization: `Bearer ${agency}` },
        });
        expect(reportStatusViewSchema.parse(await response.json()).status).toBe('processed');
      });
      const refusals = services.flatMap((service) =>
        service.lines.filter((line) => /authori[sz]ation failed/i.test(JSON.stringify(line))),
      );
      expect(refusals).toEqual([]);
    });
  });
});
