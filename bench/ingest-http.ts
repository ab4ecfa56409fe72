import type { HttpClosedResult } from './lib/load-ops.js';
import { interleave } from './lib/interleave.js';
import type { BenchProcess } from './lib/processes.js';
import type { Scenario } from './lib/scenario.js';
import { median, percent, round } from './lib/stats.js';

interface Measured extends HttpClosedResult {
  /** CPU seconds the server process spent per 1,000 answered requests. */
  serverCpuPer1000: number;
}

/**
 * Ingest ÷ the HTTP floor: the same closed-loop load from a load process of
 * its own, at the same concurrency, against ingest and against the floor
 * (bench/http-floor.ts: ingest's route with no Kafka and no PostgreSQL).
 */
export const ingestHttp: Scenario = {
  name: 'ingest-http',
  title: 'Ingest ÷ HTTP floor (POST /v1/reports, closed loop)',
  settings: {
    rounds: { description: 'floor/ingest pairs measured', full: 5, smoke: 1 },
    seconds: { description: 'length of each measurement', full: 10, smoke: 1 },
    warmUpSeconds: { description: 'load on each side before measuring', full: 5, smoke: 1 },
    concurrency: { description: 'requests in flight (closed loop)', full: 64, smoke: 8 },
  },
  async run(context) {
    const [stack, floor, load] = await Promise.all([
      // Ingest alone: nothing consumes what it accepts, so only the HTTP side and its Kafka and PostgreSQL work are measured.
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
    const concurrency = context.setting('concurrency');
    let calls = 0;
    const drive = async (server: BenchProcess, seconds: number): Promise<Measured> => {
      const before = server.usage().cpuSeconds;
      const result = await load.run('http-closed', {
        origin: server.url,
        path: '/v1/reports',
        token,
        concurrency,
        seconds,
        tag: `http-${++calls}`,
      });
      const cpu = server.usage().cpuSeconds - before;
      return { ...result, serverCpuPer1000: round((cpu / Math.max(1, result.count)) * 1000, 3) };
    };

    const warmUp = context.setting('warmUpSeconds');
    const seconds = context.setting('seconds');
    const measured = await interleave({
      rounds: context.setting('rounds'),
      warmUp: async () => {
        await drive(floor, warmUp);
        await drive(ingest, warmUp);
      },
      floor: () => drive(floor, seconds),
      hub: () => drive(ingest, seconds),
      ratio: (hub, base) => hub.perSecond / base.perSecond,
      log: context.log,
    });

    const refused = measured.rounds
      .flatMap(({ floor: f, hub: h }) => [f, h])
      .filter(
        (result) => result.errors > 0 || Object.keys(result.statuses).some((status) => status !== '202'),
      );
    const floorRate = median(measured.rounds.map((r) => r.floor.perSecond));
    const hubRate = median(measured.rounds.map((r) => r.hub.perSecond));
    return {
      figures: {
        concurrency,
        medianRatio: measured.medianRatio,
        floorPerSecond: floorRate,
        ingestPerSecond: hubRate,
        floorCpuSecondsPer1000: median(measured.rounds.map((r) => r.floor.serverCpuPer1000)),
        ingestCpuSecondsPer1000: median(measured.rounds.map((r) => r.hub.serverCpuPer1000)),
        rounds: measured.rounds,
      },
      tables: [
        {
          columns: [
            'round',
            'floor req/s',
            'ingest req/s',
            'ingest ÷ floor',
            'floor p50 / p99 ms',
            'ingest p50 / p99 ms',
            'CPU s per 1,000: floor / ingest',
          ],
          rows: measured.rounds.map(({ round: n, floor: f, hub: h, ratio }) => [
            n,
            f.perSecond,
            h.perSecond,
            ratio.toFixed(3),
            `${f.latencyMs.p50} / ${f.latencyMs.p99}`,
            `${h.latencyMs.p50} / ${h.latencyMs.p99}`,
            `${f.serverCpuPer1000} / ${h.serverCpuPer1000}`,
          ]),
        },
      ],
      goals: [
        {
          goal: 'ingest ≥ 50 % of the HTTP floor',
          figure: `${percent(measured.medianRatio)} (median of ${measured.rounds.length}; ${hubRate} vs ${floorRate} req/s at ${concurrency} in flight)`,
          met: measured.medianRatio >= 0.5,
        },
      ],
      notes: [
        `${concurrency} requests in flight from one load process (undici), ${seconds} s per measurement after ${warmUp} s of warm-up on each side.`,
        'The floor is ingest’s route (token check, validation, envelope and content hash, request log line, metrics) without the ledger writes and the Kafka acknowledgement.',
        ...(refused.length > 0
          ? [
              `Some answers were not 202 (only 202s count): ${refused.map((r) => JSON.stringify(r.statuses) + (r.errors ? ` +${r.errors} errors` : '')).join('; ')}.`,
            ]
          : []),
      ],
    };
  },
};
