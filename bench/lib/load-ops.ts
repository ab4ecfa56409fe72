/**
 * The work a load process does on the parent's behalf. Every operation runs in
 * the load process (bench/lib/load-worker.ts), never in a server's, and keeps
 * its own clock: latencies are measured where the load is made.
 *
 * A new scenario that needs a new kind of load adds an operation to
 * {@link loadOps}; its arguments and result must survive structured cloning.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Producer } from 'kafkajs';
import { Pool as HttpPool } from 'undici';
import WebSocket from 'ws';
import { createReliableProducer, PartitionLanes, reportsTopicMessage, type Kafka } from '@renkei/bus';
import { createPool, type Pool } from '@renkei/db';
import { createLogger } from '@renkei/runtime';
import { testKafka } from '@renkei/testing';
import type { ReportEnvelope } from '@renkei/schema';
// Ingest's own batcher, driven without HTTP: the Kafka path is measured apart from the HTTP one.
import { SubmissionBatcher } from '../../services/ingest/src/submission-batcher.js';
import { benchEnvelope, benchReport } from './reports.js';
import { percentiles, round, type Percentiles } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Released when the parent disconnects. */
const releases: (() => Promise<void>)[] = [];
export async function releaseAll(): Promise<void> {
  for (const release of releases.splice(0).reverse()) await release().catch(() => undefined);
}

export interface ThroughputResult {
  /** Completed units (requests answered, messages acknowledged). */
  count: number;
  seconds: number;
  perSecond: number;
}

export interface HttpClosedArgs {
  origin: string;
  path: string;
  token: string;
  /** Requests kept in flight: each answer sends the next (closed loop). */
  concurrency: number;
  seconds: number;
  /** Makes the reports of one call distinct from every other call's. */
  tag: string;
}

export interface HttpClosedResult extends ThroughputResult {
  statuses: Record<string, number>;
  errors: number;
  latencyMs: Percentiles;
}

const httpPools = new Map<string, HttpPool>();
function httpPool(origin: string, connections: number): HttpPool {
  const key = `${origin} ${connections}`;
  let pool = httpPools.get(key);
  if (!pool) {
    const created = new HttpPool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
    releases.push(() => created.close());
    httpPools.set(key, created);
    pool = created;
  }
  return pool;
}

