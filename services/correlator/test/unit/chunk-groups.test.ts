import { describe, expect, it } from 'vitest';
import { ChunkGroups } from '../../src/chunk-groups.js';

/** A store that records each transaction's items and finishes when told to. */
function recordingStore() {
  const transactions: string[][] = [];
  const finish: (() => void)[] = [];
  let failNext = false;
  const store = async (items: readonly string[]) => {
    transactions.push([...items]);
    await new Promise<void>((resolve) => finish.push(resolve));
    if (failNext) {
      failNext = false;
      throw new Error('transaction failed');
    }
    return items.map((item) => `stored ${item}`);
  };
  return {
    store,
    transactions,
    /** Lets the oldest running transaction commit. */
    commit: async () => {
      await until(() => finish.length > 0);
      finish.shift()!();
    },
    failNextCommit: () => {
      failNext = true;
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i += 1) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error('condition never held');
}

describe('ChunkGroups', () => {
  it('stores the chunks handed in together in one transaction and gives each its own outcomes', async () => {
    const db = recordingStore();
    const groups = new ChunkGroups(db.store, 100);
    const a = groups.process(['a1', 'a2']);
    const b = groups.process(['b1']);
    const c = groups.process(['c1', 'c2']);
    await db.commit();
    expect(await a).toEqual(['stored a1', 'stored a2']);
    expect(await b).toEqual(['stored b1']);
    expect(await c).toEqual(['stored c1', 'stored c2']);
    expect(db.transactions).toEqual([['a1', 'a2', 'b1', 'c1', 'c2']]);
  });

  it('runs one transaction at a time: chunks arriving meanwhile wait and go together', async () => {
    const db = recordingStore();
    const groups = new ChunkGroups(db.store, 100);
    const first = groups.process(['a1']);
    await until(() => db.transactions.length === 1);
    const second = groups.process(['b1']);
    const third = groups.process(['c1']);
    await new Promise((r) => setImmediate(r));
    expect(db.transactions).toHaveLength(1);
    await db.commit();
    expect(await first).toEqual(['stored a1']);
    await db.commit();
    expect(await second).toEqual(['stored b1']);
    expect(await third).toEqual(['stored c1']);
    expect(db.transactions).toEqual([['a1'], ['b1', 'c1']]);
  });

  it('takes whole chunks until a group holds at least maxItems', async () => {
    const db = recordingStore();
    const groups = new ChunkGroups(db.store, 3);
    const all = [groups.process(['a1', 'a2']), groups.process(['b1', 'b2']), groups.process(['c1'])];
    await db.commit();
    await db.commit();
    await Promise.all(all);
    expect(db.transactions).toEqual([['a1', 'a2', 'b1', 'b2'], ['c1']]);
  });

  it('fails every chunk of a failed transaction, and goes on with the next', async () => {
    const db = recordingStore();
    const groups = new ChunkGroups(db.store, 100);
    db.failNextCommit();
    const a = groups.process(['a1']);
    const b = groups.process(['b1']);
    await db.commit();
    await expect(a).rejects.toThrow('transaction failed');
    await expect(b).rejects.toThrow('transaction failed');
    const retry = groups.process(['a1']);
    await db.commit();
    expect(await retry).toEqual(['stored a1']);
  });
});
