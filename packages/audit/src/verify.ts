import type { JsonWebKeySet } from '@renkei/auth';
import { withTransaction, type Pool, type PoolClient, type Queryable } from '@renkei/db';
import {
  checkTail,
  classifyBreak,
  describeBreak,
  GENESIS_HASH,
  walkChain,
  type ChainBreak,
  type ChainPosition,
  type SealedEntry,
} from './chain.js';
import { CheckpointInvalid, openCheckpoint, type AuditSigner, type CheckpointPayload } from './checkpoint.js';
import { readHead, SEALED_FIELDS_SQL, utcText } from './sealing.js';

/** Entries read per query of a walk: memory holds one batch, never the log. */
export const WALK_BATCH = 1_000;
/** Entries after a break read to tell a reordering from a change. */
const LOOKAHEAD = 1_000;

export type AuditProblem =
  | ChainBreak
  | {
      kind: 'checkpoint-invalid';
      /** The checkpoint row's id. */
      checkpointId: string;
      upToSeq: string;
      reason: string;
    };

export function describeProblem(problem: AuditProblem): string {
  return problem.kind === 'checkpoint-invalid'
    ? `checkpoint ${problem.checkpointId} (up to seq ${problem.upToSeq}) is not valid: ${problem.reason}`
    : describeBreak(problem);
}

interface WalkOutcome {
  position: ChainPosition;
  checked: number;
  firstSeq: string | null;
  lastId: string | null;
  problem?: ChainBreak;
}

/**
 * Walks the chain after `from` up to sequence `upTo`, a batch per query, and
 * stops at the first break. The caller gives the snapshot (a repeatable-read
 * transaction), so entries a purge removes meanwhile do not read as missing.
 */
async function walkRange(
  db: Queryable,
  from: ChainPosition,
  upTo: string,
  batchSize: number,
): Promise<WalkOutcome> {
  let position = from;
  let checked = 0;
  let firstSeq: string | null = null;
  let lastId: string | null = null;
  for (;;) {
    const { rows } = await db.query<SealedEntry>(
      `SELECT ${SEALED_FIELDS_SQL} FROM audit_events
        WHERE chain_seq > $1 AND chain_seq <= $2 ORDER BY chain_seq LIMIT $3`,
      [position.seq, upTo, batchSize],
    );
    firstSeq ??= rows[0]?.chainSeq ?? null;
    const walked = walkChain(position, rows);
    checked += walked.checked;
    if (walked.checked > 0) lastId = rows[walked.checked - 1]!.id;
    if (walked.problem) {
      let problem = walked.problem;
      const broken = rows[walked.breakIndex!]!;
      if (problem.kind !== 'missing' && rows.length - walked.breakIndex! - 1 < LOOKAHEAD) {
        // The break is near the end of the batch: read on, so a swap with an entry further on shows as one.
        const { rows: following } = await db.query<SealedEntry>(
          `SELECT ${SEALED_FIELDS_SQL} FROM audit_events
            WHERE chain_seq > $1 AND chain_seq <= $2 ORDER BY chain_seq LIMIT $3`,
          [broken.chainSeq, upTo, LOOKAHEAD],
        );
        problem = classifyBreak(walked.position, broken, following);
      }
      return { position: walked.position, checked, firstSeq, lastId, problem };
    }
    position = walked.position;
    if (rows.length < batchSize) return { position, checked, firstSeq, lastId };
  }
}

interface CheckpointRow {
  id: string;
  upToSeq: string;
  chainHash: string;
  jws: string;
}

async function newestCheckpoint(db: Queryable): Promise<CheckpointRow | undefined> {
  const { rows } = await db.query<CheckpointRow>(
    `SELECT id::text AS id, up_to_seq::text AS "upToSeq", chain_hash AS "chainHash", jws
       FROM audit_checkpoints ORDER BY up_to_seq DESC LIMIT 1`,
  );
  return rows[0];
}

