import { describe, expect, it } from 'vitest';
import type { CandidateRead, SourceKey } from '../../src/queries/exports.js';
import { viewerPage } from '../../src/stix/load.js';

interface Candidate {
  key: SourceKey;
  addedAt: string;
  visible: boolean;
}

const at = (ms: number) => new Date(Date.UTC(2026, 11, 1) + ms).toISOString();

/** Candidates in read order, read a batch at a time after a key, as the SQL reads them. */
function candidates(list: { ms: number; visible: boolean }[]) {
  const all: Candidate[] = list.map(({ ms, visible }, n) => ({
    key: { at: at(ms), id: `id-${String(n).padStart(4, '0')}`, version: 0 },
    addedAt: at(ms),
    visible,
  }));
  const reads: CandidateRead[] = [];
  const read = async (request: CandidateRead) => {
    reads.push(request);
    const start = request.after ? all.findIndex((c) => c.key.id === request.after!.id) + 1 : 0;
    return all
      .slice(start)
      .filter((c) => request.since === null || c.addedAt > request.since)
      .slice(0, request.size);
  };
  return { read, reads };
}
const keep = (candidate: Candidate) =>
  candidate.visible ? { addedAt: candidate.addedAt, id: candidate.key.id } : null;

describe("viewerPage: a page of the reader's own items", () => {
  it('reads past candidates the reader may not see until the page is full', async () => {
    const { read, reads } = candidates([
      ...Array.from({ length: 7 }, (_, n) => ({ ms: n, visible: false })),
      { ms: 10, visible: true },
      { ms: 11, visible: true },
    ]);
    const page = await viewerPage(read, keep, { since: null, limit: 1 }, undefined, 3);
    expect(page.items.map((item) => item.addedAt)).toEqual([at(10)]);
    expect(page.more).toBe(true);
    expect(reads.length).toBeGreaterThan(2);
  });

  it('says more only when a kept item follows, never for a hidden one', async () => {
    const { read } = candidates([
      { ms: 1, visible: true },
      { ms: 2, visible: false },
      { ms: 3, visible: false },
    ]);
    expect(await viewerPage(read, keep, { since: null, limit: 1 }, undefined, 2)).toEqual({
      items: [{ addedAt: at(1), id: 'id-0000' }],
      more: false,
    });
  });

  it('never ends a page inside a millisecond of kept items, whatever lies hidden between them', async () => {
    const { read } = candidates([
      { ms: 1, visible: true },
      { ms: 5, visible: true },
      { ms: 5, visible: false },
      { ms: 5, visible: true },
      { ms: 6, visible: true },
    ]);
    const page = await viewerPage(read, keep, { since: null, limit: 2 }, undefined, 2);
    expect(page.items.map((item) => item.id)).toEqual(['id-0000', 'id-0001', 'id-0003']);
    expect(page.more).toBe(true);
    const next = await viewerPage(read, keep, { since: page.items.at(-1)!.addedAt, limit: 2 }, undefined, 2);
    expect(next).toEqual({ items: [{ addedAt: at(6), id: 'id-0004' }], more: false });
  });

  it('gives nothing and nowhere to go on from when everything after since is hidden', async () => {
    const { read } = candidates([
      { ms: 1, visible: true },
      { ms: 2, visible: false },
      { ms: 3, visible: false },
    ]);
    expect(await viewerPage(read, keep, { since: at(1), limit: 1 }, undefined, 1)).toEqual({
      items: [],
      more: false,
    });
  });
});
