import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  FeedPollError,
  isDue,
  mispEventsToFetch,
  nextPollAfterFailure,
  nextPollAfterSuccess,
  openCredentials,
  pollMisp,
  pollTaxii,
  sealCredentials,
  taxiiObjectsUrl,
  type FetchedJson,
  type GetJson,
  type ImportOutcome,
} from '@renkei/partner-feeds';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

/** A partner that answers from a table of URLs, recording what was asked. */
function partner(pages: Record<string, { status?: number; body: unknown; last?: string }>) {
  const asked: string[] = [];
  const getJson: GetJson = async (url) => {
    asked.push(url);
    const page = pages[url];
    if (!page) return { status: 404, headers: new Headers(), body: { title: 'not found' } } as FetchedJson;
    const headers = new Headers(page.last ? { 'x-taxii-date-added-last': page.last } : {});
    return { status: page.status ?? 200, headers, body: page.body };
  };
  return { asked, getJson };
}

const importer = (outcome: ImportOutcome = { accepted: 1, alreadyAccepted: 0 }) => {
  const calls: unknown[] = [];
  return {
    calls,
    run: async (input: unknown) => {
      calls.push(input);
      return outcome;
    },
  };
};

describe('the schedule', () => {
  it('polls again after the interval, or at once when the poll stopped at its bound', () => {
    expect(nextPollAfterSuccess(NOW, 600)).toEqual(at(600_000));
    expect(nextPollAfterSuccess(NOW, 600, true)).toEqual(NOW);
  });

  it('backs off from the base, doubling, up to the larger of the interval and an hour', () => {
    const policy = { retryBaseMs: 30_000 };
    expect([1, 2, 3, 4].map((n) => nextPollAfterFailure(NOW, 60, n, policy))).toEqual([
      at(30_000),
      at(60_000),
      at(120_000),
      at(240_000),
    ]);
    expect(nextPollAfterFailure(NOW, 60, 20, policy)).toEqual(at(3_600_000));
    expect(nextPollAfterFailure(NOW, 86_400, 40, policy)).toEqual(at(86_400_000));
  });

  it('is due when its time came, when never polled, or when a sync is not yet served', () => {
    const later = at(60_000);
    expect(isDue({ nextPollAt: null, syncRequestedAt: null, lastSyncServedAt: null }, NOW)).toBe(true);
    expect(isDue({ nextPollAt: NOW, syncRequestedAt: null, lastSyncServedAt: null }, NOW)).toBe(true);
    expect(isDue({ nextPollAt: later, syncRequestedAt: null, lastSyncServedAt: null }, NOW)).toBe(false);
    expect(isDue({ nextPollAt: later, syncRequestedAt: at(-5), lastSyncServedAt: null }, NOW)).toBe(true);
    expect(isDue({ nextPollAt: later, syncRequestedAt: at(-5), lastSyncServedAt: at(-5) }, NOW)).toBe(false);
    expect(isDue({ nextPollAt: later, syncRequestedAt: at(-1), lastSyncServedAt: at(-5) }, NOW)).toBe(true);
  });
});

