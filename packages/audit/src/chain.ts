import { createHash } from 'node:crypto';

/**
 * The fields of one audit entry that its chain hash covers, as the hub reads
 * them back: `at` with all six digits PostgreSQL keeps (a millisecond string
 * would let a change of microseconds pass), ids and sequences as decimal
 * strings (a bigint must not be rounded by a JavaScript number).
 */
export interface ChainFields {
  id: string;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, UTC. */
  at: string;
  kind: string;
  actor: string | null;
  organisationId: string | null;
  object: string | null;
  outcome: string;
  details: unknown;
}

/** An entry with its place in the chain. */
export interface SealedEntry extends ChainFields {
  chainSeq: string;
  chainHash: string;
}

/** The hash before the first entry of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Names the encoding, so a later one can never produce the same bytes for other fields. */
const ENCODING = 'renkei-audit/1';

/**
 * JSON with object keys sorted by UTF-16 code unit and no spaces, so the same
 * value always gives the same bytes. `JSON.stringify` alone would not do:
 * object keys come out in insertion order, except integer-like keys, which
 * JavaScript always puts first.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined, functions and symbols have no JSON form; a details object read from jsonb never holds them.
    if (text === undefined) throw new TypeError(`no canonical JSON for ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** What the hash covers for one entry at one place: every field, and the place itself. */
export function chainInput(entry: ChainFields, chainSeq: string): string {
  return canonicalJson([
    ENCODING,
    entry.id,
    entry.at,
    entry.kind,
    entry.actor,
    entry.organisationId,
    entry.object,
    entry.outcome,
    entry.details,
    chainSeq,
  ]);
}

/** `sha256(previous hash, 32 bytes || the entry's canonical encoding)`, in hex. */
export function chainHash(previousHash: string, entry: ChainFields, chainSeq: string): string {
  return createHash('sha256')
    .update(Buffer.from(previousHash, 'hex'))
    .update(chainInput(entry, chainSeq), 'utf8')
    .digest('hex');
}

/** Where a chain stands: the last sequence accepted and its hash. */
export interface ChainPosition {
  seq: string;
  hash: string;
}

/**
 * Seals entries in the order given, after `position`: each gets the next
 * sequence and its hash. Returns them and the new position.
 */
export function sealEntries(
  position: ChainPosition,
  entries: readonly ChainFields[],
): { sealed: SealedEntry[]; position: ChainPosition } {
  let seq = BigInt(position.seq);
  let hash = position.hash;
  const sealed = entries.map((entry) => {
    seq += 1n;
    hash = chainHash(hash, entry, seq.toString());
    return { ...entry, chainSeq: seq.toString(), chainHash: hash };
  });
  return { sealed, position: { seq: seq.toString(), hash } };
}

/** The first thing wrong with a chain, naming the entry. */
export type ChainBreak =
  | {
      kind: 'changed';
      /** The entry whose fields (or stored hash) no longer give its hash. */
      id: string;
      seq: string;
    }
  | {
      kind: 'missing';
      /** The sequences no entry holds any more: `fromSeq` to `toSeq`, both included. */
      fromSeq: string;
      toSeq: string;
      /** The entry after the gap, or null when the gap runs to the chain's head. */
      nextId: string | null;
    }
  | {
      kind: 'reordered';
      /** The entry found at `seq`, which does not belong there. */
      id: string;
      seq: string;
      /** The entry that belongs at `seq`, found later in the chain at `foundAtSeq`. */
      belongingId: string;
      foundAtSeq: string;
    }
  | {
      kind: 'head-mismatch';
      /** The last entry walked holds the head's sequence but not its hash: entries were rewritten and re-hashed. */
      id: string | null;
      seq: string;
    };

