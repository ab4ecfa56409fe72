import { interleave } from './lib/interleave.js';
import type { KafkaOpenResult, PairsOpenArgs, PairsOpenResult } from './lib/load-ops.js';
import { waitForCorrelator } from './lib/pipeline.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { percentiles, round, type Percentiles } from './lib/stats.js';

const RATES = [100, 250, 500];
const GOAL_RATE = 250;
const GOAL_P99_MS = 250;

/** Two organisations reporting the same indicators (so each pair raises an alert) and an analyst watching. */
export async function pairTokens(context: BenchContext): Promise<PairsOpenArgs['tokens']> {
  const [first, second, analyst] = await Promise.all([
    context.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] }),
    context.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] }),
    context.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] }),
  ]);
  return { first, second, analyst };
}

const p = (value: number | null) => (value === null ? '∞' : String(value));
const triple = (ms: Percentiles) => `${p(ms.p50)} / ${p(ms.p95)} / ${p(ms.p99)}`;

/**
 * Open-loop load at fixed rates: each POST leaves at its place in the
 * schedule, whatever the previous answers did, and the latency runs from
 * that scheduled time to the alert arriving on an analyst's WebSocket stream.
 * Beside it, at the same rate, raw kafkajs: produce → consume.
 */
export const endToEnd: Scenario = {
  name: 'end-to-end',
  title: 'End to end: POST → alert on a WebSocket stream, beside raw kafkajs produce → consume',
  settings: {
    rounds: { description: 'floor/hub pairs measured at each rate', full: 3, smoke: 1 },
    seconds: { description: 'length of each measurement', full: 10, smoke: 1 },
    warmUpSeconds: { description: 'load through the hub before the first rate', full: 5, smoke: 1 },
    graceSeconds: { description: 'how long to wait for alerts after the last POST', full: 30, smoke: 15 },
    idleSeconds: {
      description: 'how long to wait for the correlator to catch up before a measurement',
      full: 180,
      smoke: 30,
    },
    rateShare: {
      description: 'share of the rates (100, 250, 500 reports/s) actually sent',
      full: 1,
      smoke: 0.2,
    },
  },
  async run(context) {
    // The whole hub, each service a process of its own, on a database and topics of its own.
    const [stack, load, tokens] = await Promise.all([
      context.startStack(['ingest', 'correlator', 'gateway']),
      context.load(),
      pairTokens(context),
    ]);
    const seconds = context.setting('seconds');
    const graceSeconds = context.setting('graceSeconds');
    const rates = RATES.map((rate) => Math.round(rate * context.setting('rateShare')));
    // A measurement starts on an idle pipeline: what an earlier one left queued is not its latency.
    let leftBehind = 0;
    const settle = async () => {
      const { backlog } = await waitForCorrelator(stack, context.setting('idleSeconds'));
      if (backlog > 0) context.log(`the correlator still had ${backlog} reports to go; measuring anyway`);
      leftBehind = Math.max(leftBehind, backlog);
    };
    let calls = 0;
    const hub = async (rate: number, length: number) => {
      await settle();
      return load.run('pairs-open', {
        ingest: stack.service('ingest').url,
        gateway: stack.service('gateway').url,
        tokens,
        rate,
        seconds: length,
        graceSeconds,
        tag: `e2e-${++calls}`,
      });
    };
    const floor = async (rate: number, length: number) => {
      await settle();
      const call = ++calls;
      return load.run('kafka-open', {
        brokers: context.brokers,
        topic: `${stack.prefix}bench.kafka-floor`,
        rate,
        seconds: length,
        graceSeconds,
        tag: `floor-${call}`,
      });
    };

    const perRate: {
      rate: number;
      hub: Percentiles;
      floor: Percentiles;
      post: Percentiles;
      medianP99Ratio: number;
      alertsMissing: number;
      refused: number;
      generatorLateP99: number | null;
      rounds: {
        hub: Omit<PairsOpenResult, 'alertSamples' | 'postSamples'>;
        floor: Omit<KafkaOpenResult, 'consumeSamples'>;
      }[];
    }[] = [];
    const warmUpSeconds = context.setting('warmUpSeconds');
    for (const rate of rates) {
      context.log(`${rate} reports/s`);
      const measured = await interleave({
        rounds: context.setting('rounds'),
        // Once, at the lowest rate: the processes and their connections are warm for the rates after it.
        warmUp: async () => {
          if (rate !== rates[0]) return;
          await floor(rate, warmUpSeconds);
          await hub(rate, warmUpSeconds);
        },
        floor: () => floor(rate, seconds),
        hub: () => hub(rate, seconds),
        // Latency: how many times the floor's p99 the hub's is (a lost alert makes it infinite).
        ratio: (h, f) =>
          (h.alertMs.p99 ?? Number.POSITIVE_INFINITY) / (f.consumeMs.p99 ?? Number.POSITIVE_INFINITY),
        log: context.log,
      });
      const hubSamples = measured.rounds.flatMap((r) => r.hub.alertSamples);
      const floorSamples = measured.rounds.flatMap((r) => r.floor.consumeSamples);
      perRate.push({
        rate,
        hub: percentiles(hubSamples),
        floor: percentiles(floorSamples),
        post: percentiles(measured.rounds.flatMap((r) => r.hub.postSamples)),
        medianP99Ratio: measured.medianRatio,
        alertsMissing: measured.rounds.reduce((sum, r) => sum + r.hub.alertsMissing, 0),
        refused: measured.rounds.reduce(
          (sum, r) =>
            sum +
            r.hub.errors +
            Object.entries(r.hub.statuses).reduce((n, [s, c]) => n + (s === '202' ? 0 : c), 0),
          0,
        ),
        generatorLateP99: Math.max(...measured.rounds.map((r) => r.hub.lateMs.p99 ?? 0)),
        // The raw samples stay out of the results file: the percentiles above are made from them.
        rounds: measured.rounds.map(
          ({ hub: { alertSamples: _a, postSamples: _p, ...h }, floor: { consumeSamples: _c, ...f } }) => ({
            hub: h,
            floor: f,
          }),
        ),
      });
    }

    const atGoal = perRate[RATES.indexOf(GOAL_RATE)]!;
    return {
      figures: {
        rates: perRate.map((r) => ({ ...r, medianP99Ratio: round(r.medianP99Ratio, 2) })),
        correlatorBacklogLeftBehind: leftBehind,
      },
      tables: [
        {
          columns: [
            'reports/s',
            'POST → alert p50 / p95 / p99 ms',
            'alerts missing',
            'raw Kafka produce → consume p50 / p95 / p99 ms',
            'p99 hub ÷ floor (median of rounds)',
            'POST → answer p99 ms',
            'non-202',
          ],
          rows: perRate.map((r) => [
            r.rate,
            triple(r.hub),
            r.alertsMissing,
            triple(r.floor),
            Number.isFinite(r.medianP99Ratio) ? r.medianP99Ratio.toFixed(1) : '∞',
            p(r.post.p99),
            r.refused,
          ]),
        },
      ],
      goals: [
        {
          goal: `end-to-end p99 ≤ ${GOAL_P99_MS} ms at ${atGoal.rate} reports/s`,
          figure: `${p(atGoal.hub.p99)} ms (p50 ${p(atGoal.hub.p50)}, p95 ${p(atGoal.hub.p95)}; raw Kafka p99 ${p(atGoal.floor.p99)} ms)`,
          met: atGoal.hub.p99 !== null && atGoal.hub.p99 <= GOAL_P99_MS && atGoal.alertsMissing === 0,
        },
      ],
      notes: [
        `Reports come in pairs from two organisations naming the same fresh indicator; the latency is the second report's, from its scheduled POST to the alert on an analyst's stream. ${seconds} s per measurement, ${context.setting('rounds')} rounds per rate, percentiles over all rounds' alerts (${perRate.map((r) => `${r.hub.count} at ${r.rate}/s`).join(', ')}).`,
        'The floor sends one message per report at its scheduled time with ingest’s producer settings, to a topic with six partitions, and times its arrival at a consumer in the same process.',
        ...perRate.flatMap((r) =>
          r.rounds.flatMap(({ hub: h }) =>
            h.streamClosed
              ? [`At ${r.rate}/s the gateway closed the analyst's stream (${h.streamClosed}).`]
              : [],
          ),
        ),
        ...(leftBehind > 0
          ? [
              `The correlator had not caught up after ${context.setting('idleSeconds')} s before some measurements (up to ${leftBehind} reports queued): those started on a busy pipeline.`,
            ]
          : []),
        `The load process fired up to ${Math.max(...perRate.map((r) => r.generatorLateP99 ?? 0)).toFixed(1)} ms behind its schedule (p99 of the worst round); that delay is inside the latencies above, never hidden.`,
      ],
    };
  },
};