/** POSTs reports as fast as answers come back, `concurrency` at a time, for `seconds`. */
async function httpClosed(args: HttpClosedArgs): Promise<HttpClosedResult> {
  const pool = httpPool(args.origin, args.concurrency);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${args.token}` };
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const ends = started + args.seconds * 1000;
  await Promise.all(
    Array.from({ length: args.concurrency }, async () => {
      while (performance.now() < ends) {
        const body = JSON.stringify(benchReport(args.tag, next++));
        const sent = performance.now();
        try {
          const response = await pool.request({
            origin: args.origin,
            path: args.path,
            method: 'POST',
            headers,
            body,
          });
          await response.body.dump();
          statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
          latencies.push(performance.now() - sent);
        } catch {
          errors += 1;
          await sleep(10);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const answered = statuses['202'] ?? 0;
  return {
    count: answered,
    seconds: round(seconds, 3),
    perSecond: round(answered / seconds, 1),
    statuses,
    errors,
    latencyMs: percentiles(latencies),
  };
}

/**
 * Calls `fire(i)` for i = 0..count-1 at `rate` per second, each at its place
 * in the schedule whatever happened to the previous ones (open loop), and
 * returns when the last one has been fired. Latencies are measured from the
 * schedule, so a slow answer cannot hide the requests it held back.
 */
async function openLoop(
  count: number,
  rate: number,
  fire: (index: number, scheduledAt: number) => void,
): Promise<{ lateMs: Percentiles }> {
  const interval = 1000 / rate;
  const start = performance.now() + 20;
  const late: number[] = [];
  let next = 0;
  while (next < count) {
    const now = performance.now();
    while (next < count && start + next * interval <= now) {
      const scheduledAt = start + next * interval;
      late.push(now - scheduledAt);
      fire(next, scheduledAt);
      next += 1;
    }
    if (next < count) await sleep(Math.max(0, start + next * interval - performance.now()));
  }
  return { lateMs: percentiles(late) };
}

async function until(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && performance.now() < deadline) await sleep(20);
}

export interface PairsOpenArgs {
  ingest: string;
  gateway: string;
  /** Two organisations that report the same indicators, and an analyst who watches the stream. */
  tokens: { first: string; second: string; analyst: string };
  /** Reports per second (pairs per second is half). */
  rate: number;
  seconds: number;
  /** How long after the last POST to wait for alerts still on their way. */
  graceSeconds: number;
  tag: string;
}

export interface PairsOpenResult {
  reports: number;
  pairs: number;
  statuses: Record<string, number>;
  errors: number;
  /** From each POST's scheduled time to its answer. */
  postMs: Percentiles;
  postSamples: number[];
  /** From the second report's scheduled time to the alert on the analyst's stream; a lost alert counts as infinite. */
  alertMs: Percentiles;
  /** Every pair's alert latency, for pooling rounds; Infinity where the alert never came. */
  alertSamples: number[];
  alertsMissing: number;
  /** Set when the gateway closed the analyst's stream before the end (code and reason): its alerts are missing. */
  streamClosed?: string;
  /** How far behind the schedule the generator itself fired: large values mean the load process was starved. */
  lateMs: Percentiles;
  /**
   * The load process's longest event-loop delay over the round (ms): an answer
   * or a frame that arrived while it was stalled is timed late by that much.
   */
  loopMaxMs: number;
}

/**
 * Reports in pairs at a fixed rate: two organisations report the same fresh
 * indicator, so each pair raises one alert, and the latency of the second
 * report of each pair, from its scheduled POST to the alert arriving on an
 * analyst's WebSocket stream, is the figure.
 */
async function pairsOpen(args: PairsOpenArgs): Promise<PairsOpenResult> {
  const pairs = Math.max(1, Math.round((args.rate * args.seconds) / 2));
  const reports = pairs * 2;
  const indicatorOf = (pair: number) => `e2e-${pair}.${args.tag}.bench.example`;
  const pairByIndicator = new Map<string, number>();
  for (let pair = 0; pair < pairs; pair += 1) pairByIndicator.set(indicatorOf(pair), pair);
  const secondScheduledAt = new Float64Array(pairs);
  const alertAt = new Float64Array(pairs).fill(Number.NaN);
  let alertsSeen = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const stream = await openAnalystStream(args.gateway, args.tokens.analyst, (frame) => {
    if (frame.type !== 'alert') return;
    const now = performance.now();
    for (const indicator of frame.alert?.indicators ?? []) {
      const pair = pairByIndicator.get(indicator.value);
      if (pair !== undefined && Number.isNaN(alertAt[pair]!)) {
        alertAt[pair] = now;
        alertsSeen += 1;
      }
    }
  });
  try {
    const pool = httpPool(args.ingest, 256);
    const statuses: Record<string, number> = {};
    const postLatencies: number[] = [];
    let errors = 0;
    let settled = 0;
    const { lateMs } = await openLoop(reports, args.rate, (index, scheduledAt) => {
      const pair = index >> 1;
      const second = index % 2 === 1;
      if (second) secondScheduledAt[pair] = scheduledAt;
      const body = JSON.stringify(benchReport(args.tag, index, indicatorOf(pair)));
      const token = second ? args.tokens.second : args.tokens.first;
      pool
        .request({
          origin: args.ingest,
          path: '/v1/reports',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
        })
        .then(async (response) => {
          await response.body.dump();
          statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
          postLatencies.push(performance.now() - scheduledAt);
        })
        .catch(() => (errors += 1))
        .finally(() => (settled += 1));
    });
    const deadline = performance.now() + args.graceSeconds * 1000;
    await until(
      () => settled === reports && (alertsSeen === pairs || stream.closedEarly() !== undefined),
      deadline,
    );
    const alertLatencies = Array.from(alertAt, (at, pair) =>
      Number.isNaN(at) ? Number.POSITIVE_INFINITY : at - secondScheduledAt[pair]!,
    );
    return {
      reports,
      pairs,
      statuses,
      errors: errors + (reports - settled),
      postMs: percentiles(postLatencies),
      postSamples: postLatencies,
      alertMs: percentiles(alertLatencies),
      alertSamples: alertLatencies,
      alertsMissing: pairs - alertsSeen,
      ...(stream.closedEarly() ? { streamClosed: stream.closedEarly() } : {}),
      lateMs,
      loopMaxMs: round(loopDelay.max / 1e6, 1),
    };
  } finally {
    loopDelay.disable();
    await stream.close();
  }
}

export interface FillArgs {
  ingest: string;
  /** Reports alternate between these organisations; each consecutive two share an indicator (one alert). */
  tokens: string[];
  count: number;
  concurrency: number;
  tag: string;
}

/** POSTs `count` reports, `concurrency` at a time: every pair shares an indicator, so the hub holds alerts too. */
async function fill(
  args: FillArgs,
): Promise<{ statuses: Record<string, number>; errors: number; seconds: number }> {
  const pool = httpPool(args.ingest, args.concurrency);
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: args.concurrency }, async () => {
      while (next < args.count) {
        const index = next++;
        const body = JSON.stringify(
          benchReport(args.tag, index, `pair-${index >> 1}.${args.tag}.bench.example`),
        );
        try {
          const response = await pool.request({
            origin: args.ingest,
            path: '/v1/reports',
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${args.tokens[index % args.tokens.length]!}`,
            },
            body,
          });
          await response.body.dump();
          statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { statuses, errors, seconds: round((performance.now() - started) / 1000, 1) };
}

