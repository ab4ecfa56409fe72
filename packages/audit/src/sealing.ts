import { isDatabaseUnavailable, withTransaction, type Pool, type Queryable } from '@renkei/db';
import type { Logger } from '@renkei/runtime';
import { sealEntries, type ChainFields, type ChainPosition, type SealedEntry } from './chain.js';

/** A timestamptz expression as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, whatever the pool's type parsers. */
export function utcText(expression: string): string {
  return `to_char((${expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * The fields the chain covers, as text PostgreSQL gives exactly: `at` with its
 * microseconds (the pool's own parser would cut them to milliseconds).
 */
export const CHAIN_FIELDS_SQL = `id::text AS id, ${utcText('at')} AS at,
  kind, actor, organisation_id AS "organisationId", object, outcome, details`;

// Order by `audit_events.id`, never `id`: that names the text column above, and "10" sorts before "9".
export const SEALED_FIELDS_SQL = `${CHAIN_FIELDS_SQL}, chain_seq::text AS "chainSeq", chain_hash AS "chainHash"`;

/** How many entries one sealing transaction takes. */
export const SEAL_BATCH = 1_000;

export async function readHead(
  db: Queryable,
  lock: '' | 'FOR UPDATE' | 'FOR UPDATE SKIP LOCKED' = '',
): Promise<ChainPosition | undefined> {
  const { rows } = await db.query<ChainPosition>(
    `SELECT last_seq::text AS seq, last_hash AS hash FROM audit_chain_head ${lock}`,
  );
  return rows[0];
}

/**
 * Seals the entries not yet in the chain, oldest id first, a batch per
 * transaction, until none is left; returns how many. Writers never wait for
 * this: a sealer holds the chain's head row, so sealers run one at a time, and
 * one that finds it held leaves the round to the holder (`SKIP LOCKED`). An
 * entry whose transaction commits after a later id was sealed is simply
 * sealed in a later round, with a later sequence.
 */
export async function sealAuditChain(pool: Pool, batchSize = SEAL_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const sealed = await withTransaction(pool, async (db) => {
      const head = await readHead(db, 'FOR UPDATE SKIP LOCKED');
      if (!head) return 0;
      const { rows } = await db.query<ChainFields>(
        `SELECT ${CHAIN_FIELDS_SQL} FROM audit_events WHERE chain_seq IS NULL ORDER BY audit_events.id LIMIT $1`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      const { sealed, position } = sealEntries(head, rows);
      // The id range lets the planner walk the unsealed index instead of hashing the whole table.
      const updated = await db.query(
        `UPDATE audit_events AS e SET chain_seq = s.seq, chain_hash = s.hash
           FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS s(id, seq, hash)
          WHERE e.id = s.id AND e.chain_seq IS NULL AND e.id BETWEEN $4 AND $5`,
        [
          sealed.map((e) => e.id),
          sealed.map((e) => e.chainSeq),
          sealed.map((e) => e.chainHash),
          rows[0]!.id,
          rows.at(-1)!.id,
        ],
      );
      if (updated.rowCount !== sealed.length) {
        // Only a sealer that does not hold the head could cause this; nothing of the round is kept.
        throw new Error(`sealed ${updated.rowCount ?? 0} audit entries of ${sealed.length}`);
      }
      await db.query('UPDATE audit_chain_head SET last_seq = $1, last_hash = $2', [
        position.seq,
        position.hash,
      ]);
      return sealed.length;
    });
    total += sealed;
    if (sealed < batchSize) return total;
  }
}

export interface AuditSealerOptions {
  pool: Pool;
  logger: Logger;
  /** Pause between rounds. */
  everyMs: number;
  batchSize?: number;
}

export interface AuditSealer {
  /** Runs a round now (after the one in progress, if any); resolves with how many entries it sealed. */
  sealNow(): Promise<number>;
  /** Stops the rounds and seals once more, so entries written until now are in the chain. */
  close(): Promise<void>;
}

/**
 * Seals the audit log every `everyMs` in the background. A failed round (say,
 * PostgreSQL away) is logged once per outage and tried again next time: the
 * entries wait, unsealed, and lose nothing.
 */
export function startAuditSealer(options: AuditSealerOptions): AuditSealer {
  const { pool, logger } = options;
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> = Promise.resolve(0);

  const round = (): Promise<number> => {
    running = running
      .catch(() => 0)
      .then(() => sealAuditChain(pool, options.batchSize))
      .then(
        (sealed) => {
          if (failing) logger.info('audit sealing works again');
          failing = false;
          return sealed;
        },
        (error: unknown) => {
          if (!failing) {
            logger.warn(
              { err: error, databaseUnavailable: isDatabaseUnavailable(error) },
              'could not seal the audit log; trying again',
            );
          }
          failing = true;
          throw error;
        },
      );
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void round()
        .catch(() => undefined)
        .finally(schedule);
    }, options.everyMs);
    timer.unref();
  };
  schedule();

  return {
    sealNow: round,
    async close() {
      stopped = true;
      clearTimeout(timer);
      await round().catch(() => undefined);
    },
  };
}

/** An entry with its place, or without one while it waits to be sealed. */
export type ExportedEntry = ChainFields & { chainSeq: string | null; chainHash: string | null };

export interface ExportRange {
  /** At or after this time. */
  since?: string | undefined;
  /** Before this time. */
  until?: string | undefined;
  pageSize?: number;
}

/**
 * The entries in a time range, a page at a time: those sealed when the export
 * began in chain order, then the rest (waiting to be sealed, or sealed since)
 * in id order, so an entry sealed while the export runs is neither lost nor
 * sent twice. Each page is one query by key: no connection or snapshot is
 * held between pages, however slowly the reader takes them.
 */
export async function* readAuditExport(db: Queryable, range: ExportRange): AsyncGenerator<ExportedEntry[]> {
  const pageSize = range.pageSize ?? 1_000;
  const head = (await readHead(db))?.seq ?? '0';
  const window = `($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)`;
  const bounds = [range.since ?? null, range.until ?? null, pageSize, head];
  let afterSeq = '0';
  for (;;) {
    const { rows } = await db.query<SealedEntry>(
      `SELECT ${SEALED_FIELDS_SQL} FROM audit_events
        WHERE chain_seq > $1 AND chain_seq <= $5 AND ${window} ORDER BY chain_seq LIMIT $4`,
      [afterSeq, ...bounds],
    );
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) break;
    afterSeq = rows.at(-1)!.chainSeq;
  }
  let afterId = '0';
  for (;;) {
    const { rows } = await db.query<ExportedEntry>(
      `SELECT ${SEALED_FIELDS_SQL} FROM audit_events
        WHERE (chain_seq IS NULL OR chain_seq > $5) AND id > $1 AND ${window} ORDER BY audit_events.id LIMIT $4`,
      [afterId, ...bounds],
    );
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) break;
    afterId = rows.at(-1)!.id;
  }
}
