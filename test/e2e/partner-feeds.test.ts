import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '@renkei/cli';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import {
  myReportPageSchema,
  partnerFeedListSchema,
  partnerFeedSchema,
  type PartnerFeed,
  type PartnerFeedSubmission,
} from '@renkei/schema';
import {
  eventually,
  startTestHub,
  TEST_ORGANISATIONS,
  type TestHub,
  type TestOrganisation,
} from '@renkei/testing';

const TAXII = 'application/taxii+json;version=2.1';
const MISP_FIXTURES = path.join(REPOSITORY_ROOT, 'services/ingest/test/fixtures/misp');
const MISP_EVENTS = ['circl_xorist_ransomware_57c4445b.json', 'ursnif_with_sightings.json'];

/** The partner hub's members on the hub under test: one a TAXII feed speaks for, one a MISP feed. */
const PARTNER_HUB: TestOrganisation = { id: 'partner-hub', sector: 'telecom', kind: 'ceptar' };
const PARTNER_MISP: TestOrganisation = { id: 'partner-misp', sector: 'finance', kind: 'ceptar' };

/**
 * Issue 21, item 7 on real services: hub A pulls from a second Renkei hub's
 * TAXII collection and from a MISP feed directory this test serves, on a
 * schedule, with checkpoints in PostgreSQL, through the same import as a push.
 */