export interface AuditVerification {
  intact: boolean;
  /** Entries whose hashes were checked. */
  checked: number;
  firstSeq: string | null;
  lastSeq: string | null;
  /** The checkpoint the walk started from (entries before it were purged), if any. */
  checkpoint: (CheckpointPayload & { id: string }) | null;
  /** The chain's head when the walk began: the walk covers every entry up to it. */
  head: ChainPosition;
  problem: AuditProblem | null;
  /** Entries older than `staleAfterMs` still waiting to be sealed: a sealer is not running. */
  staleUnsealed: { count: number; oldestId: string | null; oldestAt: string | null };
}

export interface VerifyOptions {
  /** The audit key set, read only when a checkpoint must be checked. */
  loadKeys: () => Promise<JsonWebKeySet>;
  batchSize?: number;
  /** Unsealed entries older than this are reported (a warning, not a break). */
  staleAfterMs?: number;
}

/**
 * Walks the audit chain from the start, or from the newest checkpoint (its
 * signature checked) when a purge removed what came before, up to the head,
 * in one consistent snapshot; names the first entry changed, removed or
 * reordered.
 */
export async function verifyAuditChain(pool: Pool, options: VerifyOptions): Promise<AuditVerification> {
  const batchSize = options.batchSize ?? WALK_BATCH;
  const staleAfterMs = options.staleAfterMs ?? 10_000;
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await verifyInSnapshot(client, options, batchSize, staleAfterMs);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(failed);
  }
}

async function verifyInSnapshot(
  db: PoolClient,
  options: VerifyOptions,
  batchSize: number,
  staleAfterMs: number,
): Promise<AuditVerification> {
  const head = (await readHead(db)) ?? { seq: '0', hash: GENESIS_HASH };
  const { rows: stale } = await db.query<{ count: number; oldestId: string | null; oldestAt: string | null }>(
    `SELECT count(*)::int AS count, min(id)::text AS "oldestId", ${utcText('min(at)')} AS "oldestAt"
       FROM audit_events WHERE chain_seq IS NULL AND at < now() - make_interval(secs => $1::double precision / 1000)`,
    [staleAfterMs],
  );
  const report = (
    rest: Pick<AuditVerification, 'checked' | 'firstSeq' | 'lastSeq' | 'checkpoint' | 'problem'>,
  ): AuditVerification => ({ ...rest, intact: rest.problem === null, head, staleUnsealed: stale[0]! });

  let start: ChainPosition = { seq: '0', hash: GENESIS_HASH };
  let checkpoint: AuditVerification['checkpoint'] = null;
  const row = await newestCheckpoint(db);
  if (row) {
    const invalid = (reason: string) =>
      report({
        checked: 0,
        firstSeq: null,
        lastSeq: null,
        checkpoint: null,
        problem: { kind: 'checkpoint-invalid', checkpointId: row.id, upToSeq: row.upToSeq, reason },
      });
    let payload: CheckpointPayload;
    try {
      payload = await openCheckpoint(row.jws, await options.loadKeys());
    } catch (error) {
      if (error instanceof CheckpointInvalid) return invalid(error.message);
      throw error;
    }
    if (payload.upToSeq !== row.upToSeq || payload.chainHash !== row.chainHash) {
      return invalid('its columns differ from what it signed');
    }
    checkpoint = { ...payload, id: row.id };
    start = { seq: payload.upToSeq, hash: payload.chainHash };
  }

  const walked = await walkRange(db, start, head.seq, batchSize);
  const lastSeq = walked.checked > 0 ? walked.position.seq : null;
  const base = { checked: walked.checked, firstSeq: walked.firstSeq, lastSeq, checkpoint };
  if (walked.problem) return report({ ...base, problem: walked.problem });
  const tail = checkTail(walked.position, head, walked.lastId);
  if (tail) return report({ ...base, problem: tail });
  // Entries placed beyond the head read at the start of this snapshot were not sealed by a sealer.
  const { rows: beyond } = await db.query<{ id: string; seq: string }>(
    `SELECT id::text AS id, chain_seq::text AS seq FROM audit_events WHERE chain_seq > $1 ORDER BY chain_seq LIMIT 1`,
    [head.seq],
  );
  if (beyond[0]) {
    return report({ ...base, problem: { kind: 'head-mismatch', id: beyond[0].id, seq: beyond[0].seq } });
  }
  return report({ ...base, problem: null });
}

