import { createPool } from '@renkei/db';
import { freePort, sharedKafkaEnv } from '@renkei/testing';
// Relative: the root package does not depend on the gateway's internals.
import { TAXII_API_ROOT } from '../services/gateway/src/routes/taxii.js';
import { collectionId } from '../services/gateway/src/taxii/collections.js';
import type { LoadGenerator } from './lib/load.js';
import type { PullResult } from './lib/load-ops.js';
import { storedReports, waitForCorrelator } from './lib/pipeline.js';
import type { Percentiles } from './lib/stats.js';
import { round } from './lib/stats.js';
import type { BenchContext, Goal, Scenario } from './lib/scenario.js';

const TAXII_ACCEPT = 'application/taxii+json;version=2.1';
/** The largest export a member can ask for: every kind up to the route's maximum. */
const LARGEST_EXPORT = '/v1/stix/bundle?limit=10000';
const TAXII_PAGE = `${TAXII_API_ROOT}collections/${collectionId({ kind: 'community' })}/objects/?limit=1000`;

/** Four members of four organisations, none an analyst: what one CEPTAR did to the hub, times four. */
const PULLERS = [
  { org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] },
  { org: 'water-ceptar', sector: 'water', roles: ['ceptar'] },
  { org: 'rail-ceptar', sector: 'railway', roles: ['ceptar'] },
  { org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] },
] as const;

/** The gateway's variables that take the read budget away (what the export's own slicing gives alone). */
const NO_READ_BUDGET = {
  RATE_LIMIT_READS_PER_SECOND: '1000000000',
  RATE_LIMIT_READS_BURST: '1000000000',
  RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT: '1000',
};

interface Phase {
  idle: Percentiles;
  loaded: Percentiles;
  /** Loaded p99 over idle p99. */
  ratio: number | null;
  pull: PullResult;
  probeErrors: number;
  /** The gateway's longest event-loop delay in each phase (its `/metrics`), null when it could not be read. */
  loopMaxMs: { idle: number | null; loaded: number | null };
}

/**
 * Whether one member's reads can stall the gateway for everyone (issue 16,
 * defect 6): `/healthz` p50/p99, probed on a schedule, on an idle gateway and
 * while four members of four organisations each pull the largest STIX export
 * and a TAXII page in a loop, over a hub holding several thousand reports and
 * alerts. Measured on the gateway with its default read budget and, in a full
 * run, on a second gateway of the same hub without one.
 */
export const readBudget: Scenario = {
  name: 'read-budget',
  title: 'Reads on a budget: gateway /healthz while four members pull the largest export',
  settings: {
    reports: {
      description: 'reports filled in (every two share an indicator: one alert)',
      full: 6_000,
      smoke: 20,
    },
    seconds: { description: 'seconds each probe phase lasts', full: 20, smoke: 1 },
    probeRate: { description: '/healthz probes per second', full: 50, smoke: 20 },
    unbudgeted: { description: '1: also measure a gateway without a read budget', full: 1, smoke: 0 },
  },
  async run(context) {
    const stack = await context.startStack(['ingest', 'correlator', 'gateway']);
    const load = await context.load();
    const count = context.setting('reports');
    const tokens = await Promise.all([
      context.token({ org: 'bench-csirt', sector: 'finance', roles: ['reporter'] }),
      context.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] }),
    ]);
    context.log(`filling the hub with ${count} reports`);
    const filled = await load.run('fill', {
      ingest: stack.service('ingest').url,
      tokens,
      count,
      concurrency: 32,
      tag: `budget${Date.now()}`,
    });
    const caughtUp = await waitForCorrelator(stack, context.smoke ? 30 : 600);
    const stored = await storedReports(stack);
    const alerts = await storedAlerts(stack.databaseUrl);
    context.log(`stored ${stored} reports and ${alerts} alerts (${caughtUp.backlog} still on the topic)`);

    const readers = await Promise.all(
      PULLERS.map(async (who) => ({
        token: await context.token({ org: who.org, sector: who.sector, roles: [...who.roles] }),
        paths: [{ path: LARGEST_EXPORT }, { path: TAXII_PAGE, accept: TAXII_ACCEPT }],
      })),
    );
    const pullers = await context.startLoad('read-budget-pullers');
    const measure = (url: string, metricsUrl: string | undefined) =>
      phase(context, load, pullers, url, metricsUrl, readers);

    context.log('gateway with the default read budget');
    const budgeted = await measure(stack.service('gateway').url, stack.service('gateway').metricsUrl);
    let unbudgeted: Phase | undefined;
    if (context.setting('unbudgeted') > 0) {
      const metricsPort = await freePort();
      const gateway = await context.startProcess({
        label: 'gateway-unbudgeted',
        script: 'services/gateway/src/main.ts',
        portVariable: 'GATEWAY_PORT',
        metricsPort,
        env: {
          METRICS_PORT: String(metricsPort),
          DATABASE_URL: stack.databaseUrl,
          ...(await sharedKafkaEnv(stack.prefix)),
          AUTH_JWKS_FILE: context.jwksFile,
          ...NO_READ_BUDGET,
        },
      });
      context.log('gateway without a read budget');
      unbudgeted = await measure(gateway.url, gateway.metricsUrl);
    }

    const rows: [string, Phase][] = [['default read budget', budgeted]];
    if (unbudgeted) rows.push(['no read budget', unbudgeted]);
    const goals: Goal[] = rows.flatMap(([label, measured]) => [
      {
        goal: `${label}: loaded /healthz p99 under 100 ms`,
        figure: `${measured.loaded.p99 ?? '∞'} ms`,
        met: measured.loaded.p99 !== null && measured.loaded.p99 < 100,
      },
      {
        goal: `${label}: loaded ÷ idle /healthz p99 ≤ 3×`,
        figure: measured.ratio === null ? '∞' : `${measured.ratio}×`,
        met: measured.ratio !== null && measured.ratio <= 3,
      },
    ]);
    const largest = Math.max(
      0,
      ...Object.values(budgeted.pull.largestBytes),
      ...(unbudgeted ? Object.values(unbudgeted.pull.largestBytes) : []),
    );
    return {
      figures: {
        filled,
        storedReports: stored,
        storedAlerts: alerts,
        budgeted,
        ...(unbudgeted ? { unbudgeted } : {}),
      },
      tables: [
        {
          caption: '/healthz latency from its scheduled time (ms)',
          columns: [
            'gateway',
            'idle p50',
            'idle p99',
            'loaded p50',
            'loaded p99',
            'loaded max',
            'p99 ratio',
            'pulls served/s',
            'pulls refused (429)',
            'longest event-loop delay, idle / loaded',
          ],
          rows: rows.map(([label, measured]) => [
            label,
            measured.idle.p50,
            measured.idle.p99,
            measured.loaded.p50,
            measured.loaded.p99,
            measured.loaded.max,
            measured.ratio,
            measured.pull.servedPerSecond,
            refused(measured.pull),
            `${measured.loopMaxMs.idle ?? '?'} / ${measured.loopMaxMs.loaded ?? '?'}`,
          ]),
        },
      ],
      goals,
      notes: [
        `The hub held ${stored} reports and ${alerts} alerts; the largest answer pulled was ${round(largest / 1024 / 1024, 1)} MiB.`,
        `Each of four members (four organisations) pulled \`${LARGEST_EXPORT}\` and a TAXII page of 1,000 objects in turn, one request in flight each, waiting out any Retry-After; /healthz was probed ${context.setting('probeRate')} times a second on a schedule, each answer timed from its scheduled moment.`,
        'On a shared machine the figures move with whatever else runs; compare the ratio within one run.',
      ],
    };
  },
};

