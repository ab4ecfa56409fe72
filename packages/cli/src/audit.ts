import { parseArgs } from 'node:util';
import {
  auditKeyFilesIn,
  describeProblem,
  readAuditKeySet,
  verifyAuditChain,
  type AuditVerification,
} from '@renkei/audit';
import { createPool, isDatabaseUnavailable } from '@renkei/db';
import { stateDirectory } from '@renkei/runtime';
import { databaseEnv, parseEnv } from '@renkei/schema';
import { CommandFailure } from './interop.js';
import { UsageError } from './usage.js';

export const AUDIT_USAGE = `  audit verify [--keys FILE] [--stale-after-seconds N]
        walk the audit log's hash chain (DATABASE_URL) and name the first entry changed, removed or
        reordered; exit 0 intact, 1 broken, 3 could not check (see docs/OPERATIONS.md)`;

/** The chain is broken: exit 1, naming the first bad entry. */
export class AuditChainFailure extends CommandFailure {}

/** The chain could not be checked (no database, no audit key set): exit 3, so it is never read as intact or broken. */
export class CannotVerify extends Error {
  override readonly name = 'CannotVerify';
}

/** `renkei audit verify`. */
export async function auditCommand(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const [action, ...rest] = args;
  if (action !== 'verify') {
    throw new UsageError(`audit: unknown action ${JSON.stringify(action ?? '')}\n\n${AUDIT_USAGE}`);
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { keys: { type: 'string' }, 'stale-after-seconds': { type: 'string', default: '10' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${AUDIT_USAGE}`);
  }
  const staleAfterSeconds = Number(values['stale-after-seconds']);
  if (!Number.isInteger(staleAfterSeconds) || staleAfterSeconds < 1) {
    throw new UsageError('--stale-after-seconds: must be a whole number of seconds, at least 1');
  }
  const keysFile = values.keys ?? auditKeyFilesIn(stateDirectory(env)).publicKeySet;
  const { DATABASE_URL } = parseEnv(databaseEnv, env);
  const pool = createPool(DATABASE_URL, { max: 1, applicationName: 'renkei-cli-audit' });
  let result: AuditVerification;
  try {
    result = await verifyAuditChain(pool, {
      staleAfterMs: staleAfterSeconds * 1000,
      loadKeys: async () => {
        try {
          return await readAuditKeySet(keysFile);
        } catch (error) {
          throw new CannotVerify(
            `the log starts from a signed checkpoint, and the audit key set could not be read (${(error as Error).message}); give it with --keys`,
            { cause: error },
          );
        }
      },
    });
  } catch (error) {
    if (error instanceof CannotVerify) throw error;
    const code = (error as { code?: string }).code;
    if (isDatabaseUnavailable(error) || code === 'ECONNREFUSED' || code === '3D000') {
      throw new CannotVerify(`could not read the audit log: ${(error as Error).message}`, { cause: error });
    }
    // 42P01 / 42703: the table or the chain's columns are missing.
    if (code === '42P01' || code === '42703') {
      throw new CannotVerify(
        `the database has no audit chain yet (${(error as Error).message}): run "renkei migrate"`,
        {
          cause: error,
        },
      );
    }
    throw error;
  } finally {
    await pool.end();
  }
  const summary = formatVerification(result);
  if (!result.intact) throw new AuditChainFailure(summary);
  return summary;
}

/** What `renkei audit verify` says: the verdict first, then what was walked, then warnings. */
export function formatVerification(result: AuditVerification): string {
  const lines = [
    result.problem
      ? `audit chain BROKEN: ${describeProblem(result.problem)}`
      : `audit chain intact up to its head (seq ${result.head.seq})`,
    `${result.checked} ${result.checked === 1 ? 'entry' : 'entries'} checked` +
      (result.firstSeq === null
        ? ''
        : `, seq ${result.firstSeq} to ${result.lastSeq ?? result.firstSeq}${result.problem ? ' before the break' : ''}`),
    result.checkpoint
      ? `started from checkpoint ${result.checkpoint.id}: entries up to seq ${result.checkpoint.upToSeq} were purged ` +
        `(signature valid; the last purge removed ${result.checkpoint.removed}, ` +
        `${result.checkpoint.oldestAt ?? '?'} to ${result.checkpoint.newestAt ?? '?'}, on ${result.checkpoint.createdAt})`
      : 'started from the first entry (no checkpoint)',
  ];
  const stale = result.staleUnsealed;
  if (stale.count > 0) {
    lines.push(
      `warning: ${stale.count} ${stale.count === 1 ? 'entry is' : 'entries are'} not sealed yet, the oldest ` +
        `${stale.oldestId} at ${stale.oldestAt}: is a gateway (which seals the log every second) running?`,
    );
  }
  return lines.join('\n');
}
