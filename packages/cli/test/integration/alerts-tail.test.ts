import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '@renkei/db';
import { appendToFeed } from '@renkei/feed';
import {
  hubCursorSealers,
  loadGatewayConfig,
  startGateway,
  type CursorSealers,
  type RunningGateway,
} from '@renkei/gateway';
import { createLogger } from '@renkei/runtime';
import { serverFrameSchema, type AlertRecord } from '@renkei/schema';
import {
  registerOrganisations,
  TEST_ORGANISATIONS,
  alertRecordFixture,
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  waitUntilReady,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';
import { alertsCommand } from '../../src/alerts.js';

/**
 * `renkei alerts tail` against a real gateway in this process: one line per
 * event, through a gateway restart and across two runs sharing a cursor file.
 * Alerts are appended to the feed directly.
 */
describe('renkei alerts tail', () => {
  const logger = createLogger('cli-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let env: Record<string, string>;
  let gateway: RunningGateway;
  let dir: string;
  let cursors: CursorSealers['feed'];

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    // Tokens are honoured for registered, enabled organisations only.
    await registerOrganisations(database, Object.values(TEST_ORGANISATIONS));
    dir = await mkdtemp(path.join(os.tmpdir(), 'renkei-tail-'));
    prefix = randomTopicPrefix();
    env = {
      DATABASE_URL: database.url,
      ...(await sharedKafkaEnv(prefix)),
      AUTH_JWKS_FILE: keys.jwksFile,
      GATEWAY_PORT: '0',
      FEED_SWEEP_MS: '200',
      GATEWAY_FEED_POLL_MS: '250',
      LOG_LEVEL: 'silent',
      // Read by the test too: it writes the feed's start as a cursor, and opens the ones printed.
      HUB_SECRET_FILE: path.join(dir, 'hub-secret'),
    };
    gateway = await startGateway(loadGatewayConfig(env), logger);
    cursors = (await hubCursorSealers(env.HUB_SECRET_FILE!)).feed;
    await waitUntilReady(gateway.url);
  });

  afterAll(async () => {
    await gateway?.close();
    await database?.drop();
    await keys?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  async function raise(severities: AlertRecord['severity'][]): Promise<AlertRecord[]> {
    const records = severities.map((severity) => alertRecordFixture({ severity }));
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
    return records;
  }

  function run(args: string[]) {
    const lines: string[] = [];
    const news: string[] = [];
    const controller = new AbortController();
    const done = alertsCommand(
      ['tail', '--url', gateway.url, ...args],
      { RENKEI_TOKEN: token },
      {
        out: (line) => lines.push(line),
        err: (line) => news.push(line),
        signal: controller.signal,
      },
    );
    return { lines, news, done, stop: () => controller.abort() };
  }
  let token: string;

  it('prints one line per event it may see, through a gateway restart and across runs', async () => {
    token = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    const cursorFile = path.join(dir, 'tail.cursor');
    const first = run(['--min-severity', 'high', '--after', cursors.seal(0n), '--cursor-file', cursorFile]);
    const [high, , critical] = await raise(['high', 'low', 'critical']);
    await eventually(() => expect(first.lines).toHaveLength(2));
    expect(first.lines[0]).toMatch(
      new RegExp(`^#${cursors.seal(1n)}  .*  alert  HIGH  GREEN  shared-indicator v1  .*\\(${high!.id}\\)$`),
    );
    expect(first.lines[1]).toContain(critical!.id);

    const port = new URL(gateway.url).port;
    await gateway.close();
    const [whileDown] = await raise(['critical']);
    gateway = await startGateway(loadGatewayConfig({ ...env, GATEWAY_PORT: port }), logger);
    await eventually(() => expect(first.lines).toHaveLength(3), { timeoutMs: 30_000 });
    expect(first.lines[2]).toContain(whileDown!.id);
    expect(first.news.some((line) => line.startsWith('disconnected (1001'))).toBe(true);
    first.stop();
    await expect(first.done).resolves.toBe('');
    expect((await readFile(cursorFile, 'utf8')).trim()).toBe(cursors.seal(4n));

    // Between runs, more happens; the next run starts where the last one stopped.
    const [missed] = await raise(['high']);
    const second = run(['--min-severity', 'high', '--cursor-file', cursorFile, '--json']);
    await eventually(() => expect(second.lines).toHaveLength(1));
    const frame = serverFrameSchema.parse(JSON.parse(second.lines[0]!));
    expect(frame).toMatchObject({ type: 'alert', cursor: cursors.seal(5n), alert: { id: missed!.id } });
    second.stop();
    await second.done;
  });

  it('stops with a message when the gateway refuses the token', async () => {
    token = 'not-a-token';
    const refused = run([]);
    await expect(refused.done).rejects.toThrow(
      /the stream stopped: the gateway refused the token \(HTTP 401\)/,
    );
  });
});
