import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCorrelatorConfig, startCorrelator } from '@renkei/correlator';
import { withTransaction } from '@renkei/db';
import { appendToFeed } from '@renkei/feed';
import { loadGatewayConfig, startGateway } from '@renkei/gateway';
import { loadIngestConfig, startIngest } from '@renkei/ingest';
import { createLogger, type ServiceHandle } from '@renkei/runtime';
import type { Role, Sector, WarningRecord } from '@renkei/schema';
import {
  createMigratedTestDatabase,
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  registerOrganisations,
  sleep,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';
// The gateway's own insert, so a warning is stored exactly as `POST /v1/warnings` stores it,
// but under an id the history chose: the route draws a random one, and STIX ids and their
// order follow from it, which would make two worlds differ where nothing leaked.
import { insertWarning } from '../../../services/gateway/src/queries/warnings.js';
import { GSOC, LEAK_ORGANISATIONS, sectorOf, type Step } from './history.js';

/** When a step ran in one world: every time the hub wrote for it lies in [start, end] (ms). */
export interface StepSpan {
  step: number;
  start: number;
  end: number;
}

export interface World {
  name: string;
  database: TestDatabase;
  prefix: string;
  ingestUrl: string;
  gatewayUrl: string;
  /** The steps of the history this world holds. */
  steps: Set<number>;
  spans: StepSpan[];
  close(): Promise<void>;
}

export interface Tokens {
  token(org: string, role: Role): Promise<string>;
}

/** Tokens for any organisation and role, minted once each. */
export function tokensFrom(keys: TestKeys): Tokens {
  const minted = new Map<string, Promise<string>>();
  return {
    token(org, role) {
      const key = `${org}/${role}`;
      let token = minted.get(key);
      if (!token) {
        const sector: Sector = org === GSOC.id ? GSOC.sector : sectorOf(org);
        token = keys.token({ org, sector, roles: [role], sub: `${org}-${role}` }, '2h');
        minted.set(key, token);
      }
      return token;
    },
  };
}

/**
 * A hub of its own (database, topics, ingest, correlator, gateway) in this
 * process: six of them start in the time spawning two would take on a loaded
 * machine, and they are the same services `main.ts` starts.
 */
export async function startWorld(
  name: string,
  steps: Set<number>,
  {
    keys,
    hubSecretFile,
    env = {},
    keepDatabase = false,
  }: { keys: TestKeys; hubSecretFile: string; env?: Record<string, string>; keepDatabase?: boolean },
): Promise<World> {
  const database = await createMigratedTestDatabase();
  await registerOrganisations(database, [GSOC, ...LEAK_ORGANISATIONS]);
  const prefix = randomTopicPrefix();
  const serviceEnv: Record<string, string> = {
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '4',
    ...(await sharedKafkaEnv(prefix)),
    AUTH_JWKS_FILE: keys.jwksFile,
    HUB_SECRET_FILE: hubSecretFile,
    HOST: '127.0.0.1',
    INGEST_PORT: '0',
    GATEWAY_PORT: '0',
    CORRELATOR_PORT: '0',
    LOG_LEVEL: 'silent',
    INGEST_BATCH_LINGER_MS: '0',
    FEED_SWEEP_MS: '200',
    GATEWAY_FEED_POLL_MS: '200',
    CORRELATOR_WATCHLIST_POLL_MS: '60000',
    RATE_LIMIT_WRITES_MAX: '100000',
    // The read budget answers by load and timing, which differ between worlds: a 429 in one
    // world and not the other is not a leak. The budget has tests of its own.
    RATE_LIMIT_READS_PER_SECOND: '100000',
    RATE_LIMIT_READS_BURST: '1000000',
    RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT: '16',
    // Nothing is written while viewers read, so a build cached for the pages of one
    // query (those with `next`) is what a fresh build would be; pages stay affordable.
    TAXII_CACHE_MS: '600000',
    // Small, so TAXII builds are cut and continued where items of several kinds meet.
    TAXII_MAX_ITEMS: '12',
    ...env,
  };
  const logger = createLogger(`leak-${name}`, 'silent');
  const services: ServiceHandle[] = [];
  const close = async () => {
    for (const service of services.reverse()) await service.close().catch(() => undefined);
    // Kept for a look at what each world stored (`npm run leak-check -- --keep`).
    if (keepDatabase) await database.pool.end();
    else await database.drop().catch(() => undefined);
    await deleteTopicsWithPrefix(prefix).catch(() => undefined);
  };
  try {
    const [correlator, ingest] = await Promise.all([
      startCorrelator(loadCorrelatorConfig(serviceEnv), logger),
      startIngest(loadIngestConfig(serviceEnv), logger),
    ]);
    services.push(correlator, ingest);
    const gateway = await startGateway(
      loadGatewayConfig({ ...serviceEnv, GATEWAY_INGEST_URL: ingest.url }),
      logger,
    );
    services.push(gateway);
    return {
      name,
      database,
      prefix,
      ingestUrl: ingest.url,
      gatewayUrl: gateway.url,
      steps,
      spans: [],
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A file with a hub secret every world shares, so sealing is alike in all of them. */
export async function writeHubSecret(dir: string): Promise<string> {
  const file = path.join(dir, 'hub-secret');
  await writeFile(file, 'a1'.repeat(32) + '\n', { mode: 0o600 });
  return file;
}

async function post(url: string, token: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Applies one step and waits until everything it causes is stored and on the
 * feed (sequenced and published), so the next step's times never mix with
 * this one's.
 */
export async function applyStep(world: World, tokens: Tokens, steps: readonly Step[], index: number) {
  const step = steps[index]!;
  const db = world.database.pool;
  switch (step.kind) {
    case 'report': {
      const { kind: _kind, org, ...report } = step;
      await post(`${world.ingestUrl}/v1/reports`, await tokens.token(org, 'reporter'), {
        ...report,
        title: `Report ${index} of ${org}`,
        description: `Step ${index}`,
      });
      await until(`report ${step.id} stored in ${world.name}`, async () => {
        const { rowCount } = await db.query('SELECT 1 FROM reports WHERE id = $1', [step.id]);
        return rowCount === 1;
      });
      break;
    }
    case 'tlp': {
      const token = await tokens.token(step.by, step.by === 'gsoc' ? 'analyst' : 'reporter');
      await post(`${world.ingestUrl}/v1/reports/${step.reportId}/tlp`, token, { tlp: step.tlp });
      await until(`report ${step.reportId} at ${step.tlp} in ${world.name}`, async () => {
        const { rows } = await db.query<{ tlp: string }>('SELECT tlp FROM reports WHERE id = $1', [
          step.reportId,
        ]);
        return rows[0]?.tlp === step.tlp;
      });
      break;
    }
    case 'warning': {
      const record: WarningRecord = {
        id: step.id,
        title: `Warning ${index}`,
        body: `Step ${index}: watch ${step.indicators.map((i) => i.value).join(', ')}`,
        severity: step.severity,
        tlp: step.tlp,
        sectors: step.sectors,
        indicators: step.indicators,
        alertIds: [],
        publishedAt: new Date().toISOString(),
        publishedBy: 'gsoc-analyst',
        exercise: false,
      };
      await withTransaction(db, async (client) => {
        await insertWarning(client, record);
        await appendToFeed(client, [{ kind: 'warning', payload: record }]);
      });
      break;
    }
  }
  await until(`the feed of ${world.name} to be sequenced and published`, async () => {
    const { rows } = await db.query<{ idle: boolean }>(
      `SELECT NOT EXISTS (SELECT 1 FROM feed_outbox)
          AND NOT EXISTS (SELECT 1 FROM feed_events WHERE published_at IS NULL) AS idle`,
    );
    return rows[0]!.idle;
  });
}

/**
 * Runs the steps in order on the worlds, in lockstep: a step starts in every
 * world that holds it at once, and the next starts only when it is done in
 * all of them, so each world's span of a step is known.
 */
export async function runSteps(worlds: readonly World[], tokens: Tokens, steps: readonly Step[]) {
  for (let index = 0; index < steps.length; index += 1) {
    const holding = worlds.filter((world) => world.steps.has(index));
    if (holding.length === 0) continue;
    const start = Date.now();
    await Promise.all(holding.map((world) => applyStep(world, tokens, steps, index)));
    const end = Date.now();
    for (const world of holding) world.spans.push({ step: index, start, end });
    // Times are compared at millisecond precision: no two steps share one.
    await sleep(3);
  }
}
