import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createPool, withTransaction, type Pool } from '@renkei/db';
import { appendToFeed } from '@renkei/feed';
import { viewFeedEvent } from '@renkei/policy';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { FEED_EVENT_SCHEMA, type AlertRecord, type FeedEvent, type Role, type Sector } from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { interleave } from './lib/interleave.js';
import type { Scenario } from './lib/scenario.js';
import { percent, round } from './lib/stats.js';

/** Who subscribes: half analysts, the rest spread over four other organisations (five audiences). */
const AUDIENCES: { org: string; sector: Sector; roles: Role[] }[] = [
  { org: 'gsoc', sector: 'central-government', roles: ['analyst'] },
  { org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] },
  { org: 'water-ceptar', sector: 'water', roles: ['ceptar'] },
  { org: 'rail-ceptar', sector: 'railway', roles: ['ceptar'] },
  { org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] },
];
const audienceOf = (n: number) => (n % 2 === 0 ? AUDIENCES[0]! : AUDIENCES[1 + (n % 4)]!);

// CLOCK_MONOTONIC: one clock for every process on the machine, so times taken in two processes compare.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a message to a child and waits for its answer. */
function ask<Answer>(child: ChildProcess, message: object): Promise<Answer> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as Answer));
    child.send(message);
  });
}

interface Collected {
  delivered: number;
  lastDeliveryAt: number;
  arrivals: { key: string; at: number }[];
}

interface Delivery {
  deliveriesPerSecond: number;
  delivered: number;
  expected: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!, 1);
}

function delivery(
  collected: Collected,
  startedAt: number,
  expected: number,
  sentAt: (key: string) => number | undefined,
): Delivery {
  const latenciesMs = collected.arrivals.flatMap(({ key, at }) => {
    const sent = sentAt(key);
    return sent === undefined ? [] : [at - sent];
  });
  return {
    deliveriesPerSecond: round(collected.delivered / ((collected.lastDeliveryAt - startedAt) / 1000), 1),
    delivered: collected.delivered,
    expected,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
  };
}

function alertFor(sequence: number): AlertRecord {
  return alertRecordFixture({
    title: `Benchmark alert ${sequence}: domain c2-${sequence}.bench.example reported by 2 organisations`,
    contributions: [
      contributionFixture({ organisationId: 'finance-ceptar', sector: 'finance' }),
      contributionFixture({ organisationId: 'mlit-csirt', sector: 'central-government' }),
    ],
  });
}

async function append(writers: Pool, record: AlertRecord): Promise<void> {
  await withTransaction(writers, (db) =>
    appendToFeed(db, [{ kind: 'alert', payload: record, alert: { id: record.id, version: 1 } }]),
  );
}

/**
 * The stream's fan-out against its own floor: alerts appended to the feed
 * at a fixed rate reach N subscribers of one gateway (feed relay → Kafka →
 * follower → hub → WebSockets), and a bare `ws` server
 * (bench/fanout-bare-server.ts) broadcasts a pre-serialised payload of the
 * same size at the same rate to the same N clients. The subscribers live in
 * a process of their own (bench/fanout-clients.ts). Deliveries/s counts
 * every frame every subscriber received, from the first send to the last
 * delivery. Latency is measured on one subscriber in ten: for the gateway
 * from the commit of the writer's transaction to the frame's arrival, the
 * whole way through the feed; for the bare server from the send.
 */