export interface ProbeArgs {
  origin: string;
  path: string;
  /** Requests per second, on a schedule whatever the answers do (open loop). */
  rate: number;
  seconds: number;
}

/**
 * GETs `path` at a fixed rate and measures each answer from its scheduled
 * time: a server that stalls cannot hide the probes it held up.
 */
async function probe(args: ProbeArgs): Promise<{
  latencyMs: Percentiles;
  statuses: Record<string, number>;
  errors: number;
  lateMs: Percentiles;
}> {
  const pool = httpPool(args.origin, 16);
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  let settled = 0;
  const count = Math.max(1, Math.round(args.rate * args.seconds));
  const { lateMs } = await openLoop(count, args.rate, (_index, scheduledAt) => {
    pool
      .request({ origin: args.origin, path: args.path, method: 'GET' })
      .then(async (response) => {
        await response.body.dump();
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        latencies.push(performance.now() - scheduledAt);
      })
      .catch(() => {
        errors += 1;
        latencies.push(Number.POSITIVE_INFINITY);
      })
      .finally(() => (settled += 1));
  });
  await until(() => settled === count, performance.now() + 60_000);
  return { latencyMs: percentiles(latencies), statuses, errors: errors + (count - settled), lateMs };
}

export interface PullArgs {
  origin: string;
  /** One reader each, in a loop of its own over `paths` (one request in flight per reader). */
  readers: { token: string; paths: { path: string; accept?: string }[] }[];
  seconds: number;
}

export interface PullResult {
  /** By path, then status. */
  statuses: Record<string, Record<string, number>>;
  /** Bytes of the 200 answers, by path: the largest answer's size. */
  largestBytes: Record<string, number>;
  /** Requests answered 200 per second, all readers together. */
  servedPerSecond: number;
  errors: number;
}

/**
 * Readers each pulling their paths in a loop for `seconds`. A 429 waits the
 * `Retry-After` it names, as a well-behaved client would (capped at 2 s), so
 * the loop measures the budget rather than a storm of refusals.
 */