async function phase(
  context: BenchContext,
  probeLoad: LoadGenerator,
  pullLoad: LoadGenerator,
  url: string,
  /** Where the gateway's `/metrics` answers (its own listener). */
  metricsUrl: string | undefined,
  readers: { token: string; paths: { path: string; accept?: string }[] }[],
): Promise<Phase> {
  const seconds = context.setting('seconds');
  const rate = context.setting('probeRate');
  await loopMaxMs(metricsUrl); // resets the maximum
  const idle = await probeLoad.run('probe', { origin: url, path: '/healthz', rate, seconds });
  const idleLoopMax = await loopMaxMs(metricsUrl);
  // The pullers run in a process of their own, so their reading never delays the probe's clock.
  const pulling = pullLoad.run('pull', { origin: url, readers, seconds: seconds + 2 });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const loaded = await probeLoad.run('probe', { origin: url, path: '/healthz', rate, seconds });
  const loadedLoopMax = await loopMaxMs(metricsUrl);
  const pull = await pulling;
  const ratio =
    idle.latencyMs.p99 !== null && loaded.latencyMs.p99 !== null && idle.latencyMs.p99 > 0
      ? round(loaded.latencyMs.p99 / idle.latencyMs.p99, 1)
      : null;
  context.log(
    `idle p50/p99 ${idle.latencyMs.p50}/${idle.latencyMs.p99} ms, loaded ${loaded.latencyMs.p50}/${loaded.latencyMs.p99} ms (${ratio}×), ${pull.servedPerSecond} pulls/s, ${refused(pull)} refused, longest event-loop delay ${idleLoopMax} ms idle, ${loadedLoopMax} ms loaded`,
  );
  return {
    idle: idle.latencyMs,
    loaded: loaded.latencyMs,
    ratio,
    pull,
    probeErrors: idle.errors + loaded.errors,
    loopMaxMs: { idle: idleLoopMax, loaded: loadedLoopMax },
  };
}

/**
 * The gateway's longest event-loop delay since the last scrape (prom-client
 * resets it on every collection); null when `/metrics` does not answer here.
 */
async function loopMaxMs(url: string | undefined): Promise<number | null> {
  if (!url) return null;
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) return null;
    const line = /^renkei_process_nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(
      await response.text(),
    );
    return line ? round(Number(line[1]) * 1000, 1) : null;
  } catch {
    return null;
  }
}

async function storedAlerts(databaseUrl: string): Promise<number> {
  const pool = createPool(databaseUrl, { max: 1 });
  try {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts');
    return rows[0]!.n;
  } finally {
    await pool.end();
  }
}

function refused(pull: PullResult): number {
  return Object.values(pull.statuses).reduce((sum, byStatus) => sum + (byStatus['429'] ?? 0), 0);
}
