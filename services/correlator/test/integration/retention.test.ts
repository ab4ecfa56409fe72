import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicNames } from '@renkei/bus';
import { createLogger } from '@renkei/runtime';
import {
  createMigratedTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  testKafka,
  type TestDatabase,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadCorrelatorConfig } from '../../src/config.js';
import { startCorrelator } from '../../src/service.js';

const DAY = 86_400_000;

/**
 * The purge as the correlator runs it: on its schedule, under the locks of
 * correlation, counted in /metrics, and with the topics' retention set from
 * the same settings.
 */
describe('the correlator running the retention purge', () => {
  const logger = createLogger('correlator-retention-test', 'silent');
  const prefix = randomTopicPrefix();
  let database: TestDatabase;
  let correlator: Awaited<ReturnType<typeof startCorrelator>> | undefined;

  async function report(daysAgo: number): Promise<string> {
    const id = randomUUID();
    const at = new Date(Date.now() - daysAgo * DAY);
    await database.pool.query(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                            received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
       VALUES ($1, 'org-a', 'finance', 'alice', 't', 'phishing', 'high', 'GREEN', $2, $2, false, 'x', 't', 0, 0)`,
      [id, at],
    );
    await database.pool.query(
      `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
       VALUES ($1, 'domain', $2, false, $3, true)`,
      [id, `${id}.example`, at],
    );
    return id;
  }

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
  });

  afterAll(async () => {
    await correlator?.close();
    await database?.drop();
    await deleteTopicsWithPrefix(prefix);
  });

  it('removes an expired report on schedule, audits it, counts it and sets the topics retention', async () => {
    await report(3);
    const kept = await report(0.5);
    correlator = await startCorrelator(
      loadCorrelatorConfig({
        DATABASE_URL: database.url,
        ...(await sharedKafkaEnv(prefix)),
        CORRELATOR_PORT: '0',
        CORRELATOR_SESSION_TIMEOUT_MS: '6000',
        FEED_RETENTION_HOURS: '24',
        RETENTION_REPORTS_DAYS: '2',
        RETENTION_ALERTS_DAYS: '2',
        RETENTION_EXERCISES_DAYS: '2',
        RETENTION_AUDIT_DAYS: '3',
        RETENTION_PURGE_INTERVAL_MS: '1000',
      }),
      logger,
    );

    await eventually(
      async () => {
        const { rows } = await database.pool.query<{ id: string }>(`SELECT id FROM reports`);
        expect(rows.map((row) => row.id)).toEqual([kept]);
      },
      { timeoutMs: 30_000 },
    );
    const { rows: sightings } = await database.pool.query<{ report_id: string }>(
      `SELECT report_id FROM sightings`,
    );
    expect(sightings.map((row) => row.report_id)).toEqual([kept]);
    // The entry is written once the class is done, just after its last batch commits.
    await eventually(async () => {
      const { rows: audit } = await database.pool.query<{ object: string; details: { count: number } }>(
        `SELECT object, details FROM audit_events WHERE kind = 'retention.purged'`,
      );
      expect(audit).toEqual([
        { object: 'reports', details: expect.objectContaining({ class: 'reports', count: 1 }) },
      ]);
    });

    await eventually(async () => {
      const text = await (await fetch(`${correlator!.metricsUrl}/metrics`)).text();
      expect(text).toMatch(/renkei_retention_rows_purged_total\{[^}]*class="reports"[^}]*\} 1/);
      expect(text).toMatch(/renkei_retention_last_run_timestamp_seconds\{[^}]*\} [1-9]/);
      expect(text).toMatch(/renkei_retention_oldest_row_age_seconds\{[^}]*class="reports"[^}]*\} [1-9]/);
    });

    const admin = testKafka().admin();
    await admin.connect();
    try {
      const names = topicNames(prefix);
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [names.reports, names.feed, names.alerts, names.reportsDeadLetter].map((name) => ({
          type: 2,
          name,
          configNames: ['retention.ms'],
        })),
      });
      const retention = Object.fromEntries(
        resources.map((resource) => [resource.resourceName, resource.configEntries[0]!.configValue]),
      );
      expect(retention).toEqual({
        [names.reports]: String(2 * DAY),
        [names.reportsDeadLetter]: String(2 * DAY),
        [names.feed]: String(DAY),
        [names.alerts]: String(DAY),
      });
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