describe('a TAXII poll', () => {
  const collection = 'https://partner.example/taxii2/root/collections/abc/';
  const url = (query: { addedAfter?: string; next?: string }) =>
    taxiiObjectsUrl(collection, { ...query, limit: 2 });

  it('walks every page by next from the checkpoint, imports them together, then moves the checkpoint', async () => {
    const { asked, getJson } = partner({
      [url({ addedAfter: '2026-12-01T00:00:00Z' })]: {
        body: { more: true, next: 'p2', objects: [{ id: 'report--1' }, { id: 'indicator--1' }] },
        last: '2026-12-02T00:00:00.000Z',
      },
      [url({ addedAfter: '2026-12-01T00:00:00Z', next: 'p2' })]: {
        body: { more: false, objects: [{ id: 'indicator--2' }] },
        last: '2026-12-03T00:00:00.000Z',
      },
    });
    const imports = importer({ accepted: 1, alreadyAccepted: 0 });
    const result = await pollTaxii({
      collectionUrl: collection,
      checkpoint: { addedAfter: '2026-12-01T00:00:00Z' },
      getJson,
      importObjects: imports.run,
      pageLimit: 2,
      maxObjects: 100,
    });
    expect(asked).toHaveLength(2);
    expect(imports.calls).toEqual([[{ id: 'report--1' }, { id: 'indicator--1' }, { id: 'indicator--2' }]]);
    expect(result).toMatchObject({
      checkpoint: { addedAfter: '2026-12-03T00:00:00.000Z' },
      itemsRead: 3,
      reportsAccepted: 1,
      more: false,
    });
  });

  it('pages by added_after alone when the server gives no next', async () => {
    const { getJson } = partner({
      [url({})]: { body: { more: true, objects: [{ id: 'a' }] }, last: '2026-12-02T00:00:00.000Z' },
      [url({ addedAfter: '2026-12-02T00:00:00.000Z' })]: {
        body: { more: false, objects: [{ id: 'b' }] },
        last: '2026-12-04T00:00:00.000Z',
      },
    });
    const imports = importer();
    const result = await pollTaxii({
      collectionUrl: collection,
      checkpoint: {},
      getJson,
      importObjects: imports.run,
      pageLimit: 2,
      maxObjects: 100,
    });
    expect(imports.calls).toEqual([[{ id: 'a' }, { id: 'b' }]]);
    expect(result.checkpoint).toEqual({ addedAfter: '2026-12-04T00:00:00.000Z' });
  });

  it('imports nothing and keeps the checkpoint when nothing was added', async () => {
    const { getJson } = partner({ [url({ addedAfter: '2026-12-01T00:00:00Z' })]: { body: { more: false } } });
    const imports = importer();
    const result = await pollTaxii({
      collectionUrl: collection,
      checkpoint: { addedAfter: '2026-12-01T00:00:00Z' },
      getJson,
      importObjects: imports.run,
      pageLimit: 2,
      maxObjects: 100,
    });
    expect(imports.calls).toEqual([]);
    expect(result).toMatchObject({ checkpoint: { addedAfter: '2026-12-01T00:00:00Z' }, itemsRead: 0 });
  });

  it('stops at its bound and says there is more', async () => {
    const { getJson } = partner({
      [url({})]: {
        body: { more: true, next: 'p2', objects: [{ id: 'a' }, { id: 'b' }] },
        last: '2026-12-02T00:00:00Z',
      },
    });
    const result = await pollTaxii({
      collectionUrl: collection,
      checkpoint: {},
      getJson,
      importObjects: importer().run,
      pageLimit: 2,
      maxObjects: 2,
    });
    expect(result).toMatchObject({
      more: true,
      itemsRead: 2,
      checkpoint: { addedAfter: '2026-12-02T00:00:00Z' },
    });
  });

  it('fails on an error answer, with the TAXII error resource in the message, before importing anything', async () => {
    const { getJson } = partner({
      [url({})]: { status: 401, body: { title: 'Unauthorized', description: 'token expired' } },
    });
    const imports = importer();
    const poll = pollTaxii({
      collectionUrl: collection,
      checkpoint: {},
      getJson,
      importObjects: imports.run,
      pageLimit: 2,
      maxObjects: 10,
    });
    await expect(poll).rejects.toThrow(
      new FeedPollError('the server answered 401 (Unauthorized: token expired)'),
    );
    expect(imports.calls).toEqual([]);
  });
});