async function pull(args: PullArgs): Promise<PullResult> {
  const pool = httpPool(args.origin, Math.max(4, args.readers.length * 2));
  const statuses: Record<string, Record<string, number>> = {};
  const largestBytes: Record<string, number> = {};
  let served = 0;
  let errors = 0;
  const started = performance.now();
  const ends = started + args.seconds * 1000;
  await Promise.all(
    args.readers.map(async (reader) => {
      for (let turn = 0; performance.now() < ends; turn++) {
        const { path, accept } = reader.paths[turn % reader.paths.length]!;
        try {
          const response = await pool.request({
            origin: args.origin,
            path,
            method: 'GET',
            headers: { authorization: `Bearer ${reader.token}`, ...(accept ? { accept } : {}) },
          });
          let bytes = 0;
          for await (const chunk of response.body) bytes += (chunk as Buffer).length;
          const byStatus = (statuses[path] ??= {});
          byStatus[response.statusCode] = (byStatus[response.statusCode] ?? 0) + 1;
          if (response.statusCode === 200) {
            served += 1;
            largestBytes[path] = Math.max(largestBytes[path] ?? 0, bytes);
          } else if (response.statusCode === 429) {
            const wait = Number(response.headers['retry-after'] ?? 1);
            await sleep(Math.min(2_000, Math.max(50, wait * 1000), Math.max(0, ends - performance.now())));
          }
        } catch {
          errors += 1;
          await sleep(50);
        }
      }
    }),
  );
  return {
    statuses,
    largestBytes,
    servedPerSecond: round(served / ((performance.now() - started) / 1000), 2),
    errors,
  };
}

interface LooseFrame {
  type?: string;
  alert?: { indicators?: { value: string }[] };
}

