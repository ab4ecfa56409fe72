import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConsumer,
  createReliableProducer,
  prepareTopics,
  type Producer,
  type TopicNames,
} from '@renkei/bus';
import { createPool, withTransaction } from '@renkei/db';
import { createLogger, type RenkeiError } from '@renkei/runtime';
import type { AlertRecord, FeedEvent } from '@renkei/schema';
import {
  alertRecordFixture,
  createMigratedTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  freePort,
  randomTopicPrefix,
  readWholeTopic,
  sleep,
  type TestDatabase,
  testKafka,
} from '@renkei/testing';
import {
  appendAlertVersionsToFeed,
  appendToFeed,
  feedBounds,
  readFeed,
  sequenceOutbox,
  startFeedFollower,
  startFeedRelay,
  type FeedEntry,
} from '../../src/index.js';

const logger = createLogger('feed-test', 'silent');

function record(id: string, version: number): AlertRecord {
  return alertRecordFixture({ id, version, title: `alert ${id} v${version}` });
}

/** The alert id and version of an alert event. */
function alertOf(event: FeedEvent): { id: string; version: number } {
  if (event.kind !== 'alert') throw new Error(`expected an alert event, got ${event.kind}`);
  return event.payload;
}

const entry = (id: string, version: number): FeedEntry => ({
  kind: 'alert',
  payload: record(id, version),
  alert: { id, version },
});

/** Appends in a transaction of its own, as a correlator does. */
async function append(database: TestDatabase, entries: FeedEntry[], { rollback = false } = {}) {
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    await appendToFeed(client, entries);
    await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
  } finally {
    client.release();
  }
}

const label = (event: FeedEvent) => `${alertOf(event).id}@${alertOf(event).version}`;

