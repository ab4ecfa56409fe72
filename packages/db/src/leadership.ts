import pg from 'pg';
import type { Logger } from '@renkei/runtime';
import { HUB_TYPE_PARSERS } from './pool.js';

export interface AdvisoryLeadershipOptions {
  /** The lock is held on a connection of its own, outside any pool. */
  databaseUrl: string;
  /** Any fixed number, the same in every process that competes for this role. */
  lockKey: number;
  applicationName: string;
  logger: Logger;
  /** Told when leadership is lost with its connection, and on every notification of `listen`. */
  onChange: () => void;
  /** A channel the leader LISTENs on, on the lock's connection. */
  listen?: string;
}

export interface AdvisoryLeadership {
  isLeading(): boolean;
  /** Tries once to take the lock (an unreachable server fails the attempt); true while leading. */
  tryToLead(): Promise<boolean>;
  /** After a failed round: steps down when the lock's connection no longer answers. */
  stepDownIfLost(): Promise<void>;
  stepDown(): Promise<void>;
}

/**
 * One leader among the processes of a hub: the one holding a session
 * advisory lock. The lock goes with its connection, so a process that dies
 * (even by SIGKILL) lets another lead at its next attempt.
 */
export function advisoryLeadership(options: AdvisoryLeadershipOptions): AdvisoryLeadership {
  let leading = false;
  let lockClient: pg.Client | undefined;

  const stepDown = async () => {
    leading = false;
    const client = lockClient;
    lockClient = undefined;
    await client?.end().catch(() => undefined);
  };

  return {
    isLeading: () => leading,
    async tryToLead() {
      if (leading) return true;
      const client = new pg.Client({
        connectionString: options.databaseUrl,
        application_name: options.applicationName,
        types: HUB_TYPE_PARSERS,
        connectionTimeoutMillis: 5_000,
      });
      client.on('error', (error) => {
        if (leading) options.logger.warn({ err: error }, 'lost the leader connection: stepping down');
        leading = false;
        options.onChange();
      });
      try {
        await client.connect();
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1) AS locked',
          [options.lockKey],
        );
        if (!rows[0]!.locked) {
          await client.end();
          return false;
        }
        if (options.listen) {
          client.on('notification', options.onChange);
          await client.query(`LISTEN ${options.listen}`);
        }
        lockClient = client;
        leading = true;
        return true;
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
    },
    async stepDownIfLost() {
      if (!leading || !lockClient) return;
      const alive = await lockClient.query('SELECT 1').then(
        () => true,
        () => false,
      );
      if (!alive) await stepDown();
    },
    stepDown,
  };
}
