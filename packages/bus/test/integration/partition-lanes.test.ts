import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer } from 'kafkajs';
import { createLogger } from '@renkei/runtime';
import {
  controllable,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  type ControllableProducer,
  testKafka,
} from '@renkei/testing';
import { createReliableProducer, PartitionLanes } from '../../src/index.js';

const logger = createLogger('partition-lanes-test', 'silent');
const PARTITIONS = 6;

/** Every record on a topic as key → partitions it was found in (one entry per copy). */
async function recordsOf(kafka: Kafka, topic: string, expected: number): Promise<Map<string, number[]>> {
  const consumer = kafka.consumer({ groupId: `${topic}.reader-${randomBytes(4).toString('hex')}` });
  const found = new Map<string, number[]>();
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        read += 1;
        const key = message.key!.toString();
        found.set(key, [...(found.get(key) ?? []), partition]);
      },
    });
    await eventually(
      () => {
        if (read < expected) throw new Error(`read ${read} of ${expected} records on ${topic}`);
      },
      { timeoutMs: 30_000 },
    );
  } finally {
    await consumer.disconnect();
  }
  return found;
}

/** A producer whose sends wait for `open()` before they reach the broker. */
function gated(real: Producer): { producer: Producer; open: () => void; waiting: () => number } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let waiting = 0;
  const producer = new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'send')
        return async (record: Parameters<Producer['send']>[0]) => {
          waiting += 1;
          await gate;
          return target.send(record);
        };
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { producer, open, waiting: () => waiting };
}

