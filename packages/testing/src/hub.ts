import type { Role } from '@renkei/schema';
import { createTestDatabase, type TestDatabase } from './database.js';
import { deleteTopicsWithPrefix, randomTopicPrefix } from './kafka.js';
import { createTestKeys, type TestKeys } from './keys.js';
import { registerOrganisations, type TestOrganisation } from './organisations.js';
import { spawnService, spawnServices, waitUntilReady, type ServiceProcess } from './services.js';

/** Who a suite acts as: a name per member, with the organisation and roles its token carries. */
export type TestActors<A extends string = string> = Record<
  A,
  { organisation: TestOrganisation; roles: Role[] }
>;

/**
 * One token per actor, with the subject `<name>-user`, so audit entries and
 * triage history name the actor the test used.
 */
export async function mintActorTokens<A extends string>(
  keys: TestKeys,
  actors: TestActors<A>,
): Promise<Record<A, string>> {
  const tokens = {} as Record<A, string>;
  for (const [name, { organisation, roles }] of Object.entries(actors) as [A, TestActors<A>[A]][]) {
    tokens[name] = await keys.token({
      org: organisation.id,
      sector: organisation.sector,
      roles,
      sub: `${name}-user`,
    });
  }
  return tokens;
}

export interface TestHubOptions<A extends string> {
  /** Registered (enabled) before any service starts. */
  organisations: readonly TestOrganisation[];
  actors: TestActors<A>;
  /** Added to every service's environment. */
  env?: Record<string, string>;
  /** Added to ingest's environment only. */
  ingestEnv?: Record<string, string>;
  /** Added to the gateway's environment only. */
  gatewayEnv?: Record<string, string>;
  /** Names the services' log files (`<label>-ingest`, …), for a suite that runs two hubs. */
  label?: string;
  /** The first gateway's label in the test logs. */
  gatewayLabel?: string;
  /**
   * Start the gateway once ingest answers, told where it is
   * (`GATEWAY_INGEST_URL`): what exercises (report injects) and TAXII adds
   * need. Otherwise the three start at once.
   */
  gatewayAfterIngest?: boolean;
}

export interface TestHub<A extends string> {
  database: TestDatabase;
  keys: TestKeys;
  /** The topic prefix of this hub's topics. */
  prefix: string;
  /** The environment every service got (database, topics, keys, and `env`). */
  env: Record<string, string>;
  ingestUrl: string;
  /** The first gateway's URL; {@link spawnGateway} starts more. */
  gatewayUrl: string;
  /** The ingest process running now ({@link restartIngest} replaces it). */
  readonly ingest: ServiceProcess;
  /** Every service started, gateways added by {@link spawnGateway} too: {@link close} stops them all. */
  services: ServiceProcess[];
  tokens: Record<A, string>;
  /**
   * One more gateway on this hub, ready: the hub's environment (and ingest's
   * URL when the first gateway had it) with `gatewayEnv`, or with `env` in
   * its place when given.
   */
  spawnGateway(label?: string, env?: Record<string, string>): Promise<ServiceProcess>;
  /**
   * Stops ingest gracefully and starts it again on the same port (a gateway
   * forwards to it) with the same settings and `extra`; resolves once it is ready.
   */
  restartIngest(extra?: Record<string, string>): Promise<ServiceProcess>;
  /** Stops every service (resolving to their exit codes), drops the database, keys and topics. */
  close(): Promise<(number | null)[]>;
}

/**
 * A whole hub of real processes for an end-to-end suite: a database and a key
 * set of its own, the organisations registered, topics under a random
 * prefix, a correlator, an ingest and a gateway, and a token per actor.
 */
