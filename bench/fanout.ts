/**
 * The stream's fan-out against its own floor: alerts appended to the feed
 * at a fixed rate reach N subscribers of one gateway (feed relay → Kafka →
 * follower → hub → WebSockets), then a bare `ws` server broadcasts a
 * pre-serialised payload of the same size at the same rate to the same N
 * clients. Both in one run, so the ratio means something on a noisy machine.
 *
 *   npx tsx bench/fanout.ts                  # 100 and 1000 subscribers, 50 alerts/s for 10 s
 *   npx tsx bench/fanout.ts 100 10 100,1000  # alerts/s, seconds, subscriber counts
 *
 * Four processes: this one writes, a child holds the subscribers
 * (bench/fanout-clients.ts), the gateway, and the bare server
 * (bench/fanout-bare-server.ts). Deliveries/s counts every frame every
 * subscriber received, from the first send to the last delivery. Latency is
 * measured on one subscriber in ten: for the gateway from the commit of the
 * writer's transaction to the frame's arrival, the whole way through the
 * feed; for the bare server from the send.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { createPool, withTransaction } from '@renkei/db';
import { appendToFeed } from '@renkei/feed';
import { viewFeedEvent } from '@renkei/policy';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { FEED_EVENT_SCHEMA, type AlertRecord, type FeedEvent, type Role, type Sector } from '@renkei/schema';
import {
  alertRecordFixture,
  contributionFixture,
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  spawnService,
  waitUntilReady,
} from '@renkei/testing';

const rate = Number(process.argv[2] ?? 50);
const seconds = Number(process.argv[3] ?? 10);
const subscriberCounts = (process.argv[4] ?? '100,1000').split(',').map(Number);
const alertsPerRun = rate * seconds;

/** Who subscribes: half analysts, the rest spread over four sector bodies (five audiences). */
const AUDIENCES: { org: string; sector: Sector; roles: Role[] }[] = [
  { org: 'gsoc', sector: 'central-government', roles: ['analyst'] },
  { org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] },
  { org: 'telecom-ceptar', sector: 'telecom', roles: ['ceptar'] },
  { org: 'water-ceptar', sector: 'water', roles: ['ceptar'] },
  { org: 'rail-ceptar', sector: 'railway', roles: ['ceptar'] },
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

interface Result {
  deliveriesPerSecond: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function result(
  collected: Collected,
  startedAt: number,
  expected: number,
  sentAt: (key: string) => number | undefined,
): Result {
  const latenciesMs = collected.arrivals.flatMap(({ key, at }) => {
    const sent = sentAt(key);
    return sent === undefined ? [] : [at - sent];
  });
  return {
    deliveriesPerSecond: collected.delivered / ((collected.lastDeliveryAt - startedAt) / 1000),
    delivered: collected.delivered,
    expected,
    p50: percentile(latenciesMs, 50),
    p99: percentile(latenciesMs, 99),
  };
}

const describe = (name: string, r: Result) =>
  `${name.padEnd(26)} ${r.deliveriesPerSecond.toFixed(0).padStart(9)}   ${r.p50.toFixed(1).padStart(7)}  ${r.p99
    .toFixed(1)
    .padStart(7)}   ${r.delivered}/${r.expected}`;

function alertFor(sequence: number): AlertRecord {
  return alertRecordFixture({
    title: `Benchmark alert ${sequence}: domain c2-${sequence}.bench.example reported by 2 organisations`,
    contributions: [
      contributionFixture({ organisationId: 'finance-ceptar', sector: 'finance' }),
      contributionFixture({ organisationId: 'a-csirt', sector: 'central-government' }),
    ],
  });
}

const child = (file: string) =>
  fork(path.join(REPOSITORY_ROOT, 'bench', file), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });

