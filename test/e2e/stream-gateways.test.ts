import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '@renkei/db';
import { appendToFeed, feedBounds, readFeed } from '@renkei/feed';
import { loadCorrelatorConfig, startCorrelator } from '@renkei/correlator';
import { hubCursorSealers, type CursorSealers } from '@renkei/gateway';
import { loadIngestConfig, startIngest } from '@renkei/ingest';
import { viewFeedEvent } from '@renkei/policy';
import { createLogger, type ServiceHandle } from '@renkei/runtime';
import type { EventFrame, Principal, ReportSubmission, Sector, ServerFrame } from '@renkei/schema';
import {
  registerOrganisations,
  TEST_ORGANISATIONS,
  alertRecordFixture,
  contributionFixture,
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  openStream,
  randomTopicPrefix,
  sleep,
  spawnService,
  waitUntilReady,
  type ServiceProcess,
  type StreamClient,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';

const isEvent = (frame: ServerFrame): frame is EventFrame =>
  frame.type === 'alert' ||
  frame.type === 'alert-update' ||
  frame.type === 'warning' ||
  frame.type === 'warning-ack';

/**
 * A viewer that keeps watching across disconnects, as a client behind a load
 * balancer does: when its connection closes it opens another with the cursor
 * of the last event it received.
 */
class Watcher {
  readonly done: EventFrame[] = [];
  readonly closeCodes: number[] = [];
  principal: Principal | undefined;
  #current: StreamClient | undefined;
  #cursor: string;
  #stopped = false;
  #running: Promise<void>;

  constructor(
    readonly name: string,
    readonly url: () => string,
    readonly token: string,
    after: string,
  ) {
    this.#cursor = after;
    this.#running = this.#run();
  }

  /** Every event frame received, over every connection, in the order received. */
  get events(): EventFrame[] {
    return [...this.done, ...(this.#current?.frames.filter(isEvent) ?? [])];
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let stream: StreamClient;
      try {
        stream = await openStream(this.url(), this.token, { after: this.#cursor });
      } catch {
        await sleep(100); // the gateway is restarting
        continue;
      }
      this.#current = stream;
      const welcome = await stream.next((frame) => frame.type === 'welcome');
      if (welcome.type === 'welcome') this.principal = welcome.principal;
      const { code } = await stream.closed;
      this.closeCodes.push(code);
      this.done.push(...stream.frames.filter(isEvent));
      this.#cursor = stream.cursor ?? this.#cursor;
      this.#current = undefined;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#current?.close();
    await this.#running;
  }
}

const ORGANISATIONS: { org: string; sector: Sector }[] = [
  { org: 'mlit-csirt', sector: 'central-government' },
  { org: 'finance-ceptar', sector: 'finance' },
  { org: 'water-ceptar', sector: 'water' },
];

/** Kilobytes of resident memory of a process, from /proc (Linux). */
function residentKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/**
 * Two gateway processes behind one (imagined) load balancer, fed by two
 * correlators at once: every viewer receives every event it may see exactly
 * once and in cursor order, whichever gateway it is on, including across a
 * gateway restart; and a viewer that stops reading is cut off without
 * holding up the others or the gateway's memory.
 */
describe('several gateways, one feed', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let env: Record<string, string>;
  const processes: ServiceProcess[] = [];
  const inProcess: ServiceHandle[] = [];
  let ingestUrl: string;
  let gatewayA: ServiceProcess;
  let gatewayB: ServiceProcess;
  const tokens = {} as Record<'analyst' | 'finance' | 'water', string>;
  const reporterTokens = new Map<string, string>();
  const MAX_BUFFERED = 256 * 1024;
  /** The gateways' cursor sealer: the test holds the hub secret too, to write and open cursors. */
  let cursors: CursorSealers['feed'];
  const positionOf = (cursor: string): bigint => {
    const position = cursors.open(cursor);
    if (position === undefined) throw new Error(`${cursor} is not a cursor of this hub`);
    return position;
  };

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    // Tokens are honoured for registered, enabled organisations only.
    await registerOrganisations(database, [
      ...Object.values(TEST_ORGANISATIONS),
      ...Array.from({ length: 10 }, (_, n) => ({
        id: `slow-${n}-csirt`,
        sector: 'finance' as const,
        kind: 'agency' as const,
      })),
    ]);
    prefix = randomTopicPrefix();
    env = {
      DATABASE_URL: database.url,
      ...(await sharedKafkaEnv(prefix)),
      AUTH_JWKS_FILE: keys.jwksFile,
      CORRELATOR_SESSION_TIMEOUT_MS: '6000',
      FEED_SWEEP_MS: '200',
      GATEWAY_FEED_POLL_MS: '250',
      GATEWAY_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
      // One secret for both gateways: a cursor one gave out opens on the other.
      HUB_SECRET_FILE: path.join(path.dirname(keys.jwksFile), 'hub-secret'),
    };
    cursors = (await hubCursorSealers(env.HUB_SECRET_FILE!)).feed;
    // The gateways are processes of their own (one restarts; the other's memory is read from /proc);
    // ingest and the two correlators run in this process, which spares a loaded machine three boots.
    const logger = createLogger('stream-gateways-test', 'silent');
    const serviceEnv = {
      ...env,
      INGEST_PORT: '0',
      CORRELATOR_PORT: '0',
      LOG_LEVEL: 'silent',
    };
    const [ingest, ...correlators] = await Promise.all([
      startIngest(loadIngestConfig(serviceEnv), logger),
      startCorrelator(loadCorrelatorConfig(serviceEnv), logger),
      startCorrelator(loadCorrelatorConfig(serviceEnv), logger),
    ]);
    inProcess.push(ingest, ...correlators);
    ingestUrl = ingest.url;
    [gatewayA, gatewayB] = await Promise.all([
      spawnService('gateway', env, { label: 'gateway-a', readyTimeoutMs: 120_000 }),
      spawnService('gateway', env, { label: 'gateway-b', readyTimeoutMs: 120_000 }),
    ]);
    processes.push(gatewayA, gatewayB);
    await Promise.all([
      waitUntilReady(ingestUrl),
      waitUntilReady(gatewayA.url!),
      waitUntilReady(gatewayB.url!),
    ]);
    tokens.analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    tokens.finance = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    tokens.water = await keys.token({ org: 'water-ceptar', sector: 'water', roles: ['ceptar'] });
    for (const { org, sector } of ORGANISATIONS)
      reporterTokens.set(org, await keys.token({ org, sector, roles: ['reporter'] }));
  });

  afterAll(async () => {
    await Promise.all(processes.map((service) => service.stop()));
    await Promise.all(inProcess.map((service) => service.close()));
    await database?.drop();
    await keys?.remove();
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  const report = (i: number, tlp: 'GREEN' | 'AMBER'): ReportSubmission => ({
    title: `Beaconing to a shared C2 #${i}`,
    category: 'malware',
    severity: i % 2 === 0 ? 'high' : 'medium',
    tlp,
    detectedAt: '2026-11-28T10:00:00Z',
    indicators: [{ type: 'domain', value: `c2-${i}.gateways.example` }],
  });

  async function post(org: string, body: ReportSubmission): Promise<string> {
    const response = await fetch(`${ingestUrl}/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${reporterTokens.get(org)}` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  /** Reports for 24 indicators, each shared by two or three organisations, posted eight at a time. */
  async function postReports(indicators: number[]): Promise<string[]> {
    const work = indicators.flatMap((i) => [
      () => post('mlit-csirt', report(i, i % 4 === 3 ? 'AMBER' : 'GREEN')),
      () => post('finance-ceptar', report(i, 'GREEN')),
      ...(i % 3 === 0 ? [() => post('water-ceptar', report(i, 'GREEN'))] : []),
    ]);
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let job = work.shift(); job; job = work.shift()) ids.push(await job());
      }),
    );
    return ids;
  }

  it('brings every event a viewer may see exactly once and in cursor order, on any gateway, across a restart', async () => {
    const { head: start } = await feedBounds(database.pool);
    const startCursor = cursors.seal(BigInt(start));
    const urlB = gatewayB.url!;
    const watchers = [gatewayA, gatewayB].flatMap((gateway) => {
      const url = gateway === gatewayA ? () => gatewayA.url! : () => urlB;
      const label = gateway === gatewayA ? 'a' : 'b';
      return [
        new Watcher(`analyst@${label}`, url, tokens.analyst, startCursor),
        new Watcher(`finance@${label}`, url, tokens.finance, startCursor),
        new Watcher(`water@${label}`, url, tokens.water, startCursor),
      ];
    });
    await eventually(() => expect(watchers.every((watcher) => watcher.principal)).toBe(true));

    const reportIds = await postReports(Array.from({ length: 12 }, (_, i) => i));
    // Gateway B restarts on the same address while reports keep coming.
    const restarted = (async () => {
      expect(await gatewayB.stop()).toBe(0);
      gatewayB = await spawnService(
        'gateway',
        { ...env, GATEWAY_PORT: new URL(urlB).port },
        { label: 'gateway-b2', readyTimeoutMs: 120_000 },
      );
      processes.push(gatewayB);
    })();
    reportIds.push(...(await postReports(Array.from({ length: 12 }, (_, i) => i + 12))));
    await restarted;

    // Triage from an analyst, through the restarted gateway.
    const alerts = await eventually(async () => {
      const { rows } = await database.pool.query<{ id: string }>(
        'SELECT id FROM alerts WHERE position IS NOT NULL ORDER BY position LIMIT 3',
      );
      expect(rows).toHaveLength(3);
      return rows;
    });
    for (const { id } of alerts) {
      const response = await fetch(`${gatewayB.url}/v1/alerts/${id}/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.analyst}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'acknowledged' }),
      });
      expect(response.status).toBe(200);
    }

    // Quiet: every report processed, nothing left to sequence or publish.
    await eventually(
      async () => {
        const { rows } = await database.pool.query<{
          processed: number;
          queued: number;
          unpublished: number;
        }>(
          `SELECT (SELECT count(*) FROM reports WHERE id = ANY($1::uuid[]))::int AS processed,
                  (SELECT count(*) FROM feed_outbox)::int AS queued,
                  (SELECT count(*) FROM feed_events WHERE published_at IS NULL)::int AS unpublished`,
          [reportIds],
        );
        expect(rows[0]).toEqual({ processed: reportIds.length, queued: 0, unpublished: 0 });
      },
      { timeoutMs: 60_000 },
    );
    const feed = await readFeed(database.pool, start, 10_000);
    expect(feed.filter((event) => event.kind === 'alert').length).toBeGreaterThanOrEqual(24);
    expect(feed.filter((event) => event.kind === 'alert-update')).toHaveLength(3);

    for (const watcher of watchers) {
      const expected = feed.flatMap((event) => {
        const frame = viewFeedEvent(watcher.principal!, event, cursors.seal(BigInt(event.position)));
        return frame ? [frame] : [];
      });
      await eventually(
        () => expect(watcher.events.length, watcher.name).toBeGreaterThanOrEqual(expected.length),
        {
          timeoutMs: 30_000,
        },
      );
      await sleep(300);
      expect(watcher.events, watcher.name).toEqual(expected);
    }
    // The sector bodies see fewer events than analysts, and never another
    // organisation's AMBER report: such reports are at most counted.
    const finance = watchers.find((watcher) => watcher.name === 'finance@b')!;
    const analyst = watchers.find((watcher) => watcher.name === 'analyst@b')!;
    expect(finance.events.length).toBeLessThan(analyst.events.length);
    const { rows: amber } = await database.pool.query<{ id: string }>(
      `SELECT id FROM reports WHERE tlp = 'AMBER' AND id = ANY($1::uuid[])`,
      [reportIds],
    );
    expect(amber.length).toBeGreaterThan(0);
    const financeSaw = new Set(
      finance.events.flatMap((frame) => (frame.type === 'alert' ? frame.alert.reportIds : [])),
    );
    expect(amber.filter((row) => financeSaw.has(row.id))).toEqual([]);
    // Viewers on B were told to reconnect when it drained, and did.
    for (const watcher of watchers.filter((w) => w.name.endsWith('@b')))
      expect(watcher.closeCodes[0]).toBe(1001);
    await Promise.all(watchers.map((watcher) => watcher.stop()));
  });

  it('cuts off viewers that stop reading, while another keeps receiving and memory stays bounded', async () => {
    const { head: start } = await feedBounds(database.pool);
    const startCursor = cursors.seal(BigInt(start));
    const fast = await openStream(gatewayA.url!, tokens.analyst, { after: startCursor });
    // Ten stalled viewers of ten organisations: ten audiences, so ten different serialisations to hold.
    const stalled = await Promise.all(
      Array.from({ length: 10 }, async (_, n) =>
        openStream(
          gatewayA.url!,
          await keys.token({ org: `slow-${n}-csirt`, sector: 'finance', roles: ['reporter'] }),
          {
            after: startCursor,
          },
        ),
      ),
    );
    await Promise.all([fast, ...stalled].map((stream) => stream.next((frame) => frame.type === 'welcome')));
    for (const stream of stalled) stream.socket.pause();

    const baseline = residentKb(gatewayA.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, residentKb(gatewayA.pid))), 50);
    // 40 batches of 10 alerts of ~50 KB: 20 MB, which each stalled viewer would otherwise hold.
    const batches = 40;
    try {
      for (let batch = 0; batch < batches; batch += 1) {
        const records = Array.from({ length: 10 }, (_, n) => {
          // Members' views are recomputed from what they may know (the
          // indicators, not the analysts' reasons): make those large too.
          const indicators = Array.from({ length: 200 }, (_, i) => ({
            type: 'domain' as const,
            value: `${'b'.repeat(60)}.${'e'.repeat(60)}.${'c'.repeat(60)}.n${batch}-${n}-${i}.example`,
          }));
          return alertRecordFixture({
            reasons: [`batch ${batch} alert ${n}: ${'beacon '.repeat(7_000)}`],
            indicators,
            contributions: [
              contributionFixture({ organisationId: 'mlit-csirt', indicators }),
              contributionFixture({ organisationId: 'mhlw-csirt', indicators }),
            ],
          });
        });
        await withTransaction(database.pool, (db) =>
          appendToFeed(
            db,
            records.map((record) => ({
              kind: 'alert' as const,
              payload: record,
              alert: { id: record.id, version: 1 },
            })),
          ),
        );
        // The fast viewer gets each batch while the others sit on theirs.
        const last = records.at(-1)!.id;
        await fast.next((frame) => frame.type === 'alert' && frame.alert.id === last, 15_000);
      }
    } finally {
      clearInterval(sampler);
    }

    const fastCursors = fast.frames.flatMap((frame) => ('cursor' in frame ? [positionOf(frame.cursor)] : []));
    expect(fastCursors).toHaveLength(batches * 10);
    expect(fastCursors).toEqual(fastCursors.map((_, n) => BigInt(start) + BigInt(n) + 1n));

    const grownMb = (peak - baseline) / 1024;
    console.log(
      `gateway resident memory: ${(baseline / 1024).toFixed(0)} MB, peak +${grownMb.toFixed(0)} MB`,
    );
    // Holding the backlog for ten stalled viewers would take ~200 MB.
    expect(grownMb).toBeLessThan(100);

    const cutOff = gatewayA.lines.filter(
      (line) => line.msg === 'stream client too slow: closed, it resumes from its cursor',
    );
    expect(cutOff).toHaveLength(10);
    for (const line of cutOff) expect(line.buffered as number).toBeLessThanOrEqual(MAX_BUFFERED + 128 * 1024);
    // A stalled viewer that reads again finds the close waiting for it, and resumes from its cursor.
    for (const stream of stalled) stream.socket.resume();
    const codes = await Promise.all(stalled.map((stream) => stream.closed.then(({ code }) => code)));
    expect(codes).toEqual(stalled.map(() => 1013));
    const first = stalled[0]!;
    const received = first.frames.filter(isEvent).length;
    const resumed = await openStream(
      gatewayA.url!,
      await keys.token({ org: 'slow-0-csirt', sector: 'finance', roles: ['reporter'] }),
      {
        after: first.cursor!,
      },
    );
    await eventually(() => expect(resumed.frames.filter(isEvent)).toHaveLength(batches * 10 - received), {
      timeoutMs: 30_000,
    });
    const all = [...first.frames, ...resumed.frames].flatMap((frame) =>
      'cursor' in frame ? [positionOf(frame.cursor)] : [],
    );
    expect(all).toEqual(fastCursors);
    await Promise.all([fast.close(), resumed.close()]);
  });
});