export class AuditChainBroken extends Error {
  override readonly name = 'AuditChainBroken';
  constructor(readonly problem: ChainBreak) {
    super(`the audit chain is broken, so nothing was purged: ${describeBreak(problem)}`);
  }
}

export interface PurgeResult {
  /** Entries removed. */
  removed: number;
  /** The checkpoint written, or null when nothing was old enough (or sealed yet) to remove. */
  checkpoint: CheckpointPayload | null;
}

/**
 * Removes the sealed audit entries older than `cutoff` that form a prefix of
 * the chain (it stops at the first entry at or after `cutoff`, so an entry
 * whose transaction committed late stays until everything before it goes),
 * and writes a signed checkpoint naming the last one removed and its hash, in
 * one transaction: `renkei audit verify` then starts from the checkpoint.
 * The entries are checked before they go, so a purge never signs over a
 * chain someone broke: it throws `AuditChainBroken` and removes nothing.
 * Entries not yet sealed are kept, whatever their age.
 */
export async function purgeAuditBefore(
  pool: Pool,
  cutoff: Date,
  signer: AuditSigner,
  options: { batchSize?: number } = {},
): Promise<PurgeResult> {
  const batchSize = options.batchSize ?? 5_000;
  return withTransaction(pool, async (db) => {
    // The head row lock keeps sealers (which skip a held head) and other purges out until this commits.
    const head = (await readHead(db, 'FOR UPDATE')) ?? { seq: '0', hash: GENESIS_HASH };
    const previous = await newestCheckpoint(db);
    const from: ChainPosition = previous
      ? { seq: previous.upToSeq, hash: previous.chainHash }
      : { seq: '0', hash: GENESIS_HASH };
    const { rows: kept } = await db.query<{ seq: string }>(
      `SELECT chain_seq::text AS seq FROM audit_events
        WHERE chain_seq > $1 AND chain_seq <= $2 AND at >= $3 ORDER BY chain_seq LIMIT 1`,
      [from.seq, head.seq, cutoff.toISOString()],
    );
    const upTo = kept[0] ? (BigInt(kept[0].seq) - 1n).toString() : head.seq;
    if (BigInt(upTo) <= BigInt(from.seq)) return { removed: 0, checkpoint: null };

    const walked = await walkRange(db, from, upTo, WALK_BATCH);
    if (walked.problem) throw new AuditChainBroken(walked.problem);
    const short = checkTail(walked.position, { seq: upTo, hash: walked.position.hash }, walked.lastId);
    if (short) throw new AuditChainBroken(short);

    const { rows: span } = await db.query<{ oldestAt: string | null; newestAt: string | null }>(
      `SELECT ${utcText('min(at)')} AS "oldestAt", ${utcText('max(at)')} AS "newestAt" FROM audit_events WHERE chain_seq > $1 AND chain_seq <= $2`,
      [from.seq, upTo],
    );
    const payload: CheckpointPayload = {
      upToSeq: upTo,
      chainHash: walked.position.hash,
      removed: walked.checked,
      previousUpToSeq: from.seq,
      oldestAt: span[0]?.oldestAt ?? null,
      newestAt: span[0]?.newestAt ?? null,
      createdAt: new Date().toISOString(),
    };
    const jws = await signer.sign(payload);
    await db.query(
      `INSERT INTO audit_checkpoints (up_to_seq, chain_hash, removed, oldest_at, newest_at, created_at, jws)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        payload.upToSeq,
        payload.chainHash,
        payload.removed,
        payload.oldestAt,
        payload.newestAt,
        payload.createdAt,
        jws,
      ],
    );
    // Sequences are dense, so ranges of them bound each statement.
    let removed = 0;
    for (let low = BigInt(from.seq); low < BigInt(upTo); low += BigInt(batchSize)) {
      const high = low + BigInt(batchSize) < BigInt(upTo) ? low + BigInt(batchSize) : BigInt(upTo);
      const deleted = await db.query('DELETE FROM audit_events WHERE chain_seq > $1 AND chain_seq <= $2', [
        low.toString(),
        high.toString(),
      ]);
      removed += deleted.rowCount ?? 0;
    }
    if (removed !== walked.checked) {
      throw new Error(`purge removed ${removed} audit entries where it checked ${walked.checked}`);
    }
    return { removed, checkpoint: payload };
  });
}