describe('PartitionLanes', () => {
  const prefix = randomTopicPrefix();
  const kafka = testKafka({ clientId: 'lanes-test', logger });
  let topicCount = 0;

  /** Lanes whose producers (one per generation) the test can count and fail. */
  function lanesWithProducersKept(): { lanes: PartitionLanes; made: ControllableProducer[] } {
    const made: ControllableProducer[] = [];
    const lanes = new PartitionLanes(kafka, {
      logger,
      createProducer: (client) => {
        const wrapped = controllable(createReliableProducer(client));
        made.push(wrapped);
        return wrapped.producer;
      },
    });
    return { lanes, made };
  }

  async function newTopic(): Promise<string> {
    const topic = `${prefix}lanes-${(topicCount += 1)}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    return topic;
  }

  beforeAll(async () => {
    // kafkajs's own admin wait can race a fresh topic's leaders; one topic warms the broker up.
    await newTopic();
  });

  afterAll(async () => {
    await deleteTopicsWithPrefix(prefix);
  });

  it('puts each keyed message once on the partition kafkajs would, and concurrent sends to a partition share its requests', async () => {
    const [ours, theirs] = [await newTopic(), await newTopic()];
    const { lanes, made } = lanesWithProducersKept();
    await lanes.connect();
    const keys = Array.from({ length: 60 }, () => randomUUID());
    await Promise.all(keys.map((key) => lanes.send({ topic: ours, messages: [{ key, value: key }] })));
    await lanes.disconnect();

    const plain = createReliableProducer(kafka);
    await plain.connect();
    await plain.send({ topic: theirs, acks: -1, messages: keys.map((key) => ({ key, value: key })) });
    await plain.disconnect();

    const [onOurs, onTheirs] = [
      await recordsOf(kafka, ours, keys.length),
      await recordsOf(kafka, theirs, keys.length),
    ];
    for (const key of keys) {
      expect(onOurs.get(key)).toHaveLength(1);
      expect(onOurs.get(key)).toEqual(onTheirs.get(key));
    }
    expect(made).toHaveLength(1);
    // 60 sends of one message each, at most one request in flight per partition: the
    // messages that waited went together.
    expect(made[0]!.delivered).toBeLessThan(keys.length);
  });

  it('fails only the messages of a request that failed, and sends the next ones through a new producer', async () => {
    const topic = await newTopic();
    const { lanes, made } = lanesWithProducersKept();
    await lanes.connect();
    made[0]!.inject({ kind: 'fail', error: new Error('the broker went away') });
    const [lost, kept] = [randomUUID(), randomUUID()];
    await expect(lanes.send({ topic, messages: [{ key: lost, value: lost }] })).rejects.toThrow(
      'the broker went away',
    );
    await lanes.send({ topic, messages: [{ key: kept, value: kept }] });
    await lanes.disconnect();

    // Its sequence numbers could no longer be trusted: the second send had a producer of its own.
    expect(made).toHaveLength(2);
    expect(made[1]!.delivered).toBe(1);
    const records = await recordsOf(kafka, topic, 1);
    expect([...records.keys()]).toEqual([kept]);
  });

  it('does not send a message whose caller gave up while it waited for its partition', async () => {
    const topic = await newTopic();
    let gate: ReturnType<typeof gated> | undefined;
    const lanes = new PartitionLanes(kafka, {
      logger,
      createProducer: (client) => {
        gate = gated(createReliableProducer(client));
        return gate.producer;
      },
    });
    await lanes.connect();
    const first = randomUUID();
    const sent = lanes.send({ topic, messages: [{ key: first, value: first }] });
    await eventually(() => expect(gate!.waiting()).toBe(1));
    // The same key goes to the same partition, so it waits behind the first request.
    const abandon = new AbortController();
    const waiting = lanes.send(
      { topic, messages: [{ key: first, value: 'given up' }] },
      { signal: abandon.signal },
    );
    abandon.abort(new Error('the caller answered 503'));
    gate!.open();
    await sent;
    await expect(waiting).rejects.toThrow('the caller answered 503');
    const later = randomUUID();
    await lanes.send({ topic, messages: [{ key: later, value: later }] });
    await lanes.disconnect();

    const records = await recordsOf(kafka, topic, 2);
    expect(records.get(first)).toHaveLength(1);
    expect(records.get(later)).toHaveLength(1);
    expect(gate!.waiting()).toBe(2);
  });

  it('sends what waits for every partition of one leader in one request, one request per leader at a time', async () => {
    const topic = await newTopic();
    let gate: ReturnType<typeof gated> | undefined;
    const lanes = new PartitionLanes(kafka, {
      logger,
      createProducer: (client) => {
        gate = gated(createReliableProducer(client));
        return gate.producer;
      },
    });
    await lanes.connect();
    const first = randomUUID();
    const sent = lanes.send({ topic, messages: [{ key: first, value: first }] });
    await eventually(() => expect(gate!.waiting()).toBe(1));
    // One broker leads all six partitions: while its request is out, nothing else goes to it,
    // and what waited for any of its partitions leaves together in the next request.
    const keys = Array.from({ length: 60 }, () => randomUUID());
    const rest = Promise.all(keys.map((key) => lanes.send({ topic, messages: [{ key, value: key }] })));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gate!.waiting()).toBe(1);
    gate!.open();
    await Promise.all([sent, rest]);
    expect(gate!.waiting()).toBe(2);
    await lanes.disconnect();
    const records = await recordsOf(kafka, topic, keys.length + 1);
    expect(new Set([...records.values()].flat()).size).toBe(PARTITIONS);
    for (const key of [first, ...keys]) expect(records.get(key)).toHaveLength(1);
  });

  it('refuses messages once disconnected, and makes no producer for them', async () => {
    const topic = await newTopic();
    const { lanes, made } = lanesWithProducersKept();
    await lanes.connect();
    await lanes.disconnect();
    const key = randomUUID();
    await expect(lanes.send({ topic, messages: [{ key, value: key }] })).rejects.toThrow('disconnected');
    expect(made).toHaveLength(1);
  });

  it('refuses messages without a key on a topic of several partitions: the key chooses the partition', async () => {
    const topic = await newTopic();
    const lanes = new PartitionLanes(kafka, { logger });
    await expect(lanes.send({ topic, messages: [{ value: 'no key' }] })).rejects.toThrow(
      'keyed messages only',
    );
    await lanes.disconnect();
  });
});
