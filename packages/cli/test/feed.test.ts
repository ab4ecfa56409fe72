import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandFailure, feedCommand, UsageError } from '@renkei/cli';
import type { PartnerFeed } from '@renkei/schema';

const env = { RENKEI_TOKEN: 'admin-token', RENKEI_GATEWAY_URL: 'http://gateway.test' };
const FEED_ID = '11111111-1111-4111-8111-111111111111';

const feed = (status: Partial<PartnerFeed['status']> = {}): PartnerFeed => ({
  id: FEED_ID,
  kind: 'taxii',
  name: 'partner',
  url: 'https://partner.example/taxii2/root/collections/c1/',
  organisationId: 'partner-ceptar',
  defaultTlp: 'GREEN',
  pollIntervalSeconds: 3600,
  credentials: { kind: 'bearer', set: true },
  createdBy: 'admin',
  createdAt: '2026-12-07T00:00:00.000Z',
  status: {
    lastPollAt: null,
    lastSuccessAt: null,
    nextPollAt: null,
    lagSeconds: 5,
    consecutiveFailures: 0,
    lastError: null,
    checkpoint: { addedAfter: null, events: 0 },
    itemsRead: 0,
    reportsAccepted: 0,
    syncPending: false,
    ...status,
  },
});

/** A gateway that answers each request with the next of `answers`, recording the requests. */
function gateway(answers: { status: number; body?: unknown }[]) {
  const requests: { method: string; url: string; body?: unknown; authorization: string | null }[] = [];
  const fetch = (async (url: URL, init: RequestInit) => {
    requests.push({
      method: init.method ?? 'GET',
      url: url.toString(),
      authorization: new Headers(init.headers).get('authorization'),
      ...(init.body ? { body: JSON.parse(init.body as string) as unknown } : {}),
    });
    const answer = answers.shift()!;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
    });
  }) as typeof globalThis.fetch;
  return { requests, io: { fetch, sleep: async () => undefined } };
}

describe('renkei feed', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'renkei-feed-cli-'));
  });
  afterAll(() => rm(directory, { recursive: true }));

  it('adds a feed with credentials read from a file, as the gateway route takes it', async () => {
    const file = path.join(directory, 'credentials.json');
    await writeFile(file, JSON.stringify({ kind: 'bearer', token: 'partner-token' }));
    const { requests, io } = gateway([{ status: 201, body: feed() }]);
    const output = await feedCommand(
      [
        'add',
        'taxii',
        '--name',
        'partner',
        '--url',
        feed().url,
        '--org',
        'partner-ceptar',
        '--tlp',
        'GREEN',
        '--credentials-file',
        file,
      ],
      env,
      io,
    );
    expect(output).toBe(
      `added feed ${FEED_ID} (taxii, for partner-ceptar, GREEN unless marked); the first poll starts now`,
    );
    expect(requests).toEqual([
      {
        method: 'POST',
        url: 'http://gateway.test/v1/feeds',
        authorization: 'Bearer admin-token',
        body: {
          kind: 'taxii',
          name: 'partner',
          url: feed().url,
          organisationId: 'partner-ceptar',
          defaultTlp: 'GREEN',
          pollIntervalSeconds: 3600,
          credentials: { kind: 'bearer', token: 'partner-token' },
        },
      },
    ]);
  });

  it.each([
    [
      ['add', 'taxii', '--name', 'x', '--url', 'https://p.example/x/', '--org', 'p', '--tlp', 'GREEN'],
      '--url',
    ],
    [['add', 'misp', '--name', 'x', '--url', 'https://p.example/', '--org', 'p', '--tlp', 'WHITE'], '--tlp'],
    [
      [
        'add',
        'misp',
        '--name',
        'x',
        '--url',
        'https://p.example/',
        '--org',
        'p',
        '--tlp',
        'GREEN',
        '--interval',
        '1',
      ],
      '--interval',
    ],
    [['add', 'rss'], 'taxii|misp'],
    [['sync'], 'give one feed id'],
    [['frobnicate'], 'unknown action'],
  ])('%j is a usage error naming %s before anything is sent', async (argv, named) => {
    const { requests, io } = gateway([]);
    const error = await feedCommand(argv, env, io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(named);
    expect(requests).toEqual([]);
  });

  it('refuses a credentials file that is not credentials, naming what is wrong', async () => {
    const file = path.join(directory, 'bad.json');
    await writeFile(file, JSON.stringify({ kind: 'basic', username: 'a:b', password: 'p' }));
    const error = await feedCommand(
      [
        'add',
        'misp',
        '--name',
        'x',
        '--url',
        'https://p.example/',
        '--org',
        'p',
        '--tlp',
        'GREEN',
        '--credentials-file',
        file,
      ],
      env,
      gateway([]).io,
    ).catch((e: unknown) => e);
    expect((error as Error).message).toContain('--credentials-file username');
  });

  it('lists feeds with their state, credentials only as set', async () => {
    const { io } = gateway([
      { status: 200, body: { items: [feed({ lastError: 'the server answered 401' })] } },
    ]);
    const output = await feedCommand(['list'], env, io);
    expect(output).toContain(`${FEED_ID}\ttaxii\tpartner-ceptar\tGREEN\tevery 3600s\tlag 5s`);
    expect(output).toContain('credentials bearer set');
    expect(output).toContain('error: the server answered 401');
  });

  it('syncs and waits until the poll that serves it has ended, then says how it went', async () => {
    const { requests, io } = gateway([
      { status: 202, body: { id: FEED_ID, requestedAt: '2026-12-07T12:00:00.000Z' } },
      { status: 200, body: { items: [feed({ syncPending: true })] } },
      { status: 200, body: { items: [feed({ itemsRead: 7, reportsAccepted: 1 })] } },
    ]);
    expect(await feedCommand(['sync', FEED_ID], env, io)).toBe(
      `polled feed ${FEED_ID}: 7 items read and 1 reports accepted since it was added`,
    );
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST http://gateway.test/v1/feeds/${FEED_ID}/sync`,
      'GET http://gateway.test/v1/feeds',
      'GET http://gateway.test/v1/feeds',
    ]);
  });

  it('fails a sync whose poll failed, with the error', async () => {
    const { io } = gateway([
      { status: 202, body: { id: FEED_ID, requestedAt: '2026-12-07T12:00:00.000Z' } },
      {
        status: 200,
        body: { items: [feed({ consecutiveFailures: 2, lastError: 'the server answered 503' })] },
      },
    ]);
    const error = await feedCommand(['sync', FEED_ID], env, io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailure);
    expect((error as Error).message).toMatch(/this poll failed \(2 in a row\): the server answered 503/);
  });

  it('says what the gateway refused', async () => {
    const { io } = gateway([
      { status: 404, body: { code: 'RENKEI_NOT_FOUND', message: `no feed ${FEED_ID}` } },
    ]);
    await expect(feedCommand(['remove', FEED_ID], env, io)).rejects.toThrow(
      `RENKEI_NOT_FOUND (404): no feed ${FEED_ID}`,
    );
  });
});