execFileSync(path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh'), ['start'], { stdio: 'inherit' });
const [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
const prefix = randomTopicPrefix();
const gateway = await spawnService(
  'gateway',
  { DATABASE_URL: database.url, KAFKA_TOPIC_PREFIX: prefix, AUTH_JWKS_FILE: keys.jwksFile },
  {
    nodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
  },
);
// The writers' own pool, large enough that appending at the rate asked for never queues.
const writers = createPool(database.url, { max: 16 });
const bare = child('fanout-bare-server.ts');
const clients = child('fanout-clients.ts');
try {
  await waitUntilReady(gateway.url!);
  const barePort = await new Promise<number>((resolve) =>
    bare.once('message', (message: { port: number }) => resolve(message.port)),
  );
  const tokens = await Promise.all(AUDIENCES.map((who) => keys.token({ ...who, sub: `bench-${who.org}` })));
  const tokenOf = (n: number) => tokens[AUDIENCES.indexOf(audienceOf(n))]!;
  const streamUrl = gateway.url!.replace(/^http/, 'ws') + '/v1/stream';

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

  // Warm the gateway's path (JIT, pools, Kafka fetch) before measuring.
  for (let n = 0; n < 20; n += 1) {
    const record = alertFor(-n);
    await withTransaction(writers, (db) =>
      appendToFeed(db, [{ kind: 'alert', payload: record, alert: { id: record.id, version: 1 } }]),
    );
  }
  await sleep(2_000);

  // A shared machine's load moves every figure: it is printed with them.
  const load = () => loadavg()[0]!.toFixed(1);
  console.log(`\n${cpus().length} cores, load average ${load()} at the start`);
  console.log(
    `fan-out: ${rate} alerts/s for ${seconds} s to N subscribers of one gateway ` +
      `(${AUDIENCES.length} audiences), frames of ~${(frameBytes / 1024).toFixed(1)} KiB; ` +
      `latency on 1 subscriber in 10\n`,
  );
  for (const count of subscriberCounts) {
    const expected = alertsPerRun * count;

    // The floor: a bare broadcast of the same bytes at the same rate to the same number of clients.
    await ask(clients, { cmd: 'connect', url: `ws://127.0.0.1:${barePort}`, headers: Array(count).fill({}) });
    const bareStarted = now();
    bare.send({ cmd: 'broadcast', count: alertsPerRun, rate, bytes: frameBytes });
    const floor = result(
      await ask<Collected>(clients, { cmd: 'collect', expected }),
      bareStarted,
      expected,
      (key) => Number(key),
    );
    await sleep(1_000);

    const sentAt = new Map<string, number>();
    await ask(clients, {
      cmd: 'connect',
      url: streamUrl,
      headers: Array.from({ length: count }, (_, n) => ({ authorization: `Bearer ${tokenOf(n)}` })),
    });
    await sleep(500);
    const hubStarted = now();
    const collecting = ask<Collected>(clients, { cmd: 'collect', expected });
    const appends: Promise<void>[] = [];
    for (let sequence = 0; sequence < alertsPerRun; sequence += 1) {
      const due = hubStarted + (sequence * 1000) / rate;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      const record = alertFor(sequence);
      // Concurrent writers, as several correlators are: the feed orders them. The
      // alert exists once its transaction commits: latency counts from there.
      appends.push(
        withTransaction(writers, (db) =>
          appendToFeed(db, [{ kind: 'alert', payload: record, alert: { id: record.id, version: 1 } }]),
        ).then(() => void sentAt.set(record.id, now())),
      );
    }
    await Promise.all(appends);
    const hub = result(await collecting, hubStarted, expected, (key) => sentAt.get(key));

    console.log(`${count} subscribers: ${expected} deliveries offered at ${rate * count}/s`);
    console.log(
      `${''.padEnd(26)} ${'deliv/s'.padStart(9)}   ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}   delivered`,
    );
    console.log(describe('bare ws broadcast', floor));
    console.log(describe('gateway (feed → stream)', hub));
    console.log(
      `gateway reaches ${((hub.deliveriesPerSecond / floor.deliveriesPerSecond) * 100).toFixed(0)}% ` +
        `of the bare broadcast's deliveries/s (goal ≥ 70%); load average ${load()}\n`,
    );
    await sleep(1_000);
  }
} finally {
  bare.kill();
  clients.kill();
  await gateway.stop();
  await writers.end();
  await database.drop();
  await keys.remove();
  await deleteTopicsWithPrefix(prefix);
}
