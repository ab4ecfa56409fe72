import { createPool } from '@renkei/db';
import { testKafka } from '@renkei/testing';
import type { Stack } from './scenario.js';

/** The correlator's consumer group (services/correlator/src/service.ts). */
const correlatorGroup = (stack: Stack) => `${stack.prefix}renkei-correlator`;

/** Reports on the topic the correlator has not committed yet. */
export async function correlatorBacklog(stack: Stack): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const topic = stack.topics.reports;
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: correlatorGroup(stack), topics: [topic] }),
    ]);
    const committedOffset = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    return ends.reduce((sum, { partition, high }) => {
      const at = committedOffset.get(partition) ?? -1;
      return sum + Number(high) - Math.max(0, at);
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the correlator has caught up with what earlier load left on the
 * topic, so a measurement starts on an idle pipeline; gives up after
 * `timeoutSeconds` and says how much was left.
 */
export async function waitForCorrelator(
  stack: Stack,
  timeoutSeconds: number,
): Promise<{ waitedSeconds: number; backlog: number }> {
  const started = performance.now();
  for (;;) {
    const backlog = await correlatorBacklog(stack);
    const waitedSeconds = Math.round((performance.now() - started) / 100) / 10;
    if (backlog === 0 || waitedSeconds >= timeoutSeconds) return { waitedSeconds, backlog };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** How many reports the correlator has stored. */
export async function storedReports(stack: Stack): Promise<number> {
  const pool = createPool(stack.databaseUrl, { max: 1 });
  try {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
    return rows[0]!.n;
  } finally {
    await pool.end();
  }
}
