import { topicNames } from '@renkei/bus';
import { loadIngestConfig } from '@renkei/ingest';
import { prepareTestPrefix, TEST_KAFKA_SECURITY } from '@renkei/testing';
import { interleave } from './lib/interleave.js';
import type { KafkaPathArgs } from './lib/load-ops.js';
import type { Scenario } from './lib/scenario.js';
import { median, percent } from './lib/stats.js';

/**
 * Ingest's Kafka path ÷ the Kafka floor. The hub side is ingest's own
 * SubmissionBatcher (ledger insert, one Kafka send per batch, ledger update)
 * fed envelopes directly, without HTTP, so the HTTP cost — measured by the
 * ingest-http scenario — does not blur this ratio. The floor is a kafkajs
 * producer with ingest's settings sending the same envelopes in batches of
 * ingest's maximum size. Both run in the same load process, one after the other,
 * with one client configuration: ingest's principal, with the shared broker's
 * security (TLS + SCRAM + ACLs when it is secured, the default), so that cost
 * is on both sides of the ratio.
 */
export const ingestKafka: Scenario = {
  name: 'ingest-kafka',
  title: 'Ingest’s Kafka path ÷ raw batched kafkajs producer',
  settings: {
    rounds: { description: 'floor/ingest pairs measured', full: 5, smoke: 1 },
    seconds: { description: 'length of each measurement', full: 5, smoke: 1 },
    warmUpSeconds: { description: 'load on each side before measuring', full: 3, smoke: 1 },
    concurrency: { description: 'reports in flight', full: 400, smoke: 50 },
  },
  async run(context) {
    const prefix = context.topicPrefix();
    const topic = topicNames(prefix).reports;
    const [database, load] = await Promise.all([
      context.createDatabase(),
      context.load(),
      // The topics, and ingest's ACLs on them: both sides send as ingest's principal.
      prepareTestPrefix(prefix, { always: true }),
    ]);
    // Ingest's defaults, read from its own configuration schema, so the two cannot drift apart.
    const defaults = loadIngestConfig({});
    const concurrency = context.setting('concurrency');
    const maxBatch = Math.min(defaults.INGEST_BATCH_MAX, concurrency);
    let calls = 0;
    const drive = (mode: KafkaPathArgs['mode'], seconds: number) =>
      load.run('kafka-path', {
        mode,
        brokers: context.brokers,
        databaseUrl: database.url,
        topic,
        concurrency,
        maxBatch,
        lingerMs: defaults.INGEST_BATCH_LINGER_MS,
        databasePoolSize: defaults.DATABASE_POOL_SIZE,
        seconds,
        tag: `kafka-${++calls}`,
      });

    const warmUp = context.setting('warmUpSeconds');
    const seconds = context.setting('seconds');
    const measured = await interleave({
      rounds: context.setting('rounds'),
      warmUp: async () => {
        await drive('floor', warmUp);
        await drive('hub', warmUp);
      },
      floor: () => drive('floor', seconds),
      hub: () => drive('hub', seconds),
      ratio: (hub, floor) => hub.perSecond / floor.perSecond,
      log: context.log,
    });
    const failures = measured.rounds.reduce((sum, r) => sum + r.floor.failures + r.hub.failures, 0);
    const floorRate = median(measured.rounds.map((r) => r.floor.perSecond));
    const hubRate = median(measured.rounds.map((r) => r.hub.perSecond));
    return {
      figures: {
        concurrency,
        maxBatch,
        lingerMs: defaults.INGEST_BATCH_LINGER_MS,
        medianRatio: measured.medianRatio,
        floorMessagesPerSecond: floorRate,
        ingestMessagesPerSecond: hubRate,
        failures,
        rounds: measured.rounds,
      },
      tables: [
        {
          columns: ['round', 'raw producer msg/s', 'ingest’s batcher msg/s', 'batcher ÷ producer'],
          rows: measured.rounds.map(({ round, floor, hub, ratio }) => [
            round,
            floor.perSecond,
            hub.perSecond,
            ratio.toFixed(3),
          ]),
        },
      ],
      goals: [
        {
          goal: 'ingest’s Kafka path ≥ 70 % of the raw batched producer',
          figure: `${percent(measured.medianRatio)} (median of ${measured.rounds.length}; ${hubRate} vs ${floorRate} msg/s)`,
          met: measured.medianRatio >= 0.7,
        },
      ],
      notes: [
        `Kafka security: ${TEST_KAFKA_SECURITY}, both sides as ingest's principal.`,
        `${concurrency} reports in flight; the batcher with ingest's defaults (linger ${defaults.INGEST_BATCH_LINGER_MS} ms, at most ${defaults.INGEST_BATCH_MAX} per batch, ${defaults.DATABASE_POOL_SIZE} database connections); the floor sends batches of ${maxBatch}, ${Math.max(1, Math.round(concurrency / maxBatch))} at a time, idempotent, acks from all replicas, one request in flight.`,
        'The batcher runs in the load process, without HTTP: what separates the two is the ledger (one insert and one update per batch in PostgreSQL) and the batching itself.',
        ...(failures > 0 ? [`${failures} messages failed and are not counted.`] : []),
      ],
    };
  },
};