describe('the feed on a real database', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('gives committed events consecutive positions, once each, and drops rolled-back ones', async () => {
    const before = BigInt((await feedBounds(database.pool)).head);
    const alerts = Array.from({ length: 20 }, () => randomUUID());
    const writers = alerts.map((id, n) => append(database, [entry(id, 1)], { rollback: n % 5 === 0 }));
    // Sequencers race the writers and each other.
    const sequencers = Array.from({ length: 4 }, async () => {
      for (let round = 0; round < 10; round += 1) {
        await withTransaction(database.pool, (db) => sequenceOutbox(db, 3));
        await sleep(5);
      }
    });
    await Promise.all([...writers, ...sequencers]);
    while ((await withTransaction(database.pool, (db) => sequenceOutbox(db, 100))) > 0);

    const events = await readFeed(database.pool, before.toString(), 1_000);
    expect(events.map((event) => BigInt(event.position))).toEqual(
      events.map((_, index) => before + BigInt(index) + 1n),
    );
    const committed = alerts.filter((_, n) => n % 5 !== 0);
    expect(events.map((event) => alertOf(event).id).sort()).toEqual([...committed].sort());
    expect((await feedBounds(database.pool)).head).toBe(events.at(-1)!.position);
  });

  it('keeps an alert’s versions in version order, and records each version’s position', async () => {
    const before = (await feedBounds(database.pool)).head;
    const id = randomUUID();
    for (let version = 1; version <= 5; version += 1) await append(database, [entry(id, version)]);
    await database.pool.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, record, created_at, updated_at)
       VALUES ($1, $2, 'shared-indicator', 5, false, 'GREEN', 'high', $3, now(), now())`,
      [id, `test:${id}`, record(id, 5)],
    );
    await withTransaction(database.pool, (db) => sequenceOutbox(db, 100));
    const events = await readFeed(database.pool, before, 100);
    expect(events.filter((event) => alertOf(event).id === id).map((event) => alertOf(event).version)).toEqual(
      [1, 2, 3, 4, 5],
    );
    const { rows } = await database.pool.query<{ position: string }>(
      'SELECT position::text FROM alerts WHERE id = $1',
      [id],
    );
    expect(rows[0]!.position).toBe(events.at(-1)!.position);
  });

  it('takes the record of an alert version from alert_versions instead of a copy of its own', async () => {
    const before = (await feedBounds(database.pool)).head;
    const id = randomUUID();
    const stored = record(id, 1);
    await withTransaction(database.pool, async (db) => {
      await db.query(
        `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, record, created_at, updated_at)
         VALUES ($1, $2, 'shared-indicator', 1, false, 'GREEN', 'high', $3, now(), now())`,
        [id, `test:${id}`, stored],
      );
      const reportId = randomUUID();
      await db.query(
        `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp,
                              detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
         VALUES ($1, 'a-csirt', 'finance', 'x', 'r', 'malware', 'high', 'GREEN', now(), now(), false, 'h', 't', 0, 0)`,
        [reportId],
      );
      await db.query(
        `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id) VALUES ($1, 1, $2, $3)`,
        [id, stored, reportId],
      );
      await appendAlertVersionsToFeed(db, [{ alertId: id, version: 1, reportId }]);
    });
    await withTransaction(database.pool, (db) => sequenceOutbox(db, 100));
    const [event] = (await readFeed(database.pool, before, 100)).filter((e) => alertOf(e).id === id);
    expect(event!.payload).toEqual(stored);
    const { rows } = await database.pool.query('SELECT payload FROM feed_events WHERE alert_id = $1', [id]);
    expect(rows).toEqual([{ payload: null }]);
  });

  it('makes a second sequencer wait until the first commits, so positions commit in order', async () => {
    const before = (await feedBounds(database.pool)).head;
    await append(database, [entry(randomUUID(), 1), entry(randomUUID(), 1)]);
    const first = await database.pool.connect();
    await first.query('BEGIN');
    expect(await sequenceOutbox(first, 100)).toBe(2);

    await append(database, [entry(randomUUID(), 1)]);
    let secondDone = false;
    const second = withTransaction(database.pool, (db) => sequenceOutbox(db, 100)).then((count) => {
      secondDone = true;
      return count;
    });
    await sleep(300);
    expect(secondDone).toBe(false);
    // Nothing of the open transaction is visible yet: no reader can skip past it.
    expect(await readFeed(database.pool, before, 100)).toEqual([]);

    await first.query('COMMIT');
    first.release();
    expect(await second).toBe(1);
    const events = await readFeed(database.pool, before, 100);
    expect(events.map((event) => BigInt(event.position) - BigInt(before))).toEqual([1n, 2n, 3n]);
  });
});

describe('the relay and the follower on a real broker', () => {
  let database: TestDatabase;
  let prefix: string;
  let topics: TopicNames;
  let producer: Producer;
  const kafka = testKafka({ clientId: 'feed-test', logger });

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    prefix = randomTopicPrefix();
    topics = await prepareTopics(kafka, prefix, ['feed', 'alerts']);
    producer = createReliableProducer(kafka);
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await database?.drop();
    await deleteTopicsWithPrefix(prefix);
  });

  const relayOptions = () => ({
    pool: database.pool,
    databaseUrl: database.url,
    producer,
    topics,
    logger,
    sweepEveryMs: 100,
    retentionMs: 3_600_000,
    onFailure: (error: RenkeiError) => {
      throw error;
    },
  });
  const relay = () => startFeedRelay(relayOptions());

  it('names PostgreSQL, not Kafka, when the database is what it cannot reach, and only past a timeout it was given', async () => {
    // A port nobody listens on: PostgreSQL is unreachable, the broker is fine.
    const unreachable = `postgres://postgres@127.0.0.1:${await freePort()}/renkei`;
    const pool = createPool(unreachable, { max: 1 });
    const failures: RenkeiError[] = [];
    const patient = startFeedRelay({
      ...relayOptions(),
      pool,
      databaseUrl: unreachable,
      onFailure: (e) => failures.push(e),
    });
    const opted = startFeedRelay({
      ...relayOptions(),
      pool,
      databaseUrl: unreachable,
      databaseLossTimeoutMs: 1_000,
      brokerLossTimeoutMs: 1_000,
      onFailure: (e) => failures.push(e),
    });
    try {
      await eventually(() => expect(failures).toHaveLength(1), { timeoutMs: 15_000 });
      expect(failures[0]!.code).toBe('RENKEI_DATABASE_LOST');
      expect(failures[0]!.details).toEqual({ component: 'feed-relay', missing: 'postgres' });
      // The relay without a timeout never reports, and the other reports its outage once.
      await sleep(2_000);
      expect(failures).toHaveLength(1);
    } finally {
      await Promise.all([patient.close(), opted.close()]);
      await pool.end();
    }
  });

  it('has one leader among several relays, publishes in position order, and hands over', async () => {
    const relays = [relay(), relay(), relay()];
    await eventually(() => expect(relays.filter((r) => r.isLeader())).toHaveLength(1));
    await sleep(300);
    expect(relays.filter((r) => r.isLeader())).toHaveLength(1);

    const id = randomUUID();
    for (let version = 1; version <= 3; version += 1) await append(database, [entry(id, version)]);
    await eventually(async () => {
      const published = (await readWholeTopic<FeedEvent>(topics.feed)).filter((e) => alertOf(e).id === id);
      expect(published.map((event) => alertOf(event).version)).toEqual([1, 2, 3]);
    });

    const leader = relays.find((r) => r.isLeader())!;
    await leader.close();
    const rest = relays.filter((r) => r !== leader);
    await eventually(() => expect(rest.filter((r) => r.isLeader())).toHaveLength(1), { timeoutMs: 10_000 });
    for (let version = 4; version <= 6; version += 1) await append(database, [entry(id, version)]);

    await eventually(async () => {
      const feed = await readWholeTopic<FeedEvent>(topics.feed);
      const positions = feed.map((event) => BigInt(event.position));
      expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
      expect(feed.filter((e) => alertOf(e).id === id).map((e) => alertOf(e).version)).toEqual([
        1, 2, 3, 4, 5, 6,
      ]);
      const alerts = (await readWholeTopic<AlertRecord>(topics.alerts)).filter((alert) => alert.id === id);
      expect(alerts.map((alert) => alert.version)).toEqual([1, 2, 3, 4, 5, 6]);
    });
    const { rows } = await database.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM feed_events WHERE published_at IS NULL',
    );
    expect(rows[0]!.n).toBe(0);
    await Promise.all(rest.map((r) => r.close()));
  });

  it('publishes a burst larger than Kafka takes in one batch, in smaller sends', async () => {
    const id = randomUUID();
    // 100 events of ~15 KB: 1.5 MB, where the broker refuses batches over 1 MiB.
    const entries: FeedEntry[] = Array.from({ length: 100 }, (_, n) => ({
      kind: 'alert',
      payload: alertRecordFixture({ id, version: n + 1, reasons: ['x'.repeat(15_000)] }),
      alert: { id, version: n + 1 },
    }));
    await append(database, entries);
    const running = relay();
    try {
      await eventually(async () => {
        const { rows } = await database.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM feed_events WHERE published_at IS NULL',
        );
        expect(rows[0]!.n).toBe(0);
        const { rows: outbox } = await database.pool.query('SELECT 1 FROM feed_outbox');
        expect(outbox).toEqual([]);
      });
      const published = (await readWholeTopic<FeedEvent>(topics.feed)).filter((e) => alertOf(e).id === id);
      expect(published.map((event) => alertOf(event).version)).toEqual(entries.map((_, n) => n + 1));
    } finally {
      await running.close();
    }
  });

  it('delivers every event once and in order to a follower, reading from PostgreSQL what Kafka lacks', async () => {
    const delivered: FeedEvent[] = [];
    const consumer = createConsumer(kafka, {
      groupId: `${prefix}follower-${randomUUID()}`,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    const follower = await startFeedFollower({
      pool: database.pool,
      consumer,
      topic: topics.feed,
      logger,
      deliver: (event) => delivered.push(event),
      pollEveryMs: 60_000,
      onFinalCrash: (error) => {
        throw error;
      },
    });
    try {
      await eventually(() => expect(follower.isLive()).toBe(true));
      const start = follower.position;
      const id = randomUUID();
      // Sequenced, and marked published without ever reaching Kafka (as if the
      // topic had lost them): only PostgreSQL has versions 1 and 2.
      await append(database, [entry(id, 1)]);
      await append(database, [entry(id, 2)]);
      await withTransaction(database.pool, (db) => sequenceOutbox(db, 100));
      await database.pool.query('UPDATE feed_events SET published_at = now() WHERE published_at IS NULL');
      // A relay publishes version 3; its position shows the follower what is missing.
      const running = relay();
      await append(database, [entry(id, 3)]);
      await eventually(() => expect(delivered.map(label)).toEqual([`${id}@1`, `${id}@2`, `${id}@3`]));
      expect(delivered.map((event) => BigInt(event.position) - BigInt(start))).toEqual([1n, 2n, 3n]);
      await running.close();
      await sleep(500);
      expect(delivered).toHaveLength(3);
    } finally {
      await follower.close();
      await consumer.disconnect();
    }
  });
});