/** A stream client reduced to what the benchmark needs: frames parsed, nothing validated or kept. */
async function openAnalystStream(
  gatewayUrl: string,
  token: string,
  onFrame: (frame: LooseFrame) => void,
): Promise<{ close(): Promise<void>; closedEarly(): string | undefined }> {
  const socket = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${token}` },
  });
  let closing = false;
  let closedEarly: string | undefined;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', (code, reason) => {
      if (!closing) closedEarly = `${code} ${reason.toString()}`.trim();
      resolve();
    }),
  );
  // After the handshake an error only precedes a close, which the result reports.
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`stream refused with HTTP ${response.statusCode}`)),
    );
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as LooseFrame;
      if (frame.type === 'welcome') resolve();
      onFrame(frame);
    });
  });
  return {
    closedEarly: () => closedEarly,
    async close() {
      closing = true;
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}

/**
 * A client on the shared broker with its security (TLS + SCRAM when secured), as `principal`:
 * the admin, or `ingest` where a measurement stands in for ingest and must pay what it pays.
 */
function benchKafka(brokers: string, principal = 'admin'): Kafka {
  return testKafka({ brokers, principal, clientId: 'renkei-bench' });
}

const producers = new Map<string, Promise<Producer>>();
/**
 * A producer with ingest's settings for one topic, kept for the life of the
 * load process. One per topic: a kafkajs producer refreshes the metadata of
 * every topic it ever sent to, and fails once an earlier scenario's topic is deleted.
 */
function reliableProducer(brokers: string, topic: string, principal = 'admin'): Promise<Producer> {
  const key = `${brokers} ${topic} ${principal}`;
  let producer = producers.get(key);
  if (!producer) {
    producer = (async () => {
      const created = createReliableProducer(benchKafka(brokers, principal));
      await created.connect();
      releases.push(() => created.disconnect());
      return created;
    })();
    producers.set(key, producer);
  }
  return producer;
}

function toMessage(envelope: ReportEnvelope, extraHeaders: Record<string, string> = {}) {
  // What ingest's batcher sends for each report.
  const message = reportsTopicMessage(envelope.id, envelope);
  return { ...message, headers: { ...message.headers, ...extraHeaders } };
}

export interface KafkaOpenArgs {
  brokers: string;
  /** The floor's topic, created on first use with the reports topic's six partitions and kept for later calls. */
  topic: string;
  rate: number;
  seconds: number;
  graceSeconds: number;
  tag: string;
}

export interface KafkaOpenResult {
  messages: number;
  /** From each message's scheduled send to the broker's acknowledgement. */
  produceMs: Percentiles;
  /** From each message's scheduled send to a consumer receiving it; a lost message counts as infinite. */
  consumeMs: Percentiles;
  /** Every message's latency, for pooling rounds; Infinity where it never came. */
  consumeSamples: number[];
  missing: number;
  lateMs: Percentiles;
}

interface FloorChannel {
  /** Where the consumer reports each message of a call: by the call's tag and the message's index. */
  receivers: Map<string, (index: number) => void>;
}

const floorChannels = new Map<string, Promise<FloorChannel>>();

/**
 * The floor's topic and a consumer on it, made once per topic: joining a group
 * and fetching metadata take seconds, which belong to no report's latency.
 * One message per partition goes round before the first call measures anything.
 */
function floorChannel(brokers: string, topic: string): Promise<FloorChannel> {
  let channel = floorChannels.get(topic);
  if (!channel) {
    channel = openFloorChannel(brokers, topic);
    floorChannels.set(topic, channel);
  }
  return channel;
}

async function openFloorChannel(brokers: string, topic: string): Promise<FloorChannel> {
  const partitions = 6;
  const kafka = benchKafka(brokers);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
    // Until every partition has a leader, producing or subscribing fails ("does not host this topic-partition").
    for (const deadline = performance.now() + 30_000; ;) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const partitionsLed = metadata?.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      if (partitionsLed === partitions) break;
      if (performance.now() > deadline) throw new Error(`${topic}: partitions without a leader after 30 s`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
  const channel: FloorChannel = { receivers: new Map() };
  const consumer = kafka.consumer({ groupId: `${topic}.reader`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  releases.push(() => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const tag = message.headers?.['bench-tag']?.toString() ?? '';
      channel.receivers.get(tag)?.(Number(message.headers?.['bench-index']?.toString()));
    },
  });
  let primed = 0;
  channel.receivers.set('prime', () => (primed += 1));
  const producer = await reliableProducer(brokers, topic);
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: partitions }, (_, partition) => ({
      partition,
      value: 'prime',
      headers: { 'bench-tag': 'prime', 'bench-index': String(partition) },
    })),
  });
  await until(() => primed === partitions, performance.now() + 60_000);
  if (primed < partitions)
    throw new Error(`the floor's consumer received ${primed} of ${partitions} priming messages`);
  channel.receivers.delete('prime');
  return channel;
}

/**
 * The end-to-end floor: raw kafkajs, one message sent per report at its
 * scheduled time by a producer with ingest's settings, and a consumer in the
 * same process timing its arrival.
 */
async function kafkaOpen(args: KafkaOpenArgs): Promise<KafkaOpenResult> {
  const channel = await floorChannel(args.brokers, args.topic);
  const producer = await reliableProducer(args.brokers, args.topic);
  const messages = Math.max(1, Math.round(args.rate * args.seconds));
  const scheduled = new Float64Array(messages);
  const consumedAt = new Float64Array(messages).fill(Number.NaN);
  let consumed = 0;
  channel.receivers.set(args.tag, (index) => {
    if (index >= 0 && index < messages && Number.isNaN(consumedAt[index]!)) {
      consumedAt[index] = performance.now();
      consumed += 1;
    }
  });
  try {
    const produceLatencies: number[] = [];
    let settled = 0;
    const { lateMs } = await openLoop(messages, args.rate, (index, scheduledAt) => {
      scheduled[index] = scheduledAt;
      producer
        .send({
          topic: args.topic,
          acks: -1,
          messages: [
            toMessage(benchEnvelope(args.tag, index), {
              'bench-tag': args.tag,
              'bench-index': String(index),
            }),
          ],
        })
        .then(() => produceLatencies.push(performance.now() - scheduledAt))
        .catch(() => undefined)
        .finally(() => (settled += 1));
    });
    await until(
      () => settled === messages && consumed === messages,
      performance.now() + args.graceSeconds * 1000,
    );
    const consumeLatencies = Array.from(consumedAt, (at, index) =>
      Number.isNaN(at) ? Number.POSITIVE_INFINITY : at - scheduled[index]!,
    );
    return {
      messages,
      produceMs: percentiles(produceLatencies),
      consumeMs: percentiles(consumeLatencies),
      consumeSamples: consumeLatencies,
      missing: messages - consumed,
      lateMs,
    };
  } finally {
    channel.receivers.delete(args.tag);
  }
}

