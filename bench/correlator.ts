import { loadCorrelatorConfig } from '@renkei/correlator';
import { createPool } from '@renkei/db';
import { testKafka } from '@renkei/testing';
import { benchEnvelope, sendAndWaitStored } from './lib/correlator-load.js';
import { interleave } from './lib/interleave.js';
import type { Scenario } from './lib/scenario.js';
import { median, percent, round } from './lib/stats.js';

/** Reports per second of the per-message correlator, measured before batching (BENCHMARKS.md, the reference run). */
const PER_MESSAGE_BASELINE = 38;

/**
 * The correlator ÷ its floor. The hub side is the real correlator process
 * (Kafka in; reports, indicators, sightings, locks, rules, alert versions
 * and the feed out); the floor is bench/correlator-floor.ts, a raw
 * `eachBatch` consumer writing the same reports, indicators and sightings
 * with the correlator's own set-based statements in chunks of the same size,
 * and nothing else. Each measurement sends a burst of reports to one of them
 * and times it from the first send until the database holds every report.
 */
export const correlator: Scenario = {
  name: 'correlator',
  title: 'Correlator ÷ raw eachBatch consumer writing the same rows',
  settings: {
    rounds: { description: 'floor/correlator pairs measured', full: 5, smoke: 1 },
    reports: { description: 'reports per measurement', full: 3000, smoke: 40 },
    warmUpReports: { description: 'reports through each side before measuring', full: 500, smoke: 10 },
    hotValues: {
      description: 'shared indicators the reports of a measurement draw from',
      full: 200,
      smoke: 10,
    },
  },
  async run(context) {
    const chunk = loadCorrelatorConfig({}).CORRELATOR_BATCH_SIZE;
    const [stack, floorDatabase] = await Promise.all([
      context.startStack(['correlator']),
      context.createDatabase(),
    ]);
    const floorTopic = `${stack.prefix}bench.correlator-floor`;
    const admin = testKafka().admin();
    await admin.connect();
    await admin
      .createTopics({ waitForLeaders: true, topics: [{ topic: floorTopic, numPartitions: 6 }] })
      .finally(() => admin.disconnect());
    const floorProcess = await context.startProcess({
      label: 'correlator-floor',
      script: 'bench/correlator-floor.ts',
      env: {
        DATABASE_URL: floorDatabase.url,
        KAFKA_BROKERS: context.brokers,
        FLOOR_TOPIC: floorTopic,
        FLOOR_GROUP: `${stack.prefix}bench-correlator-floor`,
        FLOOR_CHUNK: String(chunk),
      },
    });
    const hubPool = createPool(stack.databaseUrl, { max: 2 });
    context.defer(() => hubPool.end());
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    context.defer(() => producer.disconnect());

    const reports = context.setting('reports');
    const hotValues = context.setting('hotValues');
    const timeoutMs = context.smoke ? 120_000 : 1_800_000;
    const burst = (tag: string, count: number) =>
      Array.from({ length: count }, (_, i) => benchEnvelope(tag, i, hotValues));
    const floor = (tag: string, count: number) =>
      sendAndWaitStored({
        producer,
        topic: floorTopic,
        pool: floorDatabase.pool,
        envelopes: burst(tag, count),
        timeoutMs,
      });
    const hub = (tag: string, count: number) =>
      sendAndWaitStored({
        producer,
        topic: stack.topics.reports,
        pool: hubPool,
        envelopes: burst(tag, count),
        timeoutMs,
      });

    const cpuBefore = {
      floor: floorProcess.usage().cpuSeconds,
      hub: stack.service('correlator').usage().cpuSeconds,
    };
    const measured = await interleave({
      rounds: context.setting('rounds'),
      warmUp: async () => {
        const warm = context.setting('warmUpReports');
        await floor('warm-floor', warm);
        await hub('warm-hub', warm);
      },
      floor: (round) => floor(`floor${round}`, reports),
      hub: (round) => hub(`hub${round}`, reports),
      ratio: (h, f) => h.perSecond / f.perSecond,
      log: context.log,
    });
    const cpu = {
      floor: floorProcess.usage().cpuSeconds - cpuBefore.floor,
      hub: stack.service('correlator').usage().cpuSeconds - cpuBefore.hub,
    };
    const { rows } = await hubPool.query<{ versions: number; alerts: number }>(
      `SELECT (SELECT count(*)::int FROM alert_versions) AS versions, (SELECT count(*)::int FROM alerts) AS alerts`,
    );
    const floorRate = round(median(measured.rounds.map((r) => r.floor.perSecond)), 1);
    const hubRate = round(median(measured.rounds.map((r) => r.hub.perSecond)), 1);
    return {
      figures: {
        reports,
        chunk,
        hotValues,
        medianRatio: measured.medianRatio,
        floorReportsPerSecond: floorRate,
        correlatorReportsPerSecond: hubRate,
        perMessageBaselineReportsPerSecond: PER_MESSAGE_BASELINE,
        alertVersionsWritten: rows[0]!.versions,
        alerts: rows[0]!.alerts,
        cpuSeconds: cpu,
        rounds: measured.rounds,
      },
      tables: [
        {
          columns: ['round', 'floor reports/s', 'correlator reports/s', 'correlator ÷ floor'],
          rows: measured.rounds.map(({ round, floor: f, hub: h, ratio }) => [
            round,
            f.perSecond,
            h.perSecond,
            ratio.toFixed(3),
          ]),
        },
      ],
      goals: [
        {
          goal: 'correlator ≥ 50 % of its floor',
          figure: `${percent(measured.medianRatio)} (median of ${measured.rounds.length}; ${hubRate} vs ${floorRate} reports/s)`,
          met: measured.medianRatio >= 0.5,
        },
      ],
      notes: [
        `${reports} reports per measurement, sent in batches of 500 to six partitions and timed from the first send until PostgreSQL holds every report (polled every 100 ms); five indicators each, two of them from ${hotValues} shared values, so reports correlate: ${rows[0]!.alerts} alerts and ${rows[0]!.versions} alert versions written in all.`,
        `Both sides cut each partition's batch into chunks of at most ${chunk} reports (CORRELATOR_BATCH_SIZE). The floor stores each chunk in a transaction of its own, one partition after the other; the correlator stores the chunks its partitions hand in together in one transaction (group commit, up to ${chunk * 6} reports). The floor writes the same reports, indicators and sightings with the correlator's own statements and does nothing else: no warning lists, locks, neighbourhood reads, rules, alert versions or feed.`,
        `CPU over the measurements: correlator ${cpu.hub.toFixed(1)} s, floor ${cpu.floor.toFixed(1)} s. Before batching the correlator stored about ${PER_MESSAGE_BASELINE} reports/s one message at a time (reference run): ${(hubRate / PER_MESSAGE_BASELINE).toFixed(1)}× that now.`,
      ],
    };
  },
};