export async function startTestHub<A extends string>(options: TestHubOptions<A>): Promise<TestHub<A>> {
  const [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
  await registerOrganisations(database, options.organisations);
  const prefix = randomTopicPrefix();
  const env = {
    DATABASE_URL: database.url,
    KAFKA_TOPIC_PREFIX: prefix,
    AUTH_JWKS_FILE: keys.jwksFile,
    ...options.env,
  };
  const services: ServiceProcess[] = [];
  const labelled = (service: string, label = options.label ? `${options.label}-${service}` : undefined) =>
    label ? { label } : {};
  const ingestSettings = { ...env, ...options.ingestEnv };
  let forwarding: Record<string, string> = {};
  const spawnGateway = async (label?: string, own?: Record<string, string>) => {
    const gatewayEnv = { ...env, ...forwarding, ...(own ?? options.gatewayEnv) };
    const [gateway] = await spawnServices([
      { name: 'gateway', env: gatewayEnv, ...labelled('gateway', label) },
    ]);
    services.push(gateway!);
    await waitUntilReady(gateway!.url!);
    return gateway!;
  };
  const close = async () => {
    const codes = await Promise.all(services.map((service) => service.stop()));
    await database.drop();
    await keys.remove();
    await deleteTopicsWithPrefix(prefix);
    return codes;
  };

  try {
    // The gateway starts beside the others unless it must know where ingest listens.
    const started = await spawnServices([
      { name: 'correlator', env, ...labelled('correlator') },
      { name: 'ingest', env: ingestSettings, ...labelled('ingest') },
      ...(options.gatewayAfterIngest
        ? []
        : [
            {
              name: 'gateway' as const,
              env: { ...env, ...options.gatewayEnv },
              ...labelled('gateway', options.gatewayLabel),
            },
          ]),
    ]);
    services.push(...started);
    const ingest = started[1]!;
    const ingestUrl = ingest.url!;
    let gatewayUrl: string;
    if (options.gatewayAfterIngest) {
      await waitUntilReady(ingestUrl);
      forwarding = { GATEWAY_INGEST_URL: ingestUrl };
      gatewayUrl = (await spawnGateway(options.gatewayLabel)).url!;
    } else {
      gatewayUrl = started[2]!.url!;
      await Promise.all([waitUntilReady(ingestUrl), waitUntilReady(gatewayUrl)]);
    }
    const tokens = await mintActorTokens(keys, options.actors);
    const hub: TestHub<A> = {
      database,
      keys,
      prefix,
      env,
      ingestUrl,
      gatewayUrl,
      services,
      tokens,
      ingest,
      spawnGateway,
      async restartIngest(extra = {}) {
        const index = services.indexOf(hub.ingest);
        await hub.ingest.stop();
        const restarted = await spawnService(
          'ingest',
          { ...ingestSettings, INGEST_PORT: new URL(ingestUrl).port, ...extra },
          labelled('ingest'),
        );
        services[index] = restarted;
        (hub as { ingest: ServiceProcess }).ingest = restarted;
        await waitUntilReady(restarted.url!);
        return restarted;
      },
      close,
    };
    return hub;
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

export interface JsonAnswer<T> {
  status: number;
  /** The `content-type` header ('' when none). */
  type: string;
  text: string;
  /** The body parsed when it is a JSON object, else null. */
  body: T;
}

/** One HTTP request with a bearer token and an optional JSON body; the answer read whole. */
export async function callJson<T = Record<string, unknown>>(
  url: string,
  {
    method = 'GET',
    token,
    body,
    accept,
  }: { method?: string; token?: string; body?: unknown; accept?: string } = {},
): Promise<JsonAnswer<T>> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(accept ? { accept } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    body: (text.startsWith('{') ? JSON.parse(text) : null) as T,
  };
}

/**
 * Submits a report to ingest: a GREEN, medium phishing report detected now,
 * unless `report` says otherwise. Resolves to ingest's answer; the caller
 * asserts the status it expects.
 */
export async function submitTestReport(
  ingestUrl: string,
  token: string,
  report: Record<string, unknown>,
): Promise<JsonAnswer<{ id: string; status: string }>> {
  return callJson(`${ingestUrl}/v1/reports`, {
    method: 'POST',
    token,
    body: {
      category: 'phishing',
      severity: 'medium',
      tlp: 'GREEN',
      detectedAt: new Date().toISOString(),
      ...report,
    },
  });
}
