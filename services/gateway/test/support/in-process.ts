import { readFeed } from '@renkei/feed';
import type { HttpApp } from '@renkei/http';
import type { Pool } from '@renkei/db';
import { startRegistryCache, type OrganisationRegistry } from '@renkei/registry';
import { createLogger, type Logger } from '@renkei/runtime';
import {
  createMigratedTestDatabase,
  createTestKeys,
  registerOrganisations,
  testTokenVerifier,
  type TestDatabase,
  type TestKeys,
  type TestOrganisation,
} from '@renkei/testing';
import { buildGatewayApp, type GatewayDeps } from '../../src/app.js';
import { StreamHub, type StreamHubOptions } from '../../src/stream-hub.js';

/**
 * The gateway's routes in this process, for suites that drive them with
 * `app.inject` or a real socket on a real database: no Kafka, no follower.
 * Here, not in `@renkei/testing`, because it builds the gateway itself,
 * which that package must not depend on.
 */

export interface InProcessAppOptions extends Partial<Omit<GatewayDeps, 'hub' | 'verifyToken'>> {
  logger: Logger;
  pool: Pool;
  keys: TestKeys;
  registry: OrganisationRegistry;
  /** Settings of the stream hub beyond the defaults (position 0, 1 MiB buffer, the feed read from `pool`). */
  hub?: Partial<StreamHubOptions>;
}

/** The gateway app over `pool`, verifying the test keys' tokens, always ready. */
export async function buildInProcessGatewayApp({
  keys,
  hub,
  ...deps
}: InProcessAppOptions): Promise<HttpApp> {
  return buildGatewayApp({
    checkReadiness: async () => true,
    ...deps,
    hub: new StreamHub({
      position: '0',
      readFeed: (after, upTo, limit) => readFeed(deps.pool, after, limit, upTo),
      maxBufferedBytes: 1024 * 1024,
      logger: deps.logger,
      ...hub,
    }),
    verifyToken: await testTokenVerifier(keys),
  });
}

/** The registry cache a gateway would keep, over the test database. */
export function startTestRegistry(
  database: TestDatabase,
  { logger = createLogger('registry-test', 'silent'), pollEveryMs = 60_000 } = {},
): Promise<OrganisationRegistry> {
  return startRegistryCache({ pool: database.pool, databaseUrl: database.url, logger, pollEveryMs });
}

export interface InProcessGateway {
  database: TestDatabase;
  keys: TestKeys;
  registry: OrganisationRegistry;
  http: HttpApp;
  /** Closes the app and the registry, drops the database and removes the keys. */
  close(): Promise<void>;
}

export interface InProcessGatewayOptions extends Partial<
  Omit<InProcessAppOptions, 'pool' | 'keys' | 'registry'>
> {
  /** Registered (enabled) before the registry is read. */
  organisations: readonly TestOrganisation[];
  /** How often the registry is read without a notification. Default 60 s. */
  registryPollMs?: number;
  /** Where the registry cache logs; default the app's logger. */
  registryLogger?: Logger;
  /** Rows the suite needs before the app starts (after the organisations). */
  seed?: (database: TestDatabase) => Promise<void>;
}

/** A migrated database and key set of the suite's own, its organisations registered, and the gateway app on them. */
export async function startInProcessGateway({
  organisations,
  registryPollMs,
  registryLogger,
  seed,
  logger = createLogger('gateway-test', 'silent'),
  ...deps
}: InProcessGatewayOptions): Promise<InProcessGateway> {
  const [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
  let registry: OrganisationRegistry | undefined;
  let http: HttpApp | undefined;
  const close = async () => {
    await http?.close(1_000);
    await registry?.close();
    await database.drop();
    await keys.remove();
  };
  try {
    await registerOrganisations(database, organisations);
    await seed?.(database);
    registry = await startTestRegistry(database, {
      logger: registryLogger ?? logger,
      ...(registryPollMs === undefined ? {} : { pollEveryMs: registryPollMs }),
    });
    http = await buildInProcessGatewayApp({ ...deps, logger, pool: database.pool, keys, registry });
    return { database, keys, registry, http, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
