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
/**
 * Every record batch of one request together: well under the broker's
 * `socket.request.max.bytes` (100 MiB), and a request held this long stays short.
 */
const MAX_GROUP_REQUEST_BYTES = 8_000_000;
/** How old the leaders a request is grouped by may be before they are read again. */
const LAYOUT_MAX_AGE_MS = 30_000;
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

/** A topic's partitions and the broker leading each, as the cluster last said. */
interface Layout {
  count: number;
  leaders: number[];
  readAt: number;
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
 * sent. Messages waiting for the same partition share the next request.
 *
 * kafkajs lets an idempotent producer have one request in flight per broker,
 * so a request per partition made every partition of a broker wait for the
 * others' round trips in turn (six on one broker: ingest's acknowledgement
 * p50 was 342 ms at 250 reports/s). A request therefore carries every
 * waiting partition that the same broker leads (as the cluster said at most
 * 30 s ago, and again after any failure), one request per topic and leader at
 * a time, and never a partition that is in a request already: a single
 * broker's death fails all of a request, and its retry goes to the new
 * leaders whole, which is not the case the first behaviour above needs.
 */
export class PartitionLanes implements AcknowledgedSender {
  readonly #kafka: Kafka;
  readonly #logger: Logger;
  readonly #createProducer: (kafka: Kafka) => Producer;
  readonly #partitioner = Partitioners.DefaultPartitioner();
  /** Messages waiting, per topic and partition. */
  readonly #queues = new Map<string, Waiting[]>();
  /** Partitions (topic and partition) in a request now. */
  readonly #inFlight = new Set<string>();
  /** Topic and leader pairs with a request in flight. */
  readonly #busyLeaders = new Set<string>();
  readonly #layouts = new Map<string, Promise<Layout>>();
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
    const { count } = await this.#layout(topic);
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
          this.#queue(topic, partition).push({ message, bytes: sizeOf(message), signal, resolve, reject });
          void this.#drainPartition(topic, partition);
        });
      }),
    );
  }

  /** Messages still waiting are refused; requests in flight end with their producer. */
  async disconnect(): Promise<void> {
    this.#closed = true;
    for (const queue of this.#queues.values())
      for (const waiting of queue.splice(0)) waiting.reject(new Error('the producer was disconnected'));
    this.#current = undefined;
    await Promise.all(
      [...this.#generations].map((generation) => generation.producer.disconnect().catch(() => undefined)),
    );
    this.#generations.clear();
  }

  #queue(topic: string, partition: number): Waiting[] {
    const key = partitionKey(topic, partition);
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = [];
      this.#queues.set(key, queue);
    }
    return queue;
  }

  async #drainPartition(topic: string, partition: number): Promise<void> {
    let layout: Layout;
    try {
      layout = await this.#layout(topic);
    } catch (error) {
      // Without the leaders nothing can be grouped: what waits for this partition fails as a send would.
      for (const waiting of this.#queue(topic, partition).splice(0)) waiting.reject(error);
      return;
    }
    await this.#drainLeader(topic, layout.leaders[partition] ?? -1, layout);
  }

  /** One request for every partition of `topic` that `leader` leads, has messages waiting and none in flight. */
  async #drainLeader(topic: string, leader: number, layout: Layout): Promise<void> {
    const leaderKey = `${topic}\u0000${leader}`;
    if (this.#busyLeaders.has(leaderKey)) return;
    const batches = new Map<number, Waiting[]>();
    let requestBytes = 0;
    for (let partition = 0; partition < layout.count; partition += 1) {
      if ((layout.leaders[partition] ?? -1) !== leader) continue;
      const key = partitionKey(topic, partition);
      const queue = this.#queues.get(key);
      if (!queue || queue.length === 0 || this.#inFlight.has(key)) continue;
      const batch: Waiting[] = [];
      let bytes = 0;
      while (queue.length > 0) {
        const next = queue[0]!;
        if (next.signal?.aborted) {
          queue.shift();
          next.reject(next.signal.reason);
          continue;
        }
        if (batch.length > 0 && bytes + next.bytes > MAX_REQUEST_BYTES) break;
        if (
          (batches.size > 0 || batch.length > 0) &&
          requestBytes + bytes + next.bytes > MAX_GROUP_REQUEST_BYTES
        )
          break;
        queue.shift();
        batch.push(next);
        bytes += next.bytes;
      }
      if (batch.length === 0) continue;
      batches.set(partition, batch);
      requestBytes += bytes;
    }
    if (batches.size === 0) return;
    this.#busyLeaders.add(leaderKey);
    for (const partition of batches.keys()) this.#inFlight.add(partitionKey(topic, partition));
    const all = [...batches.values()].flat();
    let generation: Generation | undefined;
    try {
      generation = await this.#generation();
      generation.inFlight += 1;
      const started = performance.now();
      await generation.producer.send({
        topic,
        acks: -1,
        messages: [...batches].flatMap(([partition, batch]) =>
          batch.map(({ message }) => ({ ...message, partition })),
        ),
      });
      const ms = performance.now() - started;
      // A leader lost: the request waited for the fence and a new leader. One line per request and event.
      if (ms > SLOW_REQUEST_MS)
        this.#logger.info(
          { topic, partitions: [...batches.keys()], messages: all.length, ms: Math.round(ms) },
          'a produce request was slow',
        );
      for (const waiting of all) waiting.resolve();
    } catch (error) {
      for (const waiting of all) waiting.reject(error);
      if (generation) this.#retire(generation, error, topic, [...batches.keys()]);
      // Leaders may have moved: the next requests are grouped by what the cluster says now.
      this.#layouts.delete(topic);
    } finally {
      if (generation) {
        generation.inFlight -= 1;
        if (generation.retired && generation.inFlight === 0) this.#close(generation);
      }
      this.#busyLeaders.delete(leaderKey);
      for (const partition of batches.keys()) this.#inFlight.delete(partitionKey(topic, partition));
      // Whatever waits now, for any leader of this topic (a partition that was in flight may wait for another).
      for (let partition = 0; partition < layout.count; partition += 1)
        if ((this.#queues.get(partitionKey(topic, partition))?.length ?? 0) > 0)
          void this.#drainPartition(topic, partition);
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
  #retire(generation: Generation, error: unknown, topic: string, partitions: number[]): void {
    if (generation.retired) return;
    generation.retired = true;
    if (this.#current === generation) this.#current = undefined;
    this.#logger.warn(
      { err: error, topic, partitions },
      'a produce request failed for good: the next requests go through a new producer',
    );
  }

  #close(generation: Generation): void {
    this.#generations.delete(generation);
    void generation.producer.disconnect().catch(() => undefined);
  }

  /**
   * A topic's partition count and leaders: read once, again after a request
   * failed or a failure to read them, and when older than `LAYOUT_MAX_AGE_MS`
   * (read again in the background; the old one serves meanwhile).
   */
  #layout(topic: string): Promise<Layout> {
    let layout = this.#layouts.get(topic);
    if (!layout) {
      layout = this.#readLayout(topic);
      layout.catch(() => this.#layouts.delete(topic));
      this.#layouts.set(topic, layout);
      return layout;
    }
    void layout
      .then((known) => {
        if (performance.now() - known.readAt <= LAYOUT_MAX_AGE_MS || this.#layouts.get(topic) !== layout)
          return;
        const next = this.#readLayout(topic);
        // Until it is read, the one it replaces serves; a failed read leaves that one for the next attempt.
        next.then(
          () => {
            if (this.#layouts.get(topic) === layout) this.#layouts.set(topic, next);
          },
          () => undefined,
        );
      })
      .catch(() => undefined);
    return layout;
  }

  async #readLayout(topic: string): Promise<Layout> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = metadata.topics[0]?.partitions ?? [];
      if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions`);
      const leaders = Array.from({ length: partitions.length }, () => -1);
      for (const partition of partitions) leaders[partition.partitionId] = partition.leader;
      return { count: partitions.length, leaders, readAt: performance.now() };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function sizeOf(message: Message): number {
  const length = (value: unknown) =>
    typeof value === 'string' ? Buffer.byteLength(value) : Buffer.isBuffer(value) ? value.length : 0;
  let headers = 0;
  for (const [name, value] of Object.entries(message.headers ?? {}))
    headers += Buffer.byteLength(name) + length(value);
  return length(message.value) + length(message.key) + headers + MESSAGE_OVERHEAD_BYTES;
}
