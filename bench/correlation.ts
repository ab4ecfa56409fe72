import { createPool, type Pool } from '@renkei/db';
import { testKafka } from '@renkei/testing';
import {
  BENCH_ORGANISATIONS,
  benchEnvelope,
  sendAndWaitStored,
  WINDOW_START,
} from './lib/correlator-load.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { percent, round } from './lib/stats.js';

const HOT_SIGHTINGS_EACH = 5;
const SIGHTINGS_PER_REPORT = 10;

/**
 * The correlator's rate as history grows: the same kind of reports through
 * the real correlator process (Kafka in, PostgreSQL out), first with 10^4
 * stored indicator sightings inside the window, then with 10^6, in one run.
 * The goal is that per-report work does not grow with history.
 *
 * Background sightings are loaded with one INSERT … SELECT over
 * generate_series each, not row by row. Each phase's reports draw on their
 * own pool of indicators that already have a few sightings from other
 * organisations, so both phases correlate, write alert versions and do the
 * same work per report; only the size of the tables differs.
 */
export const correlation: Scenario = {
  name: 'correlation',
  title: 'Correlation as history grows: reports/s at 10^4 and 10^6 stored sightings',
  settings: {
    reports: { description: 'reports per phase', full: 3000, smoke: 40 },
    warmUpReports: { description: 'reports before the first phase', full: 300, smoke: 10 },
    small: { description: 'stored sightings in the first phase', full: 10_000, smoke: 1_000 },
    large: { description: 'stored sightings in the second phase', full: 1_000_000, smoke: 10_000 },
    hotValues: { description: 'shared indicators a phase’s reports draw from', full: 200, smoke: 10 },
  },
  async run(context) {
    const stack = await context.startStack(['correlator']);
    const pool = createPool(stack.databaseUrl, { max: 2 });
    context.defer(() => pool.end());
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    context.defer(() => producer.disconnect());
    const hotValues = context.setting('hotValues');
    const reports = context.setting('reports');
    const measure = (tag: string, count: number) =>
      sendAndWaitStored({
        producer,
        topic: stack.topics.reports,
        pool,
        envelopes: Array.from({ length: count }, (_, i) => benchEnvelope(tag, i, hotValues)),
        timeoutMs: context.smoke ? 120_000 : 1_800_000,
      });

    await measure('warm', context.setting('warmUpReports'));
    const phases: { sightings: number; loadSeconds: number; perSecond: number }[] = [];
    let loaded = 0;
    for (const [index, size] of [context.setting('small'), context.setting('large')].entries()) {
      const tag = `phase${index + 1}`;
      context.log(`loading ${size.toLocaleString('en')} sightings`);
      const loadSeconds = await loadSightings(context, pool, loaded, size, tag, hotValues);
      loaded = size;
      const { perSecond } = await measure(tag, reports);
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sightings`);
      context.log(`${rows[0]!.n.toLocaleString('en')} sightings stored: ${perSecond} reports/s`);
      phases.push({ sightings: rows[0]!.n, loadSeconds, perSecond });
    }
    const [small, large] = phases as [(typeof phases)[0], (typeof phases)[0]];
    const ratio = round(large.perSecond / small.perSecond, 3);
    return {
      figures: { reports, hotValues, phases, ratio },
      tables: [
        {
          columns: ['sightings stored', 'reports/s', 'seconds to load the background'],
          rows: phases.map((phase) => [phase.sightings, phase.perSecond, round(phase.loadSeconds, 1)]),
        },
      ],
      goals: [
        {
          goal: 'rate at 10^6 sightings ≥ 80 % of the rate at 10^4',
          figure: `${percent(ratio)} (${large.perSecond} vs ${small.perSecond} reports/s)`,
          met: ratio >= 0.8,
        },
      ],
      notes: [
        `${reports} reports per phase through one correlator process, five indicators each, two of them from the phase's ${hotValues} shared values, each already seen ${HOT_SIGHTINGS_EACH} times by other organisations; timed from the first send until PostgreSQL holds every report.`,
        'The background (loaded between phases, not timed) sits in the same 14-day window as the measured reports, so every stored sighting is inside some window.',
      ],
    };
  },
};

/** Background: distinct values, plus `HOT_SIGHTINGS_EACH` sightings of each of the phase's hot values. */
async function loadSightings(
  context: BenchContext,
  pool: Pool,
  from: number,
  to: number,
  tag: string,
  hotValues: number,
): Promise<number> {
  const started = performance.now();
  // A valid (version 4, RFC variant) uuid per background report: alert records carry report ids.
  await pool.query(
    `CREATE OR REPLACE FUNCTION bench_report_id(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
       SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18))::uuid
         FROM md5('bench-report-' || n) AS h
     $$`,
  );
  await pool.query(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp,
                          detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
     SELECT bench_report_id(r), 'bench-org-' || (r % $3), 'central-government', 'bench', 'background',
            'other', 'low', 'GREEN', $4::timestamptz + (r % 1209600) * interval '1 second',
            $4::timestamptz, false, repeat('0', 64), 'preloaded', 0, r
       FROM generate_series($1::bigint / $5, ($2::bigint - 1) / $5) AS r
     ON CONFLICT DO NOTHING`,
    [from, to, BENCH_ORGANISATIONS, new Date(WINDOW_START).toISOString(), SIGHTINGS_PER_REPORT],
  );
  await pool.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
     SELECT bench_report_id(i / $3), 'domain', 'bg-' || i || '.bench.example', false,
            $4::timestamptz + ((i / $3) % 1209600) * interval '1 second', true
       FROM generate_series($1::bigint, $2::bigint - 1) AS i`,
    [from, to, SIGHTINGS_PER_REPORT, new Date(WINDOW_START).toISOString()],
  );
  // The phase's hot values, seen by other organisations already.
  await pool.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
     SELECT bench_report_id(($1::bigint / 10) + k), 'domain', 'hot-' || $2 || '-' || h || '.bench.example',
            false, $4::timestamptz, true
       FROM generate_series(0, $3 - 1) AS h, generate_series(0, ${HOT_SIGHTINGS_EACH - 1}) AS k
      WHERE $1::bigint / 10 + k <= ($5::bigint - 1) / 10
     ON CONFLICT DO NOTHING`,
    [from, tag, hotValues, new Date(WINDOW_START + 7 * 86_400_000).toISOString(), to],
  );
  await pool.query('ANALYZE');
  const seconds = (performance.now() - started) / 1000;
  context.log(`background loaded in ${seconds.toFixed(1)} s`);
  return seconds;
}
