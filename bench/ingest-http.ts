import { interleave, type Interleaved } from './lib/interleave.js';
import type { HttpClosedResult } from './lib/load-ops.js';
import type { BenchProcess } from './lib/processes.js';
import type { Scenario } from './lib/scenario.js';
import { median, percent, round } from './lib/stats.js';

interface Measured extends HttpClosedResult {
  /** CPU seconds the server process spent per 1,000 answered requests. */
  serverCpuPer1000: number;
  /** Ingest only: reports per Kafka send over the measurement, from its own `/metrics`. */
  meanBatch?: number;
}

/**
 * Ingest ÷ the HTTP floor: the same closed-loop load from a load process of
 * its own, at the same concurrency, against ingest and against the floor
 * (bench/http-floor.ts: ingest's route with no Kafka and no PostgreSQL).
 *
 * Measured at two concurrencies: a burst from many reporters (the goal: the
 * capacity that matters in a national incident, where batching pays) and a
 * few reporters at a time (where each request waits out its batch's round
 * trips to PostgreSQL and Kafka).
 */
export const ingestHttp: Scenario = {
  name: 'ingest-http',
  title: 'Ingest ÷ HTTP floor (POST /v1/reports, closed loop)',
  settings: {
    rounds: { description: 'floor/ingest pairs measured at each concurrency', full: 5, smoke: 1 },
    seconds: { description: 'length of each measurement', full: 10, smoke: 1 },
    warmUpSeconds: { description: 'load on each side before measuring', full: 5, smoke: 1 },
    burstConcurrency: { description: 'requests in flight in a burst (the goal)', full: 256, smoke: 16 },
    fewConcurrency: { description: 'requests in flight from a few reporters', full: 16, smoke: 4 },
  },
  async run(context) {
    const [stack, floor, load] = await Promise.all([
      // Ingest alone: nothing consumes what it accepts, so only its own work is measured.
      context.startStack(['ingest']),
      context.startProcess({
        label: 'http-floor',
        script: 'bench/http-floor.ts',
        env: { AUTH_JWKS_FILE: context.jwksFile },
      }),
      context.load(),
    ]);
    const ingest = stack.service('ingest');
    const token = await context.token({ org: 'bench-csirt', sector: 'finance', roles: ['reporter'] });
    let calls = 0;
    const drive = async (server: BenchProcess, concurrency: number, seconds: number): Promise<Measured> => {
      const cpuBefore = server.usage().cpuSeconds;
      const batchesBefore = server === ingest ? await ingestBatches(ingest) : undefined;
      const result = await load.run('http-closed', {
        origin: server.url,
        path: '/v1/reports',
        token,
        concurrency,
        seconds,
        tag: `http-${++calls}`,
      });
      const cpu = server.usage().cpuSeconds - cpuBefore;
      const measured: Measured = {
        ...result,
        serverCpuPer1000: round((cpu / Math.max(1, result.count)) * 1000, 3),
      };
      if (batchesBefore) {
        const after = await ingestBatches(ingest);
        measured.meanBatch = round(
          (after.reports - batchesBefore.reports) / (after.sends - batchesBefore.sends),
          1,
        );
      }
      return measured;
    };

    const warmUp = context.setting('warmUpSeconds');
    const seconds = context.setting('seconds');
    const levels: { label: string; concurrency: number; measured: Interleaved<Measured, Measured> }[] = [];
    for (const [label, concurrency] of [
      ['burst', context.setting('burstConcurrency')],
      ['few', context.setting('fewConcurrency')],
    ] as const) {
      context.log(`${concurrency} in flight`);
      const measured = await interleave({
        rounds: context.setting('rounds'),
        warmUp: async () => {
          await drive(floor, concurrency, warmUp);
          await drive(ingest, concurrency, warmUp);
        },
        floor: () => drive(floor, concurrency, seconds),
        hub: () => drive(ingest, concurrency, seconds),
        ratio: (hub, base) => hub.perSecond / base.perSecond,
        log: context.log,
      });
      levels.push({ label, concurrency, measured });
    }

    const summary = levels.map(({ label, concurrency, measured }) => ({
      label,
      concurrency,
      medianRatio: measured.medianRatio,
      floorPerSecond: round(median(measured.rounds.map((r) => r.floor.perSecond)), 1),
      ingestPerSecond: round(median(measured.rounds.map((r) => r.hub.perSecond)), 1),
      floorCpuSecondsPer1000: median(measured.rounds.map((r) => r.floor.serverCpuPer1000)),
      ingestCpuSecondsPer1000: median(measured.rounds.map((r) => r.hub.serverCpuPer1000)),
      ingestMeanBatch: median(measured.rounds.map((r) => r.hub.meanBatch ?? Number.NaN)),
      rounds: measured.rounds,
    }));
    const [burst, few] = summary as [(typeof summary)[number], (typeof summary)[number]];
    const refused = levels
      .flatMap(({ measured }) => measured.rounds.flatMap(({ floor: f, hub: h }) => [f, h]))
      .filter((r) => r.errors > 0 || Object.keys(r.statuses).some((status) => status !== '202'));
    return {
      figures: { levels: summary },
      tables: [
        {
          columns: [
            'in flight',
            'round',
            'floor req/s',
            'ingest req/s',
            'ingest ÷ floor',
            'floor p50 / p99 ms',
            'ingest p50 / p99 ms',
            'CPU s per 1,000: floor / ingest',
            'ingest reports per Kafka send',
          ],
          rows: levels.flatMap(({ concurrency, measured }) =>
            measured.rounds.map(({ round: n, floor: f, hub: h, ratio }) => [
              concurrency,
              n,
              f.perSecond,
              h.perSecond,
              ratio.toFixed(3),
              `${f.latencyMs.p50} / ${f.latencyMs.p99}`,
              `${h.latencyMs.p50} / ${h.latencyMs.p99}`,
              `${f.serverCpuPer1000} / ${h.serverCpuPer1000}`,
              h.meanBatch ?? null,
            ]),
          ),
        },
      ],
      goals: [
        {
          goal: 'ingest ≥ 50 % of the HTTP floor',
          figure:
            `${percent(burst.medianRatio)} at ${burst.concurrency} in flight (median of ${context.setting('rounds')}; ` +
            `${burst.ingestPerSecond} vs ${burst.floorPerSecond} req/s); ${percent(few.medianRatio)} at ${few.concurrency} in flight`,
          met: burst.medianRatio >= 0.5,
        },
      ],
      notes: [
        `Closed loop from one load process (undici), ${seconds} s per measurement after ${warmUp} s of warm-up on each side, at ${burst.concurrency} requests in flight (a burst from many reporters: the goal) and at ${few.concurrency}.`,
        'The floor is ingest’s route (token check, validation, envelope and content hash, request log line, metrics) without the ledger writes and the Kafka acknowledgement.',
        'Reports per Kafka send comes from ingest’s own `renkei_batch_size` series, read from its `/metrics` before and after each measurement.',
        ...(refused.length > 0
          ? [
              `Some answers were not 202 (only 202s count): ${refused.map((r) => JSON.stringify(r.statuses) + (r.errors ? ` +${r.errors} errors` : '')).join('; ')}.`,
            ]
          : []),
      ],
    };
  },
};

/** Ingest's batch counters: Kafka sends so far and the reports they carried. */
async function ingestBatches(ingest: BenchProcess): Promise<{ sends: number; reports: number }> {
  if (!ingest.metricsUrl) throw new Error('ingest was started without a metrics port');
  const text = await (await fetch(`${ingest.metricsUrl}/metrics`)).text();
  const read = (series: string) =>
    Number(new RegExp(`^${series}\\{[^}]*stage="ingest"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { sends: read('renkei_batch_size_count'), reports: read('renkei_batch_size_sum') };
}
