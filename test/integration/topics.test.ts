import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics, TOPICS, topicNames, type TopicKey } from '@renkei/bus';
import { deleteTopicsWithPrefix, randomTopicPrefix, testKafka } from '@renkei/testing';

describe('ensureTopics on a real broker', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await deleteTopicsWithPrefix(prefix);
  });

  it('leaves every topic usable at once when several processes create them together', async () => {
    const prefix = randomTopicPrefix();
    prefixes.push(prefix);
    const keys = Object.keys(TOPICS) as TopicKey[];
    // Like the services at start-up: overlapping sets, separate clients, all at once.
    const sets: TopicKey[][] = [keys, ['alerts'], ['reports'], keys, ['alerts', 'reports']];
    await Promise.all(
      sets.map(async (set) => {
        const admin = testKafka().admin();
        await admin.connect();
        try {
          await ensureTopics(admin, prefix, set);
          // Usable the moment ensureTopics returns: every partition has a leader.
          const { topics } = await admin.fetchTopicMetadata({
            topics: set.map((key) => prefix + TOPICS[key].name),
          });
          for (const topic of topics) {
            expect(topic.partitions.every((partition) => partition.leader >= 0)).toBe(true);
          }
        } finally {
          await admin.disconnect();
        }
      }),
    );

    const admin = testKafka().admin();
    await admin.connect();
    try {
      const names = topicNames(prefix);
      const { topics } = await admin.fetchTopicMetadata({ topics: Object.values(names) });
      for (const key of keys) {
        expect(topics.find((topic) => topic.name === names[key])?.partitions).toHaveLength(
          TOPICS[key].partitions,
        );
      }
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: names.reports, configNames: ['retention.ms'] }],
      });
      expect(configs.resources[0]!.configEntries[0]!.configValue).toBe(TOPICS.reports.config['retention.ms']);
    } finally {
      await admin.disconnect();
    }
  });
});
