/**
 * The correlator's rate as history grows: the same kind of reports, through
 * the real correlator process (Kafka in, PostgreSQL out), first with 10^4
 * stored indicator sightings inside the window, then with 10^6, in one run.
 * The goal is that per-report work does not grow with history: the rate at
 * 10^6 should be at least 80% of the rate at 10^4.
 *
 * Background sightings are loaded with one INSERT … SELECT over
 * generate_series each, not row by row. Each phase's reports draw on their
 * own pool of indicators that already have a few sightings from other
 * organisations, so both phases correlate, write alert versions and do the
 * same work per report; only the size of the tables differs.
 *
 *   npm run bench -- correlation            # 2000 reports per phase
 *   BENCH_CORRELATION_REPORTS=5000 npm run bench -- correlation
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { REPORT_ENVELOPE_SCHEMA, REPORT_CATEGORIES, SECTORS, type ReportEnvelope } from '@renkei/schema';
import {
  createMigratedTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  spawnService,
  testKafka,
} from '@renkei/testing';

const REPORTS = Number(process.env.BENCH_CORRELATION_REPORTS ?? 2000);
const SIZES = [10_000, 1_000_000];
const HOT_VALUES = 200;
const HOT_SIGHTINGS_EACH = 5;
const ORGANISATIONS = 40;
// The measured reports and the background sit in the same 14 days, so every sighting is in some window.
const WINDOW_START = Date.parse('2026-10-01T00:00:00Z');
const WINDOW_DAYS = 14;
const MEASURED_SECTORS = SECTORS.filter((sector) => sector !== 'central-government');

execFileSync(path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh'), ['start'], { stdio: 'inherit' });
const database = await createMigratedTestDatabase();
const prefix = randomTopicPrefix();
const correlator = await spawnService(
  'correlator',
  { DATABASE_URL: database.url, KAFKA_TOPIC_PREFIX: prefix },
  {
    label: 'bench-correlator',
    readyTimeoutMs: 180_000,
    nodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
  },
).catch(async (error: unknown) => {
  await database.drop();
  throw error;
});
const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });

/** Background: distinct values, plus `HOT_SIGHTINGS_EACH` sightings of each of a phase's hot values. */
async function loadSightings(from: number, to: number, phase: number): Promise<void> {
  const started = performance.now();
  const perReport = 10;
  // A valid (version 4, RFC variant) uuid per background report: alert records carry report ids.
  await database.pool.query(
    `CREATE OR REPLACE FUNCTION bench_report_id(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
       SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18))::uuid
         FROM md5('bench-report-' || n) AS h
     $$`,
  );
  await database.pool.query(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp,
                          detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
     SELECT bench_report_id(r), 'bench-org-' || (r % $3), 'central-government', 'bench', 'background',
            'other', 'low', 'GREEN', $4::timestamptz + (r % 1209600) * interval '1 second',
            $4::timestamptz, false, repeat('0', 64), 'preloaded', 0, r
       FROM generate_series($1::bigint / $5, ($2::bigint - 1) / $5) AS r`,
    [from, to, ORGANISATIONS, new Date(WINDOW_START).toISOString(), perReport],
  );
  await database.pool.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
     SELECT bench_report_id(i / $3), 'domain', 'bg-' || i || '.bench.example', false,
            $4::timestamptz + ((i / $3) % 1209600) * interval '1 second', true
       FROM generate_series($1::bigint, $2::bigint - 1) AS i`,
    [from, to, perReport, new Date(WINDOW_START).toISOString()],
  );
  // The phase's hot values, seen by other organisations already (inside the counts above).
  await database.pool.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
     SELECT bench_report_id(($1::bigint / 10) + k), 'domain', 'hot-' || $2 || '-' || h || '.bench.example',
            false, $4::timestamptz, true
       FROM generate_series(0, $3 - 1) AS h, generate_series(0, ${HOT_SIGHTINGS_EACH - 1}) AS k
      WHERE $1::bigint / 10 + k <= ($5::bigint - 1) / 10
     ON CONFLICT DO NOTHING`,
    [from, phase, HOT_VALUES, new Date(WINDOW_START + 7 * 86_400_000).toISOString(), to],
  );
  await database.pool.query('ANALYZE');
  const { rows } = await database.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM sightings`);
  console.log(
    `  ${rows[0]!.n} sightings stored (${((performance.now() - started) / 1000).toFixed(1)} s to load)`,
  );
}