export const fanout: Scenario = {
  name: 'fanout',
  title: 'Fan-out: gateway ÷ bare ws broadcast',
  settings: {
    rounds: { description: 'floor/gateway pairs at each subscriber count', full: 3, smoke: 1 },
    rate: { description: 'alerts per second', full: 50, smoke: 10 },
    seconds: { description: 'length of each measurement', full: 10, smoke: 1 },
    fewSubscribers: { description: 'WebSocket clients, first count', full: 100, smoke: 5 },
    manySubscribers: { description: 'WebSocket clients, second count', full: 1000, smoke: 10 },
  },
  async run(context) {
    const stack = await context.startStack(['gateway']);
    const gatewayUrl = stack.service('gateway').url;
    // The writers' own pool, large enough that appending at the rate asked for never queues.
    const writers = createPool(stack.databaseUrl, { max: 16 });
    context.defer(() => writers.end());
    const child = (file: string) => {
      const forked = fork(path.join(REPOSITORY_ROOT, 'bench', file), [], {
        execArgv: ['--import', 'tsx'],
        stdio: 'inherit',
      });
      context.defer(() => forked.kill());
      return forked;
    };
    const bare = child('fanout-bare-server.ts');
    const clients = child('fanout-clients.ts');
    const barePort = await new Promise<number>((resolve) =>
      bare.once('message', (message: { port: number }) => resolve(message.port)),
    );
    const tokens = await Promise.all(AUDIENCES.map((who) => context.token(who)));
    const tokenOf = (n: number) => tokens[AUDIENCES.indexOf(audienceOf(n))]!;
    const streamUrl = gatewayUrl.replace(/^http/, 'ws') + '/v1/stream';

    // The bare server sends frames the size of the gateway's, averaged over who receives them.
    const event: FeedEvent = {
      schema: FEED_EVENT_SCHEMA,
      position: '1000000',
      sequencedAt: new Date().toISOString(),
      kind: 'alert',
      payload: alertFor(1_000_000),
    };
    const sizes = Array.from({ length: 100 }, (_, n) => {
      const who = audienceOf(n);
      const frame = viewFeedEvent(
        { subject: 'bench', organisationId: who.org, sector: who.sector, roles: who.roles },
        event,
      );
      return Buffer.byteLength(JSON.stringify(frame));
    });
    const frameBytes = Math.round(sizes.reduce((sum, size) => sum + size, 0) / sizes.length);

    const rate = context.setting('rate');
    const seconds = context.setting('seconds');
    const alertsPerRun = rate * seconds;
    let sequence = 0;

    const floor = async (count: number): Promise<Delivery> => {
      const expected = alertsPerRun * count;
      await ask(clients, {
        cmd: 'connect',
        url: `ws://127.0.0.1:${barePort}`,
        headers: Array(count).fill({}),
      });
      const started = now();
      bare.send({ cmd: 'broadcast', count: alertsPerRun, rate, bytes: frameBytes });
      const collected = await ask<Collected>(clients, { cmd: 'collect', expected });
      await sleep(500);
      return delivery(collected, started, expected, (key) => Number(key));
    };
    const hub = async (count: number): Promise<Delivery> => {
      const expected = alertsPerRun * count;
      const sentAt = new Map<string, number>();
      await ask(clients, {
        cmd: 'connect',
        url: streamUrl,
        headers: Array.from({ length: count }, (_, n) => ({ authorization: `Bearer ${tokenOf(n)}` })),
      });
      await sleep(500);
      const started = now();
      const collecting = ask<Collected>(clients, { cmd: 'collect', expected });
      const appends: Promise<void>[] = [];
      for (let n = 0; n < alertsPerRun; n += 1) {
        const wait = started + (n * 1000) / rate - now();
        if (wait > 0) await sleep(wait);
        const record = alertFor((sequence += 1));
        // Concurrent writers, as several correlators are: the feed orders them. The
        // alert exists once its transaction commits: latency counts from there.
        appends.push(append(writers, record).then(() => void sentAt.set(record.id, now())));
      }
      await Promise.all(appends);
      const result = delivery(await collecting, started, expected, (key) => sentAt.get(key));
      await sleep(500);
      return result;
    };

    const counts = [context.setting('fewSubscribers'), context.setting('manySubscribers')];
    const perCount = [];
    for (const count of counts) {
      context.log(`${count} subscribers`);
      const measured = await interleave({
        rounds: context.setting('rounds'),
        // Warms the gateway's path (JIT, pools, Kafka fetch) and the bare server's.
        warmUp: async () => {
          if (count !== counts[0]) return;
          for (let n = 0; n < 20; n += 1) await append(writers, alertFor(-1 - n));
          await sleep(2_000);
        },
        floor: () => floor(count),
        hub: () => hub(count),
        ratio: (h, f) => h.deliveriesPerSecond / f.deliveriesPerSecond,
        log: context.log,
      });
      perCount.push({ subscribers: count, ...measured });
    }
    const worst = Math.min(...perCount.map((c) => c.medianRatio));
    return {
      figures: { rate, seconds, frameBytes, audiences: AUDIENCES.length, perCount },
      tables: [
        {
          columns: [
            'subscribers',
            'round',
            'bare deliveries/s',
            'gateway deliveries/s',
            'gateway ÷ bare',
            'bare p50 / p99 ms',
            'gateway p50 / p99 ms',
            'gateway delivered',
          ],
          rows: perCount.flatMap(({ subscribers, rounds }) =>
            rounds.map(({ round: r, floor: f, hub: h, ratio }) => [
              subscribers,
              r,
              f.deliveriesPerSecond,
              h.deliveriesPerSecond,
              ratio.toFixed(3),
              `${f.p50Ms ?? '–'} / ${f.p99Ms ?? '–'}`,
              `${h.p50Ms ?? '–'} / ${h.p99Ms ?? '–'}`,
              `${h.delivered}/${h.expected}`,
            ]),
          ),
        },
      ],
      goals: [
        {
          goal: 'gateway ≥ 70 % of a bare ws broadcast (deliveries/s), at every subscriber count',
          figure: perCount.map((c) => `${c.subscribers}: ${percent(c.medianRatio)}`).join('; '),
          met: worst >= 0.7,
        },
      ],
      notes: [
        `${rate} alerts/s for ${seconds} s to N subscribers of one gateway (${AUDIENCES.length} audiences, half of them analysts), frames of about ${(frameBytes / 1024).toFixed(1)} KiB; the bare server sends the same bytes, serialised once, at the same rate.`,
        'Gateway latency runs from the commit of the alert’s transaction, through the feed relay, Kafka and the follower, to the frame’s arrival; the bare server’s from its send. Measured on one subscriber in ten.',
      ],
    };
  },
};
