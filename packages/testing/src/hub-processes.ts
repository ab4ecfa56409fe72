import { createTestDatabase, type TestDatabase } from './database.js';
import { deleteTopicsWithPrefix, randomTopicPrefix } from './kafka.js';
import { createTestKeys, type TestKeys } from './keys.js';
import { spawnService, spawnServices, waitUntilReady, type ServiceProcess } from './services.js';

/** A whole hub of its own: database, signing keys, topic prefix, and its three services. */
export interface HubProcesses {
  label: string;
  database: TestDatabase;
  keys: TestKeys;
  prefix: string;
  /** What every service of the hub was started with (DATABASE_URL, KAFKA_TOPIC_PREFIX, AUTH_JWKS_FILE, and the extras). */
  env: Record<string, string>;
  ingestUrl: string;
  gatewayUrl: string;
  services: { correlator: ServiceProcess; ingest: ServiceProcess; gateway: ServiceProcess };
  /** Stops ingest gracefully and starts it again with the same settings (and `extra`); resolves once it is ready. */
  restartIngest(extra?: Record<string, string>): Promise<ServiceProcess>;
  /** Stops every service (gracefully), drops the database, removes the keys and the topics; the services' exit codes. */
  stop(): Promise<(number | null)[]>;
}

export interface HubProcessesOptions {
  /** Names the services' log files (`<label>-ingest-…`). */
  label: string;
  /** Settings for every service of the hub. */
  env?: Record<string, string>;
  /** Settings for one service only. */
  ingestEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
}

/**
 * Starts a hub whose ingest a test restarts, for a test that needs two (a
 * partner hub beside the one under test): the correlator and ingest together, then the gateway (it needs
 * ingest's URL for TAXII adds), with `TAXII_CACHE_MS=0` so a TAXII read
 * shows what was just stored.
 */
export async function startHubProcesses(options: HubProcessesOptions): Promise<HubProcesses> {
  const [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
  const prefix = randomTopicPrefix();
  const env = {
    DATABASE_URL: database.url,
    KAFKA_TOPIC_PREFIX: prefix,
    AUTH_JWKS_FILE: keys.jwksFile,
    ...options.env,
  };
  const cleanUp = async () => {
    await database.drop();
    await keys.remove();
    await deleteTopicsWithPrefix(prefix);
  };
  let correlator: ServiceProcess;
  let ingest: ServiceProcess;
  let gateway: ServiceProcess;
  try {
    [correlator, ingest] = (await spawnServices([
      { name: 'correlator', env, label: `${options.label}-correlator` },
      { name: 'ingest', env: { ...env, ...options.ingestEnv }, label: `${options.label}-ingest` },
    ])) as [ServiceProcess, ServiceProcess];
    try {
      [gateway] = (await spawnServices([
        {
          name: 'gateway',
          env: { TAXII_CACHE_MS: '0', ...env, GATEWAY_INGEST_URL: ingest.url!, ...options.gatewayEnv },
          label: `${options.label}-gateway`,
        },
      ])) as [ServiceProcess];
    } catch (error) {
      await Promise.all([correlator.kill(), ingest.kill()]);
      throw error;
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }
  await Promise.all([ingest.url!, gateway.url!].map((url) => waitUntilReady(url)));
  const hub: HubProcesses = {
    label: options.label,
    database,
    keys,
    prefix,
    env,
    ingestUrl: ingest.url!,
    gatewayUrl: gateway.url!,
    services: { correlator, ingest, gateway },
    async restartIngest(extra = {}) {
      await hub.services.ingest.stop();
      // The same port: the gateway forwards TAXII adds to it.
      const port = new URL(hub.ingestUrl).port;
      const restarted = await spawnService(
        'ingest',
        { ...env, ...options.ingestEnv, INGEST_PORT: port, ...extra },
        { label: `${options.label}-ingest` },
      );
      await waitUntilReady(restarted.url!);
      hub.services.ingest = restarted;
      return restarted;
    },
    async stop() {
      const { correlator: c, ingest: i, gateway: g } = hub.services;
      const codes = await Promise.all([g.stop(), i.stop(), c.stop()]);
      await cleanUp();
      return codes;
    },
  };
  return hub;
}
