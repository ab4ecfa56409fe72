import { createPool, type Pool } from '@renkei/db';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { interleave } from './lib/interleave.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { percent, round } from './lib/stats.js';

const SIGHTINGS_PER_REPORT = 10;
/** Reports of each hot value: what a value "seen before" looks like in a lookup. */
const HOT_SIGHTINGS_EACH = 5;
const ORGANISATIONS = ['mlit-csirt', 'finance-ceptar', 'water-ceptar', 'rail-ceptar', 'acme-bank'];
const SECTORS = ['central-government', 'finance', 'water', 'railway', 'finance'];
const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const BASE = Date.UTC(2026, 9, 1);
/** The gateway without its read budget: the scenario measures work, not the limit. */
const NO_READ_BUDGET = {
  RATE_LIMIT_ANALYST_READS_PER_SECOND: '1000000000',
  RATE_LIMIT_ANALYST_READS_BURST: '1000000000',
  RATE_LIMIT_ANALYST_EXPENSIVE_READS_IN_FLIGHT: '1000',
};

interface Rate {
  requests: number;
  seconds: number;
  perSecond: number;
}

/**
 * "Have we seen this?" at national scale (issue 18): a 1,000-value
 * `POST /v1/lookup` and a single-indicator `GET /v1/search` on the gateway,
 * as an analyst (every report read), first with 10^4 stored sightings (10^3
 * reports), then with 10^6 (10^5 reports), each against a floor in the same
 * run: the raw indexed SQL that gives the same answer (the sightings summary,
 * the alerts of the known values, the exclusions; for a search, the summary,
 * the reports and the alerts of the value), sent from this process with
 * values already canonical. The background is loaded with INSERT … SELECT
 * over generate_series.
 */
