import { Partitioners, type Kafka, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import type { Logger } from '@renkei/runtime';
import { createReliableProducer } from './kafka.js';

/** What ingest needs of a producer: a kafkajs `Producer` has this shape too (it ignores the options). */
export interface AcknowledgedSender {
  send(
    record: { topic: string; acks?: number; messages: Message[] },
    options?: { signal?: AbortSignal },
  ): Promise<unknown>;
}

/** The broker refuses a partition's record batch over `message.max.bytes` (1 MiB by default). */
const MAX_REQUEST_BYTES = 1_000_000;
/** A request slower than this is logged: how long a broker's loss held writes. */
const SLOW_REQUEST_MS = 2_000;
/** Room per message for the record's key, headers and framing in a record batch. */
const MESSAGE_OVERHEAD_BYTES = 512;

interface Waiting {
  message: Message;
  bytes: number;
  signal: AbortSignal | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Lane {
  queue: Waiting[];
  busy: boolean;
}

interface Generation {
  producer: Producer;
  connected: Promise<void>;
  inFlight: number;
  retired: boolean;
}

/**
 * Messages sent with acks from every in-sync replica, one produce request at
 * a time per partition, each request for one partition only. A message's key
 * (or its `partition`) chooses the partition as kafkajs would; a topic of one
 * partition also takes messages without a key.
 *
 * Why not `producer.send` directly: kafkajs 2.2.4 loses acknowledged
 * messages when a broker dies under concurrent sends (measured: 19 of 7,560
 * acknowledged keys missing from the topic after a kill -9 of one of three
 * brokers; tulios/kafkajs#1303). Two of its behaviours combine:
 * - A send spanning several leaders keeps the answers of the brokers that
 *   answered and retries only the others; when a dead leader's partitions
 *   move to a broker that already answered, their messages are never sent,
 *   and the send resolves.
 * - The idempotent producer takes a partition's sequence numbers before a
 *   request and gives them back when it fails, though the broker may have
 *   written it; a concurrent send to the same partition then reuses them,
 *   and the broker takes a batch of the same size as a duplicate of the
 *   written one (answering success without writing it), or refuses the rest
 *   as out of order.
 * With one partition per request the first cannot happen, and with one
 * request in flight per partition only a retry of the same messages reuses
 * its sequence numbers, which is what the broker's duplicate check is for.
 * After a send fails for good the producer's sequence numbers cannot be
 * trusted, so it is replaced (a new producer id) before anything else is
 * sent. Messages waiting for the same partition share the next request,
 * which also keeps throughput: kafkajs lets an idempotent producer have
 * one request in flight per broker.
 */
export class PartitionLanes implements AcknowledgedSender {
  readonly #kafka: Kafka;
  readonly #logger: Logger;
  readonly #createProducer: (kafka: Kafka) => Producer;
  readonly #partitioner = Partitioners.DefaultPartitioner();
  readonly #lanes = new Map<string, Lane>();
  readonly #partitionCounts = new Map<string, Promise<number>>();
  readonly #generations = new Set<Generation>();
  #current: Generation | undefined;
  #closed = false;

  constructor(
    kafka: Kafka,
    {
      logger,
      createProducer = createReliableProducer,
    }: { logger: Logger; createProducer?: (kafka: Kafka) => Producer },
  ) {
    this.#kafka = kafka;
    this.#logger = logger.child({ component: 'partition-lanes' });
    this.#createProducer = createProducer;
  }

  /** Connects the first producer, so a service that cannot reach Kafka at start says so at once. */
  async connect(): Promise<void> {
    await this.#generation();
  }

  /**
   * Resolves once every message is acknowledged. Messages still waiting
   * for their partition's turn when `signal` aborts are not sent; a request
   * already made runs on (its outcome is unknown to the caller).
   */
  async send(
    { topic, messages }: { topic: string; acks?: number; messages: Message[] },
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const count = await this.#partitionCount(topic);
    const unplaced = (message: Message) =>
      (message.key === null || message.key === undefined) &&
      (message.partition === null || message.partition === undefined);
    // Round robin would move a retried message to another partition, with nothing to
    // keep it from being written twice: a message says where it goes, or the topic has one partition.
    if (count > 1 && messages.some(unplaced))
      throw new TypeError(
        `PartitionLanes sends keyed messages only to ${topic}: the key chooses the partition`,
      );
    // The partitioner kafkajs itself would use: a key's hash modulo the partition count.
    const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 0,
    })) as PartitionMetadata[];
    await Promise.all(
      messages.map((message) => {
        const partition = count === 1 ? 0 : this.#partitioner({ topic, partitionMetadata, message });
        return new Promise<void>((resolve, reject) => {
          const lane = this.#lane(topic, partition);
          lane.queue.push({ message, bytes: sizeOf(message), signal, resolve, reject });
          void this.#drain(topic, partition, lane);
        });
      }),
    );
  }

  /** Messages still waiting are refused; requests in flight end with their producer. */
  async disconnect(): Promise<void> {
    this.#closed = true;
    for (const lane of this.#lanes.values())
      for (const waiting of lane.queue.splice(0)) waiting.reject(new Error('the producer was disconnected'));
    this.#current = undefined;
    await Promise.all(
      [...this.#generations].map((generation) => generation.producer.disconnect().catch(() => undefined)),
    );
    this.#generations.clear();
  }

  #lane(topic: string, partition: number): Lane {
    const key = `${topic}\u0000${partition}`;
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { queue: [], busy: false };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  async #drain(topic: string, partition: number, lane: Lane): Promise<void> {
    if (lane.busy) return;
    const batch: Waiting[] = [];
    let bytes = 0;
    while (lane.queue.length > 0) {
      const next = lane.queue[0]!;
      if (next.signal?.aborted) {
        lane.queue.shift();
        next.reject(next.signal.reason);
        continue;
      }
      if (batch.length > 0 && bytes + next.bytes > MAX_REQUEST_BYTES) break;
      lane.queue.shift();
      batch.push(next);
      bytes += next.bytes;
    }
    if (batch.length === 0) return;
    lane.busy = true;
    let generation: Generation | undefined;
    try {
      generation = await this.#generation();
      generation.inFlight += 1;
      const started = performance.now();
      await generation.producer.send({
        topic,
        acks: -1,
        messages: batch.map(({ message }) => ({ ...message, partition })),
      });
      const ms = performance.now() - started;
      // A leader lost: the request waited for the fence and a new leader. One line per partition and event.
      if (ms > SLOW_REQUEST_MS)
        this.#logger.info(
          { topic, partition, messages: batch.length, ms: Math.round(ms) },
          'a produce request was slow',
        );
      for (const waiting of batch) waiting.resolve();
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      if (generation) this.#retire(generation, error, topic, partition);
    } finally {
      if (generation) {
        generation.inFlight -= 1;
        if (generation.retired && generation.inFlight === 0) this.#close(generation);
      }
      lane.busy = false;
      if (lane.queue.length > 0) void this.#drain(topic, partition, lane);
    }
  }

  /** The producer new requests go to, connected; a new one after the last was retired. */
  async #generation(): Promise<Generation> {
    // After disconnect, no new producer: it would keep the process alive.
    if (this.#closed) throw new Error('the producer was disconnected');
    if (!this.#current) {
      const producer = this.#createProducer(this.#kafka);
      const generation: Generation = { producer, connected: producer.connect(), inFlight: 0, retired: false };
      this.#current = generation;
      this.#generations.add(generation);
      generation.connected.catch(() => {
        if (this.#current === generation) this.#current = undefined;
        this.#close(generation);
      });
    }
    const generation = this.#current;
    await generation.connected;
    return generation;
  }

  /** Its sequence numbers may be ahead of or behind what the broker wrote: nothing more goes through it. */
  #retire(generation: Generation, error: unknown, topic: string, partition: number): void {
    if (generation.retired) return;
    generation.retired = true;
    if (this.#current === generation) this.#current = undefined;
    this.#logger.warn(
      { err: error, topic, partition },
      'a produce request failed for good: the next requests go through a new producer',
    );
  }

  #close(generation: Generation): void {
    this.#generations.delete(generation);
    void generation.producer.disconnect().catch(() => undefined);
  }

  /** Partition counts, read once per topic (again after a failure to read them). */
  #partitionCount(topic: string): Promise<number> {
    let count = this.#partitionCounts.get(topic);
    if (!count) {
      count = (async () => {
        const admin = this.#kafka.admin();
        await admin.connect();
        try {
          const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
          const partitions = metadata.topics[0]?.partitions.length ?? 0;
          if (partitions === 0) throw new Error(`topic ${topic} has no partitions`);
          return partitions;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      })();
      count.catch(() => this.#partitionCounts.delete(topic));
      this.#partitionCounts.set(topic, count);
    }
    return count;
  }
}

function sizeOf(message: Message): number {
  const length = (value: unknown) =>
    typeof value === 'string' ? Buffer.byteLength(value) : Buffer.isBuffer(value) ? value.length : 0;
  let headers = 0;
  for (const [name, value] of Object.entries(message.headers ?? {}))
    headers += Buffer.byteLength(name) + length(value);
  return length(message.value) + length(message.key) + headers + MESSAGE_OVERHEAD_BYTES;
}
