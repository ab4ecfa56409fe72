import { createPool, type Pool } from '@renkei/db';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { median, percent, round } from './lib/stats.js';

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
 * as an analyst (every report read), on a hub holding 10^4 stored sightings
 * (10^3 reports) and on one holding 10^6 (10^5 reports), each against a floor
 * in the same run: the raw indexed SQL that gives the same answer (the
 * sightings summary, the alerts of the known values, the exclusions; for a
 * search, the summary, the reports and the alerts of the value), sent from
 * this process with values already canonical. The background is loaded with
 * INSERT … SELECT over generate_series.
 */
export const search: Scenario = {
  name: 'search',
  title: 'Search and lookup: 1,000-value lookups and single-indicator searches at 10^4 and 10^6 sightings',
  settings: {
    small: { description: 'stored sightings of the small hub', full: 10_000, smoke: 1_000 },
    large: { description: 'stored sightings of the large hub', full: 1_000_000, smoke: 5_000 },
    values: { description: 'values per lookup (half of them seen before)', full: 1_000, smoke: 50 },
    lookups: { description: 'lookups per round and side', full: 10, smoke: 2 },
    searches: { description: 'searches per round and side', full: 100, smoke: 5 },
    rounds: { description: 'interleaved rounds (floor and hub, small and large)', full: 7, smoke: 1 },
  },
  async run(context) {
    // Two hubs, one per size, measured in turn in every round: the machine's load drifts, and a
    // phase measured after the other would read that drift as growth.
    const hubs = [];
    for (const size of [context.setting('small'), context.setting('large')]) {
      const stack = await context.startStack(['gateway'], NO_READ_BUDGET);
      const pool = createPool(stack.databaseUrl, { max: 2 });
      context.defer(() => pool.end());
      hubs.push({ size, url: stack.service('gateway').url, databaseUrl: stack.databaseUrl, pool });
    }
    const token = await context.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    const valueCount = context.setting('values');
    const hot = valueCount / 2;
    // Half seen before (as written: defanged), half never: what an analyst pastes from an advisory.
    const written = [
      ...Array.from({ length: hot }, (_, h) => `hot-${h}[.]search[.]example`),
      ...Array.from({ length: valueCount - hot }, (_, n) => `never-${n}.search.example`),
    ];
    const canonical = written.map((value) => value.replaceAll('[.]', '.'));

    const loads: number[] = [];
    let loadedInto = new Map<string, number>();
    for (const hub of hubs) {
      // A smoke run hands every scenario one stack: the large size is then loaded on top of the small.
      const from = loadedInto.get(hub.databaseUrl);
      if (from === undefined) {
        await hub.pool.query(
          `CREATE OR REPLACE FUNCTION bench_search_report_id(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
             SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18))::uuid
               FROM md5('bench-search-report-' || n) AS h
           $$`,
        );
        await loadHotValues(hub.pool, hot);
      }
      context.log(`loading ${hub.size.toLocaleString('en')} sightings`);
      loads.push(await loadBackground(context, hub.pool, from ?? 0, hub.size));
      loadedInto = new Map([...loadedInto, [hub.databaseUrl, hub.size]]);
    }
    const stored = await Promise.all(
      hubs.map(async (hub) => {
        const { rows } = await hub.pool.query<{ sightings: number; reports: number }>(
          `SELECT (SELECT count(*)::int FROM sightings) AS sightings, (SELECT count(*)::int FROM reports) AS reports`,
        );
        return rows[0]!;
      }),
    );

    let probe = 0;
    const sides = hubs.map((hub) => ({
      lookup: async () => {
        const response = await fetch(`${hub.url}/v1/lookup`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ values: written }),
        });
        const body = (await response.json()) as { results?: { known: boolean }[] };
        if (response.status !== 200 || body.results?.filter((r) => r.known).length !== hot)
          throw new Error(`lookup answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
      },
      lookupFloor: async () => {
        const known = await floorSummaries(hub.pool, canonical);
        if (known.length !== hot) throw new Error(`the floor found ${known.length} of ${hot} values`);
        await floorAlerts(hub.pool, known);
        await floorExclusions(hub.pool, canonical);
      },
      search: async () => {
        const value = `hot-${(probe += 1) % hot}.search.example`;
        const response = await fetch(`${hub.url}/v1/search?q=${encodeURIComponent(value)}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await response.json()) as { reports?: { items: unknown[] } };
        if (response.status !== 200 || body.reports?.items.length !== HOT_SIGHTINGS_EACH)
          throw new Error(`search answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
      },
      searchFloor: async () => {
        const value = `hot-${(probe += 1) % hot}.search.example`;
        const [summary] = await floorSummaries(hub.pool, [value]);
        const reports = await hub.pool.query(
          `SELECT r.id, r.title, r.category, r.severity, r.tlp, r.sector, r.organisation_id, r.detected_at,
                  r.received_at, r.exercise
             FROM reports r
            WHERE r.id IN (SELECT report_id FROM sightings WHERE type = 'domain' AND value = $1)
              AND r.exercise = false
            ORDER BY r.received_at DESC, r.id DESC LIMIT 21`,
          [value],
        );
        if (!summary || reports.rowCount !== HOT_SIGHTINGS_EACH) throw new Error(`the floor missed ${value}`);
        await floorAlerts(hub.pool, [summary]);
      },
    }));

    const lookups = context.setting('lookups');
    const searches = context.setting('searches');
    for (const side of sides) {
      for (let i = 0; i < 3; i += 1) {
        await side.lookupFloor();
        await side.lookup();
        await side.searchFloor();
        await side.search();
      }
    }
    type Measured = { lookup: Rate; lookupFloor: Rate; search: Rate; searchFloor: Rate };
    const rounds: Measured[][] = [];
    for (let round = 1; round <= context.setting('rounds'); round += 1) {
      const measured: Measured[] = [];
      for (const side of sides) {
        measured.push({
          lookupFloor: await timed(lookups, side.lookupFloor),
          lookup: await timed(lookups, side.lookup),
          searchFloor: await timed(searches, side.searchFloor),
          search: await timed(searches, side.search),
        });
      }
      rounds.push(measured);
      const [s, l] = measured as [Measured, Measured];
      context.log(
        `round ${round}: lookups/s ${s.lookup.perSecond} (floor ${s.lookupFloor.perSecond}) small, ` +
          `${l.lookup.perSecond} (floor ${l.lookupFloor.perSecond}) large; searches/s ${s.search.perSecond} ` +
          `(floor ${s.searchFloor.perSecond}) small, ${l.search.perSecond} (floor ${l.searchFloor.perSecond}) large`,
      );
    }
    const ratio = (f: (m: Measured[]) => number) => round(median(rounds.map(f)), 3);
    const at = (index: number, kind: keyof Measured) =>
      round(median(rounds.map((m) => m[index]![kind].perSecond)), 2);
    const figures = {
      values: valueCount,
      hotValues: hot,
      stored,
      loadSeconds: loads.map((seconds) => round(seconds, 1)),
      rounds,
      lookupOverFloor: hubs.map((_, i) => ratio((m) => m[i]!.lookup.perSecond / m[i]!.lookupFloor.perSecond)),
      searchOverFloor: hubs.map((_, i) => ratio((m) => m[i]!.search.perSecond / m[i]!.searchFloor.perSecond)),
      lookupGrowth: ratio((m) => m[1]!.lookup.perSecond / m[0]!.lookup.perSecond),
      searchGrowth: ratio((m) => m[1]!.search.perSecond / m[0]!.search.perSecond),
      floorLookupGrowth: ratio((m) => m[1]!.lookupFloor.perSecond / m[0]!.lookupFloor.perSecond),
      floorSearchGrowth: ratio((m) => m[1]!.searchFloor.perSecond / m[0]!.searchFloor.perSecond),
    };
    return {
      figures,
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
          rows: hubs.map((_, i) => [
            stored[i]!.sightings,
            stored[i]!.reports,
            at(i, 'lookup'),
            at(i, 'lookupFloor'),
            percent(figures.lookupOverFloor[i]!),
            at(i, 'search'),
            at(i, 'searchFloor'),
            percent(figures.searchOverFloor[i]!),
          ]),
        },
      ],
      goals: [
        {
          goal: 'a 1,000-value lookup ≥ 50 % of its raw-SQL floor (at 10^6 sightings)',
          figure: percent(figures.lookupOverFloor[1]!),
          met: figures.lookupOverFloor[1]! >= 0.5,
        },
        {
          goal: 'lookup rate at 10^6 sightings ≥ 80 % of the rate at 10^4',
          figure: `${percent(figures.lookupGrowth)} (floor: ${percent(figures.floorLookupGrowth)})`,
          met: figures.lookupGrowth >= 0.8,
        },
        {
          goal: 'search rate at 10^6 sightings ≥ 80 % of the rate at 10^4',
          figure: `${percent(figures.searchGrowth)} (floor: ${percent(figures.floorSearchGrowth)})`,
          met: figures.searchGrowth >= 0.8,
        },
      ],
      notes: [
        `Two hubs (a gateway and a database each), one with ${stored[0]!.sightings.toLocaleString('en')} sightings, one with ${stored[1]!.sightings.toLocaleString('en')}, measured in turn in every round (floor then hub, small then large), so the machine's drift weighs on both; figures are the medians of ${rounds.length} rounds.`,
        `One analyst, one request at a time, over HTTP to the gateway process; ${valueCount} values per lookup as written (the ${hot} seen before defanged, each with ${HOT_SIGHTINGS_EACH} reports of several organisations and TLPs and one alert), the rest never seen.`,
        'The floor sends, from the benchmark process, the statements that give the same answer for the canonical values: the sightings summary (one GROUP BY over an index range per value), the alerts of the known values (GIN on their indicators), the exclusions; for a search, the summary, the newest 21 reports and the alerts. It parses nothing, judges no policy and serialises no JSON.',
        `The background is ${SIGHTINGS_PER_REPORT} sightings per report, distinct values, over 30 days, loaded with INSERT … SELECT over generate_series.`,
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
