import type { Admin, Kafka } from 'kafkajs';
import { RenkeiError } from '@renkei/runtime';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopicSpec {
  name: string;
  partitions: number;
  config: Record<string, string>;
}

/**
 * Every topic of the hub, in one place. The broker never creates topics by
 * itself (auto.create.topics.enable=false): each service ensures the ones it
 * uses at start-up, with these settings.
 */
export const TOPICS = {
  /** Accepted reports, keyed by report id. The durable record of everything accepted. */
  reports: {
    name: 'renkei.reports.v1',
    partitions: 6,
    // Long enough to rebuild PostgreSQL from the log after an outage of the correlator.
    config: { 'retention.ms': String(30 * DAY_MS), 'cleanup.policy': 'delete' },
  },
  /** Alert versions from the correlator's outbox, keyed by alert id so versions stay in order. */
  alerts: {
    name: 'renkei.alerts.v1',
    partitions: 3,
    config: { 'retention.ms': String(7 * DAY_MS), 'cleanup.policy': 'delete' },
  },
  /**
   * Every event of the live stream in feed order: one partition, because the
   * feed is one total order. Gateways follow it; the feed_events table is its
   * source of truth.
   */
  feed: {
    name: 'renkei.feed.v1',
    partitions: 1,
    config: { 'retention.ms': String(7 * DAY_MS), 'cleanup.policy': 'delete' },
  },
  /** Report messages the correlator could not read, kept for a person to look at. */
  reportsDeadLetter: {
    name: 'renkei.reports.dead-letter.v1',
    partitions: 1,
    config: { 'retention.ms': String(30 * DAY_MS), 'cleanup.policy': 'delete' },
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof TOPICS;
export type TopicNames = Record<TopicKey, string>;

/** Topic names under a prefix (empty in production; random per test run). */
export function topicNames(prefix: string): TopicNames {
  return Object.fromEntries(
    Object.entries(TOPICS).map(([key, spec]) => [key, prefix + spec.name]),
  ) as TopicNames;
}

export interface EnsureTopicsOptions {
  replicationFactor?: number;
  leaderTimeoutMs?: number;
  /**
   * `retention.ms` per topic, from the hub's retention settings
   * (`@renkei/retention` `topicRetentionMs`): set on creation, and on a topic
   * that already exists with another value. Topics not named keep the value
   * in {@link TOPICS} when created, and whatever they have otherwise.
   */
  retentionMs?: Partial<Record<TopicKey, number>>;
}

/** A topic's configuration: the spec's, with the retention the settings give. */
export function topicConfig(
  key: TopicKey,
  retentionMs?: Partial<Record<TopicKey, number>>,
): Record<string, string> {
  const retention = retentionMs?.[key];
  return {
    ...TOPICS[key].config,
    ...(retention === undefined ? {} : { 'retention.ms': String(Math.round(retention)) }),
  };
}

const TOPIC_RESOURCE = 2; // kafkajs ConfigResourceTypes.TOPIC

/** Creates the given topics if missing, and sets their retention; safe when several processes race. */
export async function ensureTopics(
  admin: Admin,
  prefix: string,
  keys: readonly TopicKey[],
  { replicationFactor = 1, leaderTimeoutMs = 30_000, retentionMs }: EnsureTopicsOptions = {},
): Promise<void> {
  const names = keys.map((key) => prefix + TOPICS[key].name);
  const existing = new Set(await admin.listTopics());
  const missing = keys.filter((key) => !existing.has(prefix + TOPICS[key].name));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        topics: missing.map((key) => ({
          topic: prefix + TOPICS[key].name,
          numPartitions: TOPICS[key].partitions,
          replicationFactor,
          configEntries: Object.entries(topicConfig(key, retentionMs)).map(([name, value]) => ({
            name,
            value,
          })),
        })),
        // kafkajs's own wait reads metadata once and fails on a broker that has
        // not caught up yet ("does not host this topic-partition"); ours retries.
        waitForLeaders: false,
      });
    } catch (error) {
      // Another process created some of them between listTopics and createTopics.
      if (!isTopicAlreadyExists(error)) throw error;
    }
  }
  // Whoever created a topic, using it before its partitions have leaders fails
  // ("does not host this topic-partition"), so wait for them here.
  await waitForLeaders(admin, names, leaderTimeoutMs);
  // Also the ones just created: another process may have created one first, with other settings.
  const retained = keys.filter((key) => retentionMs?.[key] !== undefined);
  if (retained.length > 0) await alignRetention(admin, prefix, retained, retentionMs!);
}

/**
 * Sets `retention.ms` on existing topics whose value differs from the
 * settings. kafkajs speaks the older AlterConfigs, which replaces a topic's
 * whole set of overrides, so the topic's full spec config is sent with it
 * (the hub sets nothing else on its topics).
 */
async function alignRetention(
  admin: Admin,
  prefix: string,
  keys: readonly TopicKey[],
  retentionMs: Partial<Record<TopicKey, number>>,
): Promise<void> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: keys.map((key) => ({
      type: TOPIC_RESOURCE,
      name: prefix + TOPICS[key].name,
      configNames: ['retention.ms'],
    })),
  });
  const current = new Map(
    resources.map((resource) => [
      resource.resourceName,
      resource.configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue,
    ]),
  );
  const differing = keys.filter(
    (key) => current.get(prefix + TOPICS[key].name) !== topicConfig(key, retentionMs)['retention.ms'],
  );
  if (differing.length === 0) return;
  await admin.alterConfigs({
    validateOnly: false,
    resources: differing.map((key) => ({
      type: TOPIC_RESOURCE,
      name: prefix + TOPICS[key].name,
      configEntries: Object.entries(topicConfig(key, retentionMs)).map(([name, value]) => ({ name, value })),
    })),
  });
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      const ready = metadata.every(
        (topic) =>
          topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
      );
      if (ready) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics without leaders after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isTopicAlreadyExists(error: unknown): boolean {
  const nested = (error as { errors?: { type?: string }[] }).errors;
  if (Array.isArray(nested) && nested.length > 0) {
    return nested.every((item) => item.type === 'TOPIC_ALREADY_EXISTS');
  }
  return (error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS';
}

/** Connects an admin client just long enough to ensure the topics; returns their names. */
export async function prepareTopics(
  kafka: Kafka,
  prefix: string,
  keys: readonly TopicKey[],
  options: Pick<EnsureTopicsOptions, 'replicationFactor' | 'retentionMs'> = {},
): Promise<TopicNames> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await ensureTopics(admin, prefix, keys, options);
  } catch (error) {
    throw new RenkeiError(
      'RENKEI_TOPICS_UNAVAILABLE',
      `the Kafka topics could not be prepared: ${keys.join(', ')}`,
      {
        cause: error,
      },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return topicNames(prefix);
}