export interface KafkaPathArgs {
  /** `hub`: ingest's batcher (ledger insert, Kafka send, ledger update); `floor`: raw batched sends. */
  mode: 'hub' | 'floor';
  brokers: string;
  databaseUrl: string;
  topic: string;
  /** Reports in flight (hub), or messages in flight across the floor's batches. */
  concurrency: number;
  /** Ingest's INGEST_BATCH_MAX: the floor's batch size and the batcher's limit. */
  maxBatch: number;
  /** Ingest's INGEST_BATCH_LINGER_MS. */
  lingerMs: number;
  /** Ingest's DATABASE_POOL_SIZE. */
  databasePoolSize: number;
  seconds: number;
  tag: string;
}

export interface KafkaPathResult extends ThroughputResult {
  failures: number;
}

const databasePools = new Map<string, Pool>();
function databasePool(url: string, max: number): Pool {
  let pool = databasePools.get(url);
  if (!pool) {
    const created = createPool(url, { max });
    releases.push(() => created.end());
    databasePools.set(url, created);
    pool = created;
  }
  return pool;
}

/**
 * Reports acknowledged per second on ingest's Kafka path, or on its floor: the
 * same envelopes sent by a producer with the same settings in batches of the
 * same size, with nothing else (no ledger).
 */
async function kafkaPath(args: KafkaPathArgs): Promise<KafkaPathResult> {
  // Both sides as ingest's principal, with the shared broker's security: on a secured broker
  // both pay TLS and the authorizer alike, so the ratio compares the batcher and nothing else.
  const producer = await reliableProducer(args.brokers, args.topic, 'ingest');
  let count = 0;
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const ends = started + args.seconds * 1000;
  if (args.mode === 'hub') {
    // What the service sends through: one request per partition at a time, waiting messages together.
    const logger = createLogger('bench-kafka-path', 'warn');
    const lanes = new PartitionLanes(benchKafka(args.brokers, 'ingest'), { logger });
    await lanes.connect();
    const batcher = new SubmissionBatcher({
      pool: databasePool(args.databaseUrl, args.databasePoolSize),
      producer: lanes,
      topic: args.topic,
      kafkaTimeoutMs: 10_000,
      lingerMs: args.lingerMs,
      maxBatch: args.maxBatch,
      logger,
    });
    await Promise.all(
      Array.from({ length: args.concurrency }, async () => {
        while (performance.now() < ends) {
          try {
            await batcher.submit(benchEnvelope(args.tag, next++));
            count += 1;
          } catch {
            failures += 1;
          }
        }
      }),
    );
    await batcher.close();
    await lanes.disconnect();
  } else {
    const senders = Math.max(1, Math.round(args.concurrency / args.maxBatch));
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (performance.now() < ends) {
          const batch = Array.from({ length: args.maxBatch }, () =>
            toMessage(benchEnvelope(args.tag, next++)),
          );
          try {
            await producer.send({ topic: args.topic, acks: -1, messages: batch });
            count += batch.length;
          } catch {
            failures += batch.length;
          }
        }
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  return { count, seconds: round(seconds, 3), perSecond: round(count / seconds, 1), failures };
}

export const loadOps = {
  'http-closed': httpClosed,
  fill,
  probe,
  pull,
  'pairs-open': pairsOpen,
  'kafka-open': kafkaOpen,
  'kafka-path': kafkaPath,
};

export type LoadOps = typeof loadOps;
