import { z } from 'zod';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/**
 * The data classes retention knows, each with its own setting. `exercises`
 * holds a run and everything an exercise made (its reports, alerts and
 * warnings): exercise data is never mixed with real traffic, and goes with it.
 */
export const RETENTION_CLASSES = ['reports', 'alerts', 'exercises', 'feed-events', 'audit'] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];

const days = (fallback: number) => z.coerce.number().min(1).max(36_500).default(fallback);

/**
 * How long each class is kept, from the environment. The defaults follow a
 * records rule a ministry would accept: incident records (reports, alerts)
 * five years, exercises three years from the end of the run, the audit log
 * ten (always the longest: it is what shows the rest was kept and removed
 * by the rules). Feed events are kept as long as `FEED_RETENTION_HOURS`
 * says, which is also how far back a client may resume the live stream (one
 * setting: the resume window and the feed's retention are the same thing).
 */
export const retentionEnv = z.object({
  RETENTION_REPORTS_DAYS: days(1_827),
  /** From the alert's close (resolved or false positive) and last change, whichever is later. */
  RETENTION_ALERTS_DAYS: days(1_827),
  /** From the end of the run (completed or aborted). */
  RETENTION_EXERCISES_DAYS: days(1_096),
  RETENTION_AUDIT_DAYS: days(3_653),
  /** How often a purge pass runs (one process of the hub at a time). */
  RETENTION_PURGE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(7 * DAY_MS)
    .default(HOUR_MS),
  /** Rows per purge transaction: each batch is one short transaction, so locks are held briefly. */
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
});

export interface RetentionSettings {
  /** How long each class is kept, in milliseconds. */
  keepMs: Record<RetentionClass, number>;
  purgeIntervalMs: number;
  batchSize: number;
}

type RetentionEnv = z.output<typeof retentionEnv> & { FEED_RETENTION_HOURS: number };

export function retentionSettings(env: RetentionEnv): RetentionSettings {
  return {
    keepMs: {
      reports: Math.round(env.RETENTION_REPORTS_DAYS * DAY_MS),
      alerts: Math.round(env.RETENTION_ALERTS_DAYS * DAY_MS),
      exercises: Math.round(env.RETENTION_EXERCISES_DAYS * DAY_MS),
      'feed-events': Math.round(env.FEED_RETENTION_HOURS * HOUR_MS),
      audit: Math.round(env.RETENTION_AUDIT_DAYS * DAY_MS),
    },
    purgeIntervalMs: env.RETENTION_PURGE_INTERVAL_MS,
    batchSize: env.RETENTION_BATCH_SIZE,
  };
}

/**
 * What one setting cannot say alone: the audit log is kept longest, so every
 * removal it records stays provable for as long as anything removed could
 * be asked about. Add to a config schema with `.superRefine`.
 */
export function checkRetentionEnv(env: RetentionEnv, ctx: z.RefinementCtx): void {
  const auditMs = env.RETENTION_AUDIT_DAYS * DAY_MS;
  const others: [string, number][] = [
    ['RETENTION_REPORTS_DAYS', env.RETENTION_REPORTS_DAYS * DAY_MS],
    ['RETENTION_ALERTS_DAYS', env.RETENTION_ALERTS_DAYS * DAY_MS],
    ['RETENTION_EXERCISES_DAYS', env.RETENTION_EXERCISES_DAYS * DAY_MS],
    ['FEED_RETENTION_HOURS', env.FEED_RETENTION_HOURS * HOUR_MS],
  ];
  for (const [name, ms] of others) {
    if (ms > auditMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['RETENTION_AUDIT_DAYS'],
        message: `must be at least ${name} (the audit log is kept longest)`,
      });
    }
  }
}