/** One line for people, naming the entry. */
export function describeBreak(problem: ChainBreak): string {
  switch (problem.kind) {
    case 'changed':
      return `entry ${problem.id} (seq ${problem.seq}) was changed: its fields no longer give its chain hash`;
    case 'missing':
      return (
        `${problem.fromSeq === problem.toSeq ? `the entry at seq ${problem.fromSeq} is` : `entries seq ${problem.fromSeq} to ${problem.toSeq} are`} ` +
        `missing (removed)` +
        (problem.nextId === null
          ? ': the chain ends before its recorded head'
          : `; the chain resumes at entry ${problem.nextId}`)
      );
    case 'reordered':
      return (
        `entry ${problem.id} (seq ${problem.seq}) is out of order: ` +
        `seq ${problem.seq} belongs to entry ${problem.belongingId}, found at seq ${problem.foundAtSeq}`
      );
    case 'head-mismatch':
      return (
        `the chain's recorded head (seq ${problem.seq}) does not match ` +
        `${problem.id === null ? 'the checkpoint it starts from' : `entry ${problem.id}`}: the chain or its head was rewritten`
      );
  }
}

export interface WalkResult {
  position: ChainPosition;
  /** Entries accepted, in this call. */
  checked: number;
  /** The first break, at `rows[breakIndex]`; the walk stops there. */
  problem?: ChainBreak;
  breakIndex?: number;
}

/**
 * Checks entries in `chain_seq` order against the position before them. A walk
 * over the whole log calls this once per batch with the position the last
 * call returned, so memory holds one batch. The rows after a break in the
 * same call tell a reordering from a change (see `classifyBreak`); a walker
 * that stopped near the end of a batch may pass more with `lookahead`.
 */
export function walkChain(
  position: ChainPosition,
  rows: readonly SealedEntry[],
  lookahead: readonly SealedEntry[] = [],
): WalkResult {
  let current = position;
  for (const [index, row] of rows.entries()) {
    const expected = (BigInt(current.seq) + 1n).toString();
    if (BigInt(row.chainSeq) !== BigInt(expected)) {
      return {
        position: current,
        checked: index,
        problem: {
          kind: 'missing',
          fromSeq: expected,
          toSeq: (BigInt(row.chainSeq) - 1n).toString(),
          nextId: row.id,
        },
        breakIndex: index,
      };
    }
    if (chainHash(current.hash, row, expected) !== row.chainHash) {
      return {
        position: current,
        checked: index,
        problem: classifyBreak(current, row, [...rows.slice(index + 1), ...lookahead]),
        breakIndex: index,
      };
    }
    current = { seq: row.chainSeq, hash: row.chainHash };
  }
  return { position: current, checked: rows.length };
}

/**
 * Why `row` does not follow `position`: reordered when a later entry is the
 * one whose hash belongs at this place (its fields, hashed here, give the
 * hash stored here or its own stored hash: rows or their places swapped);
 * otherwise changed. Without the later rows a reordering reads as a change;
 * either way the entry named is the first one wrong.
 */
export function classifyBreak(
  position: ChainPosition,
  row: SealedEntry,
  following: readonly SealedEntry[],
): ChainBreak {
  const seq = (BigInt(position.seq) + 1n).toString();
  for (const candidate of following) {
    const hashHere = chainHash(position.hash, candidate, seq);
    if (hashHere === row.chainHash || hashHere === candidate.chainHash) {
      return {
        kind: 'reordered',
        id: row.id,
        seq,
        belongingId: candidate.id,
        foundAtSeq: candidate.chainSeq,
      };
    }
  }
  return { kind: 'changed', id: row.id, seq };
}

/**
 * After a walk: the chain's recorded head says how far it was sealed. A head
 * beyond the last entry walked means the newest entries were removed; the
 * same sequence with another hash, that the chain was recomputed. A head
 * behind the walk cannot happen (the walk stops at the head it read first).
 * This catches removals made with SQL alone: whoever also rewrites the head
 * row is caught only by a copy kept outside the database (an export).
 */
export function checkTail(
  position: ChainPosition,
  head: ChainPosition,
  lastId: string | null,
): ChainBreak | undefined {
  const last = BigInt(position.seq);
  const recorded = BigInt(head.seq);
  if (recorded === last && head.hash !== position.hash) {
    return { kind: 'head-mismatch', id: lastId, seq: head.seq };
  }
  if (recorded > last) {
    return {
      kind: 'missing',
      fromSeq: (last + 1n).toString(),
      toSeq: head.seq,
      nextId: null,
    };
  }
  return undefined;
}