describe('partner feeds (pull)', () => {
  let a: TestHub<never>;
  let b: TestHub<never>;
  let misp: { server: Server; url: string; failing: boolean; requests: string[] };
  const tokens = {} as Record<
    'admin' | 'analyst' | 'partner' | 'partnerMisp' | 'bReporter' | 'bReader',
    string
  >;

  beforeAll(async () => {
    // Polls are found within half a second, and a failed one retried after a second.
    // TAXII reads show what was just stored; the gateway knows where ingest is, for TAXII adds.
    const hub = { actors: {}, gatewayEnv: { TAXII_CACHE_MS: '0' }, gatewayAfterIngest: true };
    const { gsoc, mlitCsirt, waterCeptar } = TEST_ORGANISATIONS;
    [a, b] = await Promise.all([
      startTestHub({
        ...hub,
        label: 'feeds-a',
        organisations: [gsoc, PARTNER_HUB, PARTNER_MISP],
        ingestEnv: { PARTNER_FEED_CHECK_MS: '500', PARTNER_FEED_RETRY_BASE_MS: '1000' },
      }),
      startTestHub({ ...hub, label: 'feeds-b', organisations: [gsoc, mlitCsirt, waterCeptar] }),
    ]);
    tokens.admin = await a.keys.token({ org: 'gsoc', sector: 'central-government', roles: ['admin'] });
    tokens.analyst = await a.keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    tokens.partner = await a.keys.token({
      org: PARTNER_HUB.id,
      sector: PARTNER_HUB.sector,
      roles: ['ceptar'],
    });
    tokens.partnerMisp = await a.keys.token({
      org: PARTNER_MISP.id,
      sector: PARTNER_MISP.sector,
      roles: ['ceptar'],
    });
    tokens.bReporter = await b.keys.token({
      org: 'mlit-csirt',
      sector: 'central-government',
      roles: ['reporter'],
    });
    // The partner hub gives hub A a reader's token of one of its members: what A may pull is what it may read.
    tokens.bReader = await b.keys.token({ org: 'water-ceptar', sector: 'water', roles: ['ceptar'] });
    misp = await serveMispFeed();
  }, 240_000);

  afterAll(async () => {
    misp?.server.close();
    const codes = await Promise.all([a?.close(), b?.close()]);
    expect(codes.flat()).toEqual(codes.flat().map(() => 0));
  });

  const call = async (hubUrl: string, method: string, route: string, token: string, body?: unknown) => {
    const response = await fetch(`${hubUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const listFeeds = async (): Promise<PartnerFeed[]> => {
    const { status, json } = await call(a.gatewayUrl, 'GET', '/v1/feeds', tokens.admin);
    expect(status).toBe(200);
    return partnerFeedListSchema.parse(json).items;
  };
  const feed = async (id: string) => (await listFeeds()).find((f) => f.id === id)!;
  const addFeed = async (submission: PartnerFeedSubmission): Promise<PartnerFeed> => {
    const { status, text, json } = await call(a.gatewayUrl, 'POST', '/v1/feeds', tokens.admin, submission);
    expect(status, text).toBe(201);
    return partnerFeedSchema.parse(json);
  };
  /** Asks for a poll now and waits for the poll that served it. */
  const sync = async (id: string): Promise<PartnerFeed> => {
    const { status, text, json } = await call(a.gatewayUrl, 'POST', `/v1/feeds/${id}/sync`, tokens.admin);
    expect(status, text).toBe(202);
    const { requestedAt } = json as { requestedAt: string };
    return eventually(
      async () => {
        const current = await feed(id);
        expect(current.status.syncPending).toBe(false);
        expect(Date.parse(current.status.lastPollAt!)).toBeGreaterThanOrEqual(Date.parse(requestedAt));
        return current;
      },
      { timeoutMs: 30_000 },
    );
  };
  /** The reports hub A holds of an organisation, once it holds `count` of them, all processed. */
  const reportsOf = (token: string, count: number) =>
    eventually(
      async () => {
        const { status, json } = await call(a.gatewayUrl, 'GET', '/v1/reports?limit=50', token);
        expect(status).toBe(200);
        const page = myReportPageSchema.parse(json);
        expect(page.items).toHaveLength(count);
        expect(page.items.every((report) => report.status === 'processed')).toBe(true);
        return page.items;
      },
      { timeoutMs: 60_000 },
    );
  /** Submits a report to hub B and waits until B has stored it (its TAXII collection shows what is stored). */
  const reportOnB = async (title: string, domain: string) => {
    const { status, text, json } = await call(b.ingestUrl, 'POST', '/v1/reports', tokens.bReporter, {
      title,
      category: 'malware',
      severity: 'high',
      tlp: 'GREEN',
      detectedAt: new Date().toISOString(),
      indicators: [{ type: 'domain', value: domain, role: 'c2' }],
    });
    expect(status, text).toBe(202);
    const { id } = json as { id: string };
    await eventually(
      async () => {
        const view = await call(b.ingestUrl, 'GET', `/v1/reports/${id}`, tokens.bReporter);
        expect((view.json as { status: string }).status).toBe('processed');
      },
      { timeoutMs: 60_000 },
    );
    return id;
  };

  it('refuses bad feeds naming the field, and anyone but an administrator', async () => {
    const good: PartnerFeedSubmission = {
      kind: 'misp',
      name: 'x',
      url: 'https://misp.example/feed/',
      organisationId: PARTNER_MISP.id,
      defaultTlp: 'GREEN',
    };
    const cases: [unknown, string][] = [
      [{ ...good, url: 'ftp://misp.example/feed/' }, 'url'],
      [{ ...good, url: 'https://user:secret@misp.example/feed/' }, 'url'],
      [{ ...good, kind: 'taxii' }, 'url'],
      [{ ...good, defaultTlp: 'WHITE' }, 'defaultTlp'],
      [{ ...good, organisationId: 'nobody-here' }, 'organisationId'],
      [{ ...good, pollIntervalSeconds: 5 }, 'pollIntervalSeconds'],
      [{ ...good, credentials: { kind: 'basic', username: 'a:b', password: 'p' } }, 'credentials.username'],
      [{ ...good, kind: 'rss' }, 'kind'],
    ];
    for (const [body, field] of cases) {
      const { status, json } = await call(a.gatewayUrl, 'POST', '/v1/feeds', tokens.admin, body);
      expect(status, JSON.stringify(body)).toBe(400);
      const fields = (json as { fields: { field: string }[] }).fields.map((f) => f.field);
      expect(fields, JSON.stringify(body)).toContain(field);
    }
    expect((await call(a.gatewayUrl, 'POST', '/v1/feeds', tokens.analyst, good)).status).toBe(403);
    expect((await call(a.gatewayUrl, 'GET', '/v1/feeds', tokens.analyst)).status).toBe(403);
    expect(
      (await call(a.gatewayUrl, 'DELETE', `/v1/feeds/${crypto.randomUUID()}`, tokens.admin)).status,
    ).toBe(404);
    expect((await call(a.gatewayUrl, 'DELETE', '/v1/feeds/not-a-uuid', tokens.admin)).status).toBe(400);
  });

  it("pulls a second hub's TAXII collection exactly once across two polls and a restart of the poller", async () => {
    await reportOnB('Partner C2 one', 'c2-one.partner-feed.example');
    const collections = await fetch(`${b.gatewayUrl}/taxii2/renkei/collections/`, {
      headers: { accept: TAXII, authorization: `Bearer ${tokens.bReader}` },
    });
    expect(collections.status).toBe(200);
    const community = (
      (await collections.json()) as { collections: { id: string; title: string }[] }
    ).collections.find((collection) => collection.title.includes('community'))!;
    const collectionUrl = `${b.gatewayUrl}/taxii2/renkei/collections/${community.id}/`;

    const added = await addFeed({
      kind: 'taxii',
      name: 'Partner hub B, community',
      url: collectionUrl,
      organisationId: PARTNER_HUB.id,
      defaultTlp: 'AMBER',
      credentials: { kind: 'bearer', token: tokens.bReader },
    });
    expect(added.credentials).toEqual({ kind: 'bearer', set: true });

    // The first poll starts by itself.
    const first = await eventually(
      async () => {
        const current = await feed(added.id);
        expect(current.status.lastSuccessAt).not.toBeNull();
        return current;
      },
      { timeoutMs: 30_000 },
    );
    expect(first.status).toMatchObject({ reportsAccepted: 1, consecutiveFailures: 0, lastError: null });
    expect(first.status.checkpoint.addedAfter).not.toBeNull();
    const [pulled] = await reportsOf(tokens.partner, 1);
    expect(pulled).toMatchObject({ title: 'Partner C2 one', tlp: 'GREEN' });

    // Poll two: only what B added since the checkpoint.
    await reportOnB('Partner C2 two', 'c2-two.partner-feed.example');
    const second = await sync(added.id);
    expect(second.status.reportsAccepted).toBe(2);
    expect(Date.parse(second.status.checkpoint.addedAfter!)).toBeGreaterThan(
      Date.parse(first.status.checkpoint.addedAfter!),
    );
    expect((await reportsOf(tokens.partner, 2)).map((r) => r.title).sort()).toEqual([
      'Partner C2 one',
      'Partner C2 two',
    ]);

    // A poll with nothing new (asked for with the CLI, which waits for it), then a restart of
    // the poller: the checkpoint is in PostgreSQL.
    const cliEnv = { RENKEI_GATEWAY_URL: a.gatewayUrl, RENKEI_TOKEN: tokens.admin };
    expect(await runCommand(['feed', 'sync', added.id], cliEnv)).toMatch(
      new RegExp(`^polled feed ${added.id}: ${second.status.itemsRead} items read and 2 reports accepted`),
    );
    const idle = await feed(added.id);
    expect(idle.status).toMatchObject({ reportsAccepted: 2, itemsRead: second.status.itemsRead });
    const listedByCli = await runCommand(['feed', 'list'], cliEnv);
    expect(listedByCli).toContain(`${added.id}\ttaxii\t${PARTNER_HUB.id}\tAMBER`);
    expect(listedByCli).toContain('credentials bearer set');
    expect(listedByCli).not.toContain(tokens.bReader);
    await a.restartIngest();
    const afterRestart = await sync(added.id);
    expect(afterRestart.status).toMatchObject({
      reportsAccepted: 2,
      itemsRead: second.status.itemsRead,
      checkpoint: second.status.checkpoint,
    });

    // Even with its checkpoint lost, a feed read again from the start stores nothing twice:
    // report ids are named from the partner and the source object's id and version.
    await a.database.pool.query(`UPDATE partner_feed_state SET checkpoint = '{}' WHERE feed_id = $1`, [
      added.id,
    ]);
    const reread = await sync(added.id);
    // Poll two read only what was added after the checkpoint: less than the whole collection.
    const readByPollTwo = second.status.itemsRead - first.status.itemsRead;
    const wholeCollection = reread.status.itemsRead - second.status.itemsRead;
    expect(readByPollTwo).toBeGreaterThan(0);
    expect(readByPollTwo).toBeLessThan(wholeCollection);
    expect(reread.status.reportsAccepted).toBe(2);
    await reportsOf(tokens.partner, 2);
    const { rows } = await a.database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM report_submissions WHERE organisation_id = $1`,
      [PARTNER_HUB.id],
    );
    expect(rows[0]!.n).toBe(2);

    // Per-feed lag and errors in /metrics.
    const metrics = await (await fetch(`${a.ingest.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`renkei_partner_feed_lag_seconds\\{feed="${added.id}"[^}]*\\} \\d+`));
    expect(metrics).toMatch(
      new RegExp(`renkei_partner_feed_consecutive_failures\\{feed="${added.id}"[^}]*\\} 0`),
    );
    expect(metrics).toMatch(
      new RegExp(`renkei_partner_feed_polls_total\\{feed="${added.id}",outcome="success"`),
    );

    // The credentials are never answered; the audit log has the feed's life.
    const listed = await call(a.gatewayUrl, 'GET', '/v1/feeds', tokens.admin);
    expect(listed.text).not.toContain(tokens.bReader);
    const stored = await a.database.pool.query<{ credentials: string }>(
      'SELECT credentials FROM partner_feeds WHERE id = $1',
      [added.id],
    );
    expect(stored.rows[0]!.credentials).not.toContain(tokens.bReader);
    const audit = await a.database.pool.query<{ kind: string; details: Record<string, unknown> }>(
      `SELECT kind, details FROM audit_events WHERE object = $1 ORDER BY id`,
      [added.id],
    );
    expect(audit.rows.map((row) => row.kind)).toEqual([
      'feed.added',
      'feed.sync-requested',
      'feed.sync-requested',
      'feed.sync-requested',
      'feed.sync-requested',
    ]);
    expect(JSON.stringify(audit.rows)).not.toContain(tokens.bReader);
  });

  it('pulls a MISP feed directory, declares the default TLP for untagged events, and backs off on errors', async () => {
    // Added with the CLI, its password from a file (never on the command line).
    const directory = await mkdtemp(path.join(tmpdir(), 'renkei-feed-'));
    const credentialsFile = path.join(directory, 'credentials.json');
    await writeFile(
      credentialsFile,
      JSON.stringify({ kind: 'basic', username: 'hub-a', password: 'misp-feed-password' }),
    );
    const cliEnv = { RENKEI_GATEWAY_URL: a.gatewayUrl, RENKEI_TOKEN: tokens.admin };
    const output = await runCommand(
      [
        'feed',
        'add',
        'misp',
        '--name',
        'Partner MISP feed',
        '--url',
        `${misp.url}/feed/`,
        '--org',
        PARTNER_MISP.id,
        '--tlp',
        'GREEN',
        '--credentials-file',
        credentialsFile,
      ],
      cliEnv,
    );
    await rm(directory, { recursive: true });
    const added = {
      id: /^added feed ([0-9a-f-]{36}) \(misp, for partner-misp, GREEN unless marked\)/.exec(output)![1]!,
    };
    const polled = await eventually(
      async () => {
        const current = await feed(added.id);
        expect(current.status.lastSuccessAt).not.toBeNull();
        return current;
      },
      { timeoutMs: 30_000 },
    );
    expect(polled.status).toMatchObject({ itemsRead: 2, reportsAccepted: 2, lastError: null });
    expect(polled.status.checkpoint.events).toBe(2);
    expect(misp.requests).toContain(`Basic ${Buffer.from('hub-a:misp-feed-password').toString('base64')}`);
    const reports = await reportsOf(tokens.partnerMisp, 2);
    // Xorist is tagged tlp:white (CLEAR); Ursnif carries no tlp: tag and takes the feed's GREEN.
    const tlpOf = (title: RegExp) => reports.find((r) => title.test(r.title))?.tlp;
    expect(tlpOf(/Xorist/)).toBe('CLEAR');
    expect(reports.map((r) => r.tlp).sort()).toEqual(['CLEAR', 'GREEN']);

    // The partner fails: the poll is recorded as failed and the next one backs off.
    misp.failing = true;
    const failed = await sync(added.id);
    expect(failed.status.consecutiveFailures).toBe(1);
    expect(failed.status.lastError).toMatch(/manifest\.json: the server answered 503/);
    expect(Date.parse(failed.status.nextPollAt!)).toBeGreaterThan(Date.parse(failed.status.lastPollAt!));
    const metrics = await (await fetch(`${a.ingest.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`renkei_partner_feed_polls_total\\{feed="${added.id}",outcome="failure"`),
    );
    // Retried by itself after the backoff, still failing: two in a row.
    await eventually(async () => expect((await feed(added.id)).status.consecutiveFailures).toBe(2), {
      timeoutMs: 30_000,
    });

    misp.failing = false;
    const recovered = await sync(added.id);
    expect(recovered.status).toMatchObject({ consecutiveFailures: 0, lastError: null, reportsAccepted: 2 });
    await reportsOf(tokens.partnerMisp, 2);

    // Removed: gone from the list, its reports stay.
    expect(await runCommand(['feed', 'remove', added.id], cliEnv)).toBe(`removed feed ${added.id}`);
    expect((await listFeeds()).map((f) => f.id)).not.toContain(added.id);
    await reportsOf(tokens.partnerMisp, 2);
  });

  /** A MISP feed as MISP writes one: `manifest.json` and `<uuid>.json` per event, behind HTTP Basic. */
  async function serveMispFeed() {
    const files = new Map<string, string>();
    const manifest: Record<string, unknown> = {};
    for (const name of MISP_EVENTS) {
      const text = await readFile(path.join(MISP_FIXTURES, name), 'utf8');
      const event = (JSON.parse(text) as { Event: { uuid: string; info: string; timestamp: string } }).Event;
      files.set(`/feed/${event.uuid}.json`, text);
      manifest[event.uuid] = { info: event.info, timestamp: event.timestamp, Tag: [] };
    }
    files.set('/feed/manifest.json', JSON.stringify(manifest));
    const state = { failing: false, requests: [] as string[] };
    const server = createServer((request, response) => {
      state.requests.push(request.headers.authorization ?? '');
      const body = files.get(request.url ?? '');
      if (state.failing) {
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"message":"down for maintenance"}');
      } else if (!body) {
        response.writeHead(404).end();
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return Object.assign(state, { server, url: `http://127.0.0.1:${port}` });
  }
});