describe('a MISP feed poll', () => {
  const feed = 'https://misp.example/feed';
  const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  it('fetches only events new or changed since the checkpoint, oldest first', () => {
    const manifest = {
      [uuid(1)]: { timestamp: '100' },
      [uuid(2)]: { timestamp: '300' },
      [uuid(3)]: { timestamp: 200 },
    };
    expect(mispEventsToFetch(manifest, { events: { [uuid(1)]: 100, [uuid(2)]: 250 } })).toEqual([
      { uuid: uuid(3), timestamp: 200 },
      { uuid: uuid(2), timestamp: 300 },
    ]);
  });

  it('imports each due event, records refusals, and forgets events gone from the manifest', async () => {
    const { asked, getJson } = partner({
      [`${feed}/manifest.json`]: {
        body: { [uuid(1)]: { timestamp: '100' }, [uuid(2)]: { timestamp: '200' } },
      },
      [`${feed}/${uuid(2)}.json`]: { body: { Event: { uuid: uuid(2) } } },
    });
    const imports = importer({ accepted: 0, alreadyAccepted: 0, refused: 'nothing to map' });
    const result = await pollMisp({
      feedUrl: feed,
      checkpoint: { events: { [uuid(1)]: 100, [uuid(9)]: 5 } },
      getJson,
      importEvent: imports.run,
      maxEvents: 10,
    });
    expect(asked).toEqual([`${feed}/manifest.json`, `${feed}/${uuid(2)}.json`]);
    expect(result).toMatchObject({
      checkpoint: { events: { [uuid(1)]: 100, [uuid(2)]: 200 } },
      itemsRead: 1,
      refused: [`${uuid(2)}: nothing to map`],
      more: false,
    });
    expect(result.error).toBeUndefined();
  });

  /** A manifest of two events of which only the first can be fetched. */
  const pollFirstOfTwo = (maxEvents: number) => {
    const { getJson } = partner({
      [`${feed}/manifest.json`]: {
        body: { [uuid(1)]: { timestamp: '100' }, [uuid(2)]: { timestamp: '200' } },
      },
      [`${feed}/${uuid(1)}.json`]: { body: { Event: {} } },
    });
    return pollMisp({ feedUrl: feed, checkpoint: {}, getJson, importEvent: importer().run, maxEvents });
  };

  it('keeps what was imported before an event failed, and reports the failure', async () => {
    const result = await pollFirstOfTwo(10);
    expect(result.checkpoint).toEqual({ events: { [uuid(1)]: 100 } });
    expect(result.reportsAccepted).toBe(1);
    expect(String(result.error)).toContain(`${uuid(2)}.json: the server answered 404`);
  });

  it('stops at its bound and says there is more', async () => {
    const result = await pollFirstOfTwo(1);
    expect(result).toMatchObject({ more: true, itemsRead: 1, checkpoint: { events: { [uuid(1)]: 100 } } });
  });

  it('refuses a manifest that is not one', async () => {
    const { getJson } = partner({ [`${feed}/manifest.json`]: { body: [1, 2] } });
    await expect(
      pollMisp({ feedUrl: feed, checkpoint: {}, getJson, importEvent: importer().run, maxEvents: 1 }),
    ).rejects.toThrow(/not a MISP feed manifest/);
  });
});

describe('sealed credentials', () => {
  const key = randomBytes(32);
  const feedId = '11111111-1111-4111-8111-111111111111';

  it('open with the same key and feed only, and never show the secret sealed', () => {
    const credentials = { kind: 'basic' as const, username: 'hub', password: 'very-secret' };
    const sealed = sealCredentials(key, feedId, credentials);
    expect(sealed).not.toContain('very-secret');
    expect(openCredentials(key, feedId, sealed)).toEqual(credentials);
    expect(() => openCredentials(randomBytes(32), feedId, sealed)).toThrow(/do not open/);
    expect(() => openCredentials(key, '22222222-2222-4222-8222-222222222222', sealed)).toThrow(/do not open/);
  });

  it('make the Authorization header', () => {
    expect(authorizationHeader({ kind: 'bearer', token: 't0k' })).toBe('Bearer t0k');
    expect(authorizationHeader({ kind: 'basic', username: 'u', password: 'p' })).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    expect(authorizationHeader(undefined)).toBeUndefined();
  });
});
