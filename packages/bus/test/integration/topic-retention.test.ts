import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics, TOPICS, topicNames, type TopicKey } from '@renkei/bus';
import { deleteTopicsWithPrefix, randomTopicPrefix, testKafka } from '@renkei/testing';

const DAY = 86_400_000;

describe('topic retention from the retention settings, on a real broker', () => {
  const prefix = randomTopicPrefix();
  const names = topicNames(prefix);
  const keys = Object.keys(TOPICS) as TopicKey[];
  afterAll(async () => {
    await deleteTopicsWithPrefix(prefix);
  });

  async function withAdmin<T>(
    work: (admin: ReturnType<ReturnType<typeof testKafka>['admin']>) => Promise<T>,
  ) {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }

  const describeTopics = () =>
    withAdmin(async (admin) => {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: keys.map((key) => ({
          type: 2,
          name: names[key],
          configNames: ['retention.ms', 'cleanup.policy'],
        })),
      });
      return Object.fromEntries(
        keys.map((key) => {
          const entries = resources.find((resource) => resource.resourceName === names[key])!.configEntries;
          const value = (name: string) => entries.find((entry) => entry.configName === name)?.configValue;
          return [key, { retention: value('retention.ms'), cleanup: value('cleanup.policy') }];
        }),
      );
    });

  it('sets retention.ms when it creates the topics', async () => {
    const retentionMs = { reports: 3 * DAY, reportsDeadLetter: 3 * DAY, alerts: 2 * DAY, feed: 2 * DAY };
    await withAdmin((admin) => ensureTopics(admin, prefix, keys, { retentionMs }));
    expect(await describeTopics()).toEqual({
      reports: { retention: String(3 * DAY), cleanup: 'delete' },
      reportsDeadLetter: { retention: String(3 * DAY), cleanup: 'delete' },
      alerts: { retention: String(2 * DAY), cleanup: 'delete' },
      feed: { retention: String(2 * DAY), cleanup: 'delete' },
    });
  });

  it('changes it on running topics whose setting differs, and leaves the rest alone', async () => {
    await withAdmin((admin) =>
      ensureTopics(admin, prefix, keys, { retentionMs: { feed: 9 * DAY, alerts: 2 * DAY } }),
    );
    const after = await describeTopics();
    expect(after.feed).toEqual({ retention: String(9 * DAY), cleanup: 'delete' });
    expect(after.alerts).toEqual({ retention: String(2 * DAY), cleanup: 'delete' });
    // Not named: kept as they were, not reset to the spec's default.
    expect(after.reports).toEqual({ retention: String(3 * DAY), cleanup: 'delete' });
    // A process without settings (ingest, the gateway) changes nothing.
    await withAdmin((admin) => ensureTopics(admin, prefix, keys));
    expect(await describeTopics()).toEqual(after);
  });
});