export const search: Scenario = {
  name: 'search',
  title: 'Search and lookup: 1,000-value lookups and single-indicator searches at 10^4 and 10^6 sightings',
  settings: {
    small: { description: 'stored sightings in the first phase', full: 10_000, smoke: 1_000 },
    large: { description: 'stored sightings in the second phase', full: 1_000_000, smoke: 5_000 },
    values: { description: 'values per lookup (half of them seen before)', full: 1_000, smoke: 50 },
    lookups: { description: 'lookups per round and side', full: 10, smoke: 2 },
    searches: { description: 'searches per round and side', full: 100, smoke: 5 },
    rounds: { description: 'interleaved rounds (floor, hub) per phase', full: 5, smoke: 1 },
  },
  async run(context) {
    const stack = await context.startStack(['gateway'], NO_READ_BUDGET);
    const gateway = stack.service('gateway');
    const pool = createPool(stack.databaseUrl, { max: 2 });
    context.defer(() => pool.end());
    const token = await context.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    const valueCount = context.setting('values');
    const hot = valueCount / 2;

    await pool.query(
      `CREATE OR REPLACE FUNCTION bench_search_report_id(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
         SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18))::uuid
           FROM md5('bench-search-report-' || n) AS h
       $$`,
    );
    await loadHotValues(pool, hot);
    // Half seen before (as written: defanged), half never: what an analyst pastes from an advisory.
    const written = [
      ...Array.from({ length: hot }, (_, h) => `hot-${h}[.]search[.]example`),
      ...Array.from({ length: valueCount - hot }, (_, n) => `never-${n}.search.example`),
    ];
    const canonical = written.map((value) => value.replaceAll('[.]', '.'));

    const lookupOnce = async () => {
      const response = await fetch(`${gateway.url}/v1/lookup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ values: written }),
      });
      const body = (await response.json()) as { results?: { known: boolean }[] };
      if (response.status !== 200 || body.results?.filter((r) => r.known).length !== hot)
        throw new Error(`lookup answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    };
    const lookupFloorOnce = async () => {
      const known = await floorSummaries(pool, canonical);
      if (known.length !== hot) throw new Error(`the floor found ${known.length} of ${hot} values`);
      await floorAlerts(pool, known);
      await floorExclusions(pool, canonical);
    };
    let probe = 0;
    const searchOnce = async () => {
      const value = `hot-${(probe += 1) % hot}.search.example`;
      const response = await fetch(`${gateway.url}/v1/search?q=${encodeURIComponent(value)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { reports?: { items: unknown[] } };
      if (response.status !== 200 || body.reports?.items.length !== HOT_SIGHTINGS_EACH)
        throw new Error(`search answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    };
    const searchFloorOnce = async () => {
      const value = `hot-${(probe += 1) % hot}.search.example`;
      const [summary] = await floorSummaries(pool, [value]);
      const reports = await pool.query(
        `SELECT r.id, r.title, r.category, r.severity, r.tlp, r.sector, r.organisation_id, r.detected_at,
                r.received_at, r.exercise
           FROM reports r
          WHERE r.id IN (SELECT report_id FROM sightings WHERE type = 'domain' AND value = $1)
            AND r.exercise = false
          ORDER BY r.received_at DESC, r.id DESC LIMIT 21`,
        [value],
      );
      if (!summary || reports.rowCount !== HOT_SIGHTINGS_EACH) throw new Error(`the floor missed ${value}`);
      await floorAlerts(pool, [summary]);
    };

    const phases: {
      sightings: number;
      reports: number;
      loadSeconds: number;
      lookup: { hub: Rate; floor: Rate; ratio: number };
      search: { hub: Rate; floor: Rate; ratio: number };
    }[] = [];
    let loaded = 0;
    for (const size of [context.setting('small'), context.setting('large')]) {
      context.log(`loading ${size.toLocaleString('en')} sightings`);
      const loadSeconds = await loadBackground(context, pool, loaded, size);
      loaded = size;
      const { rows } = await pool.query<{ sightings: number; reports: number }>(
        `SELECT (SELECT count(*)::int FROM sightings) AS sightings, (SELECT count(*)::int FROM reports) AS reports`,
      );
      const measure = async (
        label: string,
        count: number,
        hubOnce: () => Promise<void>,
        floorOnce: () => Promise<void>,
      ) => {
        const result = await interleave({
          rounds: context.setting('rounds'),
          warmUp: async () => {
            for (let i = 0; i < Math.min(3, count); i += 1) {
              await hubOnce();
              await floorOnce();
            }
          },
          floor: () => timed(count, floorOnce),
          hub: () => timed(count, hubOnce),
          ratio: (hub, floor) => hub.perSecond / floor.perSecond,
          log: (message) => context.log(`${label} at ${rows[0]!.sightings}: ${message}`),
        });
        const best = (side: 'hub' | 'floor') =>
          result.rounds.map((r) => r[side]).sort((a, b) => b.perSecond - a.perSecond)[
            Math.floor(result.rounds.length / 2)
          ]!;
        return { hub: best('hub'), floor: best('floor'), ratio: result.medianRatio };
      };
      const lookup = await measure('lookup', context.setting('lookups'), lookupOnce, lookupFloorOnce);
      const searched = await measure('search', context.setting('searches'), searchOnce, searchFloorOnce);
      phases.push({ ...rows[0]!, loadSeconds, lookup, search: searched });
    }
    const [small, large] = phases as [(typeof phases)[0], (typeof phases)[0]];
    const growth = (kind: 'lookup' | 'search') =>
      round(large[kind].hub.perSecond / small[kind].hub.perSecond, 3);
    return {
      figures: {
        values: valueCount,
        hotValues: hot,
        phases,
        lookupGrowth: growth('lookup'),
        searchGrowth: growth('search'),
      },
      tables: [
        {
          columns: [
            'sightings stored',
            'reports',
            'lookups/s (1,000 values)',
            'floor lookups/s',
            'lookup ÷ floor',
            'searches/s',
            'floor searches/s',
            'search ÷ floor',
          ],
          rows: phases.map((phase) => [
            phase.sightings,
            phase.reports,
            round(phase.lookup.hub.perSecond, 2),
            round(phase.lookup.floor.perSecond, 2),
            percent(phase.lookup.ratio),
            round(phase.search.hub.perSecond, 1),
            round(phase.search.floor.perSecond, 1),
            percent(phase.search.ratio),
          ]),
        },
      ],
      goals: [
        {
          goal: 'a 1,000-value lookup ≥ 50 % of its raw-SQL floor (at 10^6 sightings)',
          figure: percent(large.lookup.ratio),
          met: large.lookup.ratio >= 0.5,
        },
        {
          goal: 'lookup rate at 10^6 sightings ≥ 80 % of the rate at 10^4',
          figure: `${percent(growth('lookup'))} (${round(large.lookup.hub.perSecond, 2)} vs ${round(small.lookup.hub.perSecond, 2)}/s)`,
          met: growth('lookup') >= 0.8,
        },
        {
          goal: 'search rate at 10^6 sightings ≥ 80 % of the rate at 10^4',
          figure: `${percent(growth('search'))} (${round(large.search.hub.perSecond, 1)} vs ${round(small.search.hub.perSecond, 1)}/s)`,
          met: growth('search') >= 0.8,
        },
      ],
      notes: [
        `One analyst, one request at a time, over HTTP to the gateway process; ${valueCount} values per lookup as written (the ${hot} seen before defanged, each with ${HOT_SIGHTINGS_EACH} reports of several organisations and TLPs and one alert), the rest never seen.`,
        'The floor sends, from the benchmark process, the statements that give the same answer for the canonical values: the sightings summary (one GROUP BY over an index range per value), the alerts of the known values (GIN on their indicators), the exclusions; for a search, the summary, the newest 21 reports and the alerts. It parses nothing, judges no policy and serialises no JSON.',
        `The background is ${SIGHTINGS_PER_REPORT} sightings per report, distinct values, over 30 days; ratios are the median of interleaved rounds (floor, hub).`,
      ],
    };
  },
};

async function timed(count: number, once: () => Promise<void>): Promise<Rate> {
  const started = performance.now();
  for (let i = 0; i < count; i += 1) await once();
  const seconds = (performance.now() - started) / 1000;
  return { requests: count, seconds: round(seconds, 3), perSecond: round(count / seconds, 2) };
}

/** The analyst's summary of each value: the statement the lookup's answer comes from, without a viewer's scope. */
async function floorSummaries(
  pool: Pool,
  values: readonly string[],
): Promise<{ type: string; value: string }[]> {
  const { rows } = await pool.query<{ type: string; value: string }>(
    `SELECT s.type, s.value, min(r.detected_at), max(r.detected_at), count(*),
            count(DISTINCT r.organisation_id), array_agg(DISTINCT r.sector), array_agg(DISTINCT r.organisation_id)
       FROM unnest($1::text[]) AS q(value)
       JOIN sightings s ON s.type = 'domain' AND s.value = q.value
       JOIN reports r ON r.id = s.report_id
      WHERE r.exercise = false
      GROUP BY s.type, s.value`,
    [values],
  );
  return rows;
}

async function floorAlerts(pool: Pool, known: readonly { type: string; value: string }[]): Promise<void> {
  await pool.query(
    `SELECT record FROM alerts WHERE record_indicator_keys(record -> 'indicators') && $1::text[] AND exercise = false`,
    [known.map((k) => `${k.type}:${k.value}`)],
  );
}

async function floorExclusions(pool: Pool, values: readonly string[]): Promise<void> {
  await pool.query(
    `SELECT e.id FROM unnest($1::text[]) AS t(value) JOIN exclusions e ON e.type = 'domain' AND e.canonical = t.value
      WHERE e.removed_at IS NULL`,
    [values],
  );
}

/**
 * The values a lookup finds, loaded once before the first phase: each seen by
 * `HOT_SIGHTINGS_EACH` reports of different organisations and TLPs, with one
 * shared-indicator alert.
 */
export async function loadHotValues(pool: Pool, hot: number): Promise<void> {
  await pool.query(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp,
                          detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
     SELECT bench_search_report_id(-1 - n), ($2::text[])[1 + n % 5], ($3::text[])[1 + n % 5], 'bench',
            'hot report ' || n, 'phishing', 'high', ($4::text[])[1 + (n + n / 5) % 5],
            $5::timestamptz + n * interval '1 minute', $5::timestamptz + n * interval '1 minute', false,
            repeat('0', 64), 'preloaded', 0, -1 - n
       FROM generate_series(0, $1::bigint * ${HOT_SIGHTINGS_EACH} - 1) AS n`,
    [hot, ORGANISATIONS, SECTORS, TLPS, new Date(BASE).toISOString()],
  );
  await pool.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
     SELECT bench_search_report_id(-1 - n), 'domain', 'hot-' || (n / ${HOT_SIGHTINGS_EACH}) || '.search.example',
            false, $2::timestamptz + n * interval '1 minute', true
       FROM generate_series(0, $1::bigint * ${HOT_SIGHTINGS_EACH} - 1) AS n`,
    [hot, new Date(BASE).toISOString()],
  );
  const records = Array.from({ length: hot }, (_, h) => {
    const value = `hot-${h}.search.example`;
    return alertRecordFixture({
      indicators: [{ type: 'domain', value }],
      title: `domain ${value} reported by 2 organisations in 2 sectors`,
      contributions: [0, 1].map((k) =>
        contributionFixture({ organisationId: ORGANISATIONS[k]!, indicators: [{ type: 'domain', value }] }),
      ),
    });
  });
  await pool.query(
    `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
     SELECT (r ->> 'id')::uuid, 'bench:' || (r ->> 'id'), 'shared-indicator', 1, false, 'GREEN', 'high', NULL, r, now(), now()
       FROM jsonb_array_elements($1::jsonb) AS r`,
    [JSON.stringify(records)],
  );
}

/** Background: `SIGHTINGS_PER_REPORT` distinct values per report, reports of every organisation and TLP. */
export async function loadBackground(
  context: BenchContext,
  pool: Pool,
  from: number,
  to: number,
): Promise<number> {
  const started = performance.now();
  await pool.query(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, description, category, severity, tlp,
                          detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
     SELECT bench_search_report_id(r), ($3::text[])[1 + r % 5], ($4::text[])[1 + r % 5], 'bench',
            'background report ' || r, '標的型攻撃メール ' || r, 'other', 'low', ($5::text[])[1 + (r / 5) % 5],
            $6::timestamptz + (r % 2592000) * interval '1 second', $6::timestamptz + r * interval '10 ms',
            false, repeat('0', 64), 'preloaded', 0, r
       FROM generate_series($1::bigint / ${SIGHTINGS_PER_REPORT}, ($2::bigint - 1) / ${SIGHTINGS_PER_REPORT}) AS r
     ON CONFLICT DO NOTHING`,
    [from, to, ORGANISATIONS, SECTORS, TLPS, new Date(BASE).toISOString()],
  );
  await pool.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
     SELECT bench_search_report_id(i / ${SIGHTINGS_PER_REPORT}), 'domain', 'bg-' || i || '.search.example', false,
            $3::timestamptz + ((i / ${SIGHTINGS_PER_REPORT}) % 2592000) * interval '1 second', true
       FROM generate_series($1::bigint, $2::bigint - 1) AS i`,
    [from, to, new Date(BASE).toISOString()],
  );
  await pool.query('ANALYZE');
  const seconds = (performance.now() - started) / 1000;
  context.log(`background loaded in ${seconds.toFixed(1)} s`);
  return seconds;
}