function envelope(phase: number, i: number): ReportEnvelope {
  const id = randomUUID();
  const detected = WINDOW_START + Math.floor(((i * 7919) % (WINDOW_DAYS * 1440)) * 60_000);
  return {
    schema: REPORT_ENVELOPE_SCHEMA,
    id,
    organisationId: `bench-org-${(i * 7) % ORGANISATIONS}`,
    // Not the background's sector, so the surge rule reads the same few rows in both phases.
    sector: MEASURED_SECTORS[i % MEASURED_SECTORS.length]!,
    submittedBy: 'bench',
    receivedAt: new Date().toISOString(),
    contentSha256: '0'.repeat(64),
    report: {
      id,
      title: `Benchmark report ${phase}/${i}`,
      category: REPORT_CATEGORIES[i % REPORT_CATEGORIES.length]!,
      severity: 'medium',
      tlp: 'GREEN',
      detectedAt: new Date(detected).toISOString(),
      exercise: false,
      indicators: [
        { type: 'domain', value: `hot-${phase}-${i % HOT_VALUES}.bench.example` },
        { type: 'domain', value: `hot-${phase}-${(i * 31 + 7) % HOT_VALUES}.bench.example` },
        { type: 'url', value: `hxxps://new-${phase}-${i}.bench[.]example/gate.php` },
        { type: 'ipv4', value: `45.${phase}.${(i >> 8) & 255}.${i & 255}` },
        { type: 'sha256', value: (i.toString(16) + phase).padStart(64, 'a') },
      ],
    },
  };
}

/** Sends a phase's reports in batches and measures from the first report stored to the last. */
async function measure(phase: number, count: number): Promise<number> {
  const envelopes = Array.from({ length: count }, (_, i) => envelope(phase, i));
  for (let i = 0; i < envelopes.length; i += 500) {
    await producer.send({
      topic: `${prefix}renkei.reports.v1`,
      acks: -1,
      messages: envelopes.slice(i, i + 500).map((e) => ({ key: e.id, value: JSON.stringify(e) })),
    });
  }
  const ids = envelopes.map((e) => e.id);
  const { rows } = await eventually(
    async () => {
      const result = await database.pool.query<{ n: number; seconds: number }>(
        `SELECT count(*)::int AS n, extract(epoch FROM max(processed_at) - min(processed_at))::float8 AS seconds
           FROM reports WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      if (result.rows[0]!.n < count) throw new Error(`${result.rows[0]!.n} of ${count} stored`);
      return result;
    },
    { timeoutMs: 1_800_000, intervalMs: 500 },
  );
  return (count - 1) / rows[0]!.seconds;
}

try {
  await producer.connect();
  console.log(
    `\nCorrelation: ${REPORTS} reports per phase, 5 indicators each, through one correlator process`,
  );
  await measure(0, 200); // warm-up: JIT, connections, topic and group
  const rates: number[] = [];
  let loaded = 0;
  for (const [index, size] of SIZES.entries()) {
    console.log(`phase ${index + 1}: ${size.toLocaleString('en')} sightings in the window`);
    await loadSightings(loaded, size, index + 1);
    loaded = size;
    const rate = await measure(index + 1, REPORTS);
    rates.push(rate);
    console.log(`  ${rate.toFixed(0)} reports/s`);
  }
  const [small, large] = rates as [number, number];
  console.log(
    `\n${'10^4 sightings'.padEnd(16)} ${small.toFixed(0).padStart(6)} reports/s\n` +
      `${'10^6 sightings'.padEnd(16)} ${large.toFixed(0).padStart(6)} reports/s\n` +
      `rate at 10^6 is ${((large / small) * 100).toFixed(0)}% of the rate at 10^4 (ratio ${(large / small).toFixed(2)}; goal ≥ 0.80)`,
  );
} finally {
  await producer.disconnect().catch(() => undefined);
  await correlator.stop();
  await database.drop();
  await deleteTopicsWithPrefix(prefix);
}
