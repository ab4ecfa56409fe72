import {
  checkRetentionEnv,
  DAY_MS,
  HOUR_MS,
  readRetentionStatus,
  retentionEnv,
  retentionSettings,
  type ClassStatus,
} from '@renkei/retention';
import { feedEnv, parseEnv } from '@renkei/schema';
import { withRegistry } from './registry-access.js';
import { UsageError } from './usage.js';

export const RETENTION_USAGE = `  retention status
        per data class: how long it is kept, its oldest row, the rows due for purge and the last pass
        (DATABASE_URL; the setting is the one the hub's last pass ran with, else this environment's)`;

const statusEnv = retentionEnv.extend(feedEnv.shape).superRefine(checkRetentionEnv);

/** `renkei retention …`: what the hub keeps and what its purge did, from the database. */
export async function retentionCommand(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<string> {
  const [action] = args;
  if (action !== 'status') {
    throw new UsageError(`retention: unknown action ${JSON.stringify(action ?? '')}\n\n${RETENTION_USAGE}`);
  }
  const settings = retentionSettings(parseEnv(statusEnv, env));
  return withRegistry(env, async (pool) =>
    formatStatus(await readRetentionStatus(pool, settings, Date.now())),
  );
}

function formatKeep(ms: number): string {
  return ms % DAY_MS === 0 ? `${ms / DAY_MS} days` : `${Math.round((ms / HOUR_MS) * 100) / 100} hours`;
}

function formatLastRun(status: ClassStatus): string {
  const run = status.lastRun;
  if (!run) return 'never';
  // The audit log's passes are its signed checkpoints (renkei audit verify starts from the newest).
  if (status.class === 'audit') return `${run.finishedAt} (checkpoint, removed ${run.purged})`;
  return run.finishedAt
    ? `${run.finishedAt} (removed ${run.purged})`
    : `${run.startedAt} (stopped halfway, removed ${run.purged})`;
}

export function formatStatus(statuses: readonly ClassStatus[]): string {
  const rows = [
    ['class', 'keep', 'oldest', 'due', 'last pass'],
    ...statuses.map((status) => [
      status.class,
      formatKeep(status.keepMs),
      status.oldest ?? '-',
      String(status.due),
      formatLastRun(status),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
    )
    .join('\n');
}
