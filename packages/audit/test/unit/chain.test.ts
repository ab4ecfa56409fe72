import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  chainHash,
  chainInput,
  checkTail,
  classifyBreak,
  describeBreak,
  GENESIS_HASH,
  sealEntries,
  walkChain,
  type ChainFields,
  type SealedEntry,
} from '../../src/index.js';

function entry(id: number, details: Record<string, unknown> = {}): ChainFields {
  return {
    id: String(id),
    at: `2026-12-07T10:00:${String(id % 60).padStart(2, '0')}.123456Z`,
    kind: 'report.submitted',
    actor: `user-${id}`,
    organisationId: 'acme-bank',
    object: `report-${id}`,
    outcome: 'success',
    details,
  };
}

const START = { seq: '0', hash: GENESIS_HASH };

function chainOf(count: number): SealedEntry[] {
  return sealEntries(
    START,
    Array.from({ length: count }, (_, index) => entry(index + 1, { n: index })),
  ).sealed;
}

describe('canonical JSON', () => {
  it('sorts keys at every depth, integer-like keys included, and adds no spaces', () => {
    expect(canonicalJson({ b: 1, a: [{ z: null, y: 'x' }], 10: true, 2: false })).toBe(
      '{"10":true,"2":false,"a":[{"y":"x","z":null}],"b":1}',
    );
    expect(canonicalJson({ a: 1, b: { d: 2, c: 3 } })).toBe(canonicalJson({ b: { c: 3, d: 2 }, a: 1 }));
  });

  it('escapes strings as JSON does and refuses what JSON cannot hold', () => {
    expect(canonicalJson('a"\n\u2028')).toBe(JSON.stringify('a"\n\u2028'));
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});

describe('chain hashes', () => {
  it('are sha256 of the previous hash (bytes) then the canonical encoding', () => {
    const fields = entry(1, { reason: 'x' });
    const expected = createHash('sha256')
      .update(Buffer.alloc(32))
      .update(chainInput(fields, '1'))
      .digest('hex');
    expect(chainHash(GENESIS_HASH, fields, '1')).toBe(expected);
  });

  it('change with every field, with the place and with the previous hash', () => {
    const base = entry(7, { a: 1 });
    const hash = chainHash(GENESIS_HASH, base, '7');
    const variants: ChainFields[] = [
      { ...base, id: '8' },
      { ...base, at: base.at.replace('123456', '123457') },
      { ...base, kind: 'report.conflicted' },
      { ...base, actor: null },
      { ...base, organisationId: 'other' },
      { ...base, object: null },
      { ...base, outcome: 'denied' },
      { ...base, details: { a: 2 } },
      { ...base, details: {} },
    ];
    for (const variant of variants) expect(chainHash(GENESIS_HASH, variant, '7')).not.toBe(hash);
    expect(chainHash(GENESIS_HASH, base, '8')).not.toBe(hash);
    expect(chainHash('1'.repeat(64), base, '7')).not.toBe(hash);
    // The order in which details' keys were written does not matter: jsonb does not keep it either.
    expect(chainHash(GENESIS_HASH, { ...base, details: { b: 2, a: 1 } }, '7')).toBe(
      chainHash(GENESIS_HASH, { ...base, details: { a: 1, b: 2 } }, '7'),
    );
  });

  it('keep null and the string "null" apart', () => {
    expect(chainHash(GENESIS_HASH, { ...entry(1), actor: null }, '1')).not.toBe(
      chainHash(GENESIS_HASH, { ...entry(1), actor: 'null' }, '1'),
    );
  });

  it('seal entries with dense sequences after the position given', () => {
    const first = sealEntries(START, [entry(5), entry(3)]);
    expect(first.sealed.map((e) => [e.id, e.chainSeq])).toEqual([
      ['5', '1'],
      ['3', '2'],
    ]);
    const second = sealEntries(first.position, [entry(9)]);
    expect(second.sealed[0]!.chainSeq).toBe('3');
    expect(second.sealed[0]!.chainHash).toBe(chainHash(first.position.hash, entry(9), '3'));
    expect(second.position).toEqual({ seq: '3', hash: second.sealed[0]!.chainHash });
  });
});

describe('walking a chain', () => {
  it('accepts an intact chain, in one call or batch by batch', () => {
    const chain = chainOf(10);
    const whole = walkChain(START, chain);
    expect(whole).toEqual({ position: { seq: '10', hash: chain[9]!.chainHash }, checked: 10 });
    let position = START;
    for (let index = 0; index < chain.length; index += 3) {
      const batch = walkChain(position, chain.slice(index, index + 3));
      expect(batch.problem).toBeUndefined();
      position = batch.position;
    }
    expect(position).toEqual(whole.position);
  });

  it('names an entry whose fields were edited', () => {
    const chain = chainOf(6);
    chain[3] = { ...chain[3]!, details: { n: 99 } };
    const result = walkChain(START, chain);
    expect(result.problem).toEqual({ kind: 'changed', id: '4', seq: '4' });
    expect(result.checked).toBe(3);
    expect(result.position).toEqual({ seq: '3', hash: chain[2]!.chainHash });
    expect(describeBreak(result.problem!)).toBe(
      'entry 4 (seq 4) was changed: its fields no longer give its chain hash',
    );
  });

  it('names an entry whose stored hash was edited, and an entry edited with its hash recomputed (the next one breaks)', () => {
    const chain = chainOf(5);
    const forgedHash = [...chain];
    forgedHash[1] = { ...chain[1]!, chainHash: 'f'.repeat(64) };
    expect(walkChain(START, forgedHash).problem).toMatchObject({ kind: 'changed', id: '2' });

    const rehashed = [...chain];
    const edited = { ...chain[1]!, outcome: 'denied' };
    rehashed[1] = { ...edited, chainHash: chainHash(chain[0]!.chainHash, edited, '2') };
    expect(walkChain(START, rehashed).problem).toMatchObject({ kind: 'changed', id: '3', seq: '3' });
  });

  it('names the gap where an entry was deleted, and the entry after it', () => {
    const chain = chainOf(6);
    const result = walkChain(START, [...chain.slice(0, 2), ...chain.slice(3)]);
    expect(result.problem).toEqual({ kind: 'missing', fromSeq: '3', toSeq: '3', nextId: '4' });
    expect(describeBreak(result.problem!)).toBe(
      'the entry at seq 3 is missing (removed); the chain resumes at entry 4',
    );
    const several = walkChain(START, [chain[0]!, chain[4]!]);
    expect(several.problem).toEqual({ kind: 'missing', fromSeq: '2', toSeq: '4', nextId: '5' });
    expect(walkChain(START, chain.slice(1)).problem).toMatchObject({ kind: 'missing', fromSeq: '1' });
  });

  it('names a deleted entry whose successors were renumbered to close the gap', () => {
    const chain = chainOf(5);
    const renumbered = [
      chain[0]!,
      ...chain.slice(2).map((e) => ({ ...e, chainSeq: String(Number(e.chainSeq) - 1) })),
    ];
    expect(walkChain(START, renumbered).problem).toMatchObject({ kind: 'changed', id: '3', seq: '2' });
  });

  it('tells rows that swapped places from a change', () => {
    const chain = chainOf(6);
    // The rows kept their hashes and swapped sequences.
    const swappedPlaces = [...chain];
    swappedPlaces[2] = { ...chain[3]!, chainSeq: '3' };
    swappedPlaces[3] = { ...chain[2]!, chainSeq: '4' };
    const moved = walkChain(START, swappedPlaces);
    expect(moved.problem).toEqual({
      kind: 'reordered',
      id: '4',
      seq: '3',
      belongingId: '3',
      foundAtSeq: '4',
    });
    expect(describeBreak(moved.problem!)).toBe(
      'entry 4 (seq 3) is out of order: seq 3 belongs to entry 3, found at seq 4',
    );
    // The rows' fields swapped, each place keeping its sequence and hash.
    const swappedFields = [...chain];
    swappedFields[2] = { ...chain[3]!, chainSeq: '3', chainHash: chain[2]!.chainHash };
    swappedFields[3] = { ...chain[2]!, chainSeq: '4', chainHash: chain[3]!.chainHash };
    expect(walkChain(START, swappedFields).problem).toMatchObject({ kind: 'reordered', id: '4', seq: '3' });
  });

  it('finds the entry that belongs at a place in the lookahead when the batch ends', () => {
    const chain = chainOf(6);
    const swapped = [...chain];
    swapped[4] = { ...chain[5]!, chainSeq: '5' };
    swapped[5] = { ...chain[4]!, chainSeq: '6' };
    expect(walkChain(START, swapped.slice(0, 5)).problem).toMatchObject({ kind: 'changed', id: '6' });
    expect(walkChain(START, swapped.slice(0, 5), swapped.slice(5)).problem).toMatchObject({
      kind: 'reordered',
      id: '6',
      belongingId: '5',
    });
    expect(classifyBreak({ seq: '4', hash: chain[3]!.chainHash }, swapped[4]!, [swapped[5]!])).toMatchObject({
      kind: 'reordered',
    });
  });

  it('starts from a checkpoint when the entries before it were purged', () => {
    const chain = chainOf(8);
    const checkpoint = { seq: chain[4]!.chainSeq, hash: chain[4]!.chainHash };
    expect(walkChain(checkpoint, chain.slice(5)).problem).toBeUndefined();
    expect(walkChain({ ...checkpoint, hash: GENESIS_HASH }, chain.slice(5)).problem).toMatchObject({
      kind: 'changed',
      id: '6',
    });
  });
});

describe('the tail of a chain', () => {
  const chain = chainOf(4);
  const end = { seq: '4', hash: chain[3]!.chainHash };

  it('is whole when the walk ends at the recorded head', () => {
    expect(checkTail(end, end, '4')).toBeUndefined();
    expect(checkTail(START, START, null)).toBeUndefined();
  });

  it('is short when the newest entries were deleted but the head was not rewritten', () => {
    const walked = walkChain(START, chain.slice(0, 2)).position;
    const problem = checkTail(walked, end, '2');
    expect(problem).toEqual({ kind: 'missing', fromSeq: '3', toSeq: '4', nextId: null });
    expect(describeBreak(problem!)).toBe(
      'entries seq 3 to 4 are missing (removed): the chain ends before its recorded head',
    );
  });

  it('was rewritten when the walk ends at the head with another hash', () => {
    expect(checkTail({ seq: '4', hash: 'a'.repeat(64) }, end, '4')).toEqual({
      kind: 'head-mismatch',
      id: '4',
      seq: '4',
    });
  });
});
