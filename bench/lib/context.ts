import { topicNames } from '@renkei/bus';
import {
  createMigratedTestDatabase,
  deleteTopicsWithPrefix,
  freePort,
  randomTopicPrefix,
  registerOrganisations,
  TEST_ORGANISATIONS,
  type TestDatabase,
  type TestKeys,
  type TestOrganisation,
  sharedKafkaEnv,
  TEST_KAFKA_BROKERS,
} from '@renkei/testing';
import { startLoadGenerator, type LoadGenerator } from './load.js';
import { startProcess, type BenchProcess } from './processes.js';
import type { BenchContext, Scenario, ServiceName, Stack } from './scenario.js';

let labelled = 0;
/** Labels name log files and figures; a number keeps two of the same kind apart. */
const label = (what: string) => `${what}-${++labelled}`;

const PORT_VARIABLE: Record<ServiceName, string> = {
  ingest: 'INGEST_PORT',
  correlator: 'CORRELATOR_PORT',
  gateway: 'GATEWAY_PORT',
};

/** What a scenario (or the whole run) started, released in reverse order when it ends. */
export class BenchResources {
  readonly #releases: { what: string; release: () => Promise<unknown> | unknown }[] = [];
  readonly #shared = new Map<string, Promise<unknown>>();
  /** Exit codes of the processes stopped at the end, by label: a service that does not drain cleanly is worth knowing about. */
  readonly exitCodes: Record<string, number | null> = {};

  defer(what: string, release: () => Promise<unknown> | unknown): void {
    this.#releases.push({ what, release });
  }

  shared<T>(key: string, create: () => Promise<T>): Promise<T> {
    let value = this.#shared.get(key) as Promise<T> | undefined;
    if (!value) {
      value = create();
      this.#shared.set(key, value);
    }
    return value;
  }

  track(process: BenchProcess): BenchProcess {
    this.defer(`stop ${process.label}`, async () => {
      this.exitCodes[process.label] = await process.stop();
    });
    return process;
  }

  async releaseAll(log: (message: string) => void): Promise<void> {
    for (const { what, release } of this.#releases.splice(0).reverse()) {
      try {
        await release();
      } catch (error) {
        log(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

export interface ContextOptions {
  smoke: boolean;
  /** `scenario.setting` → value, from `--set`. */
  overrides: Map<string, number>;
  log: (message: string) => void;
  keys: TestKeys;
}

/**
 * The context one scenario runs with. What it starts belongs to `scope`, which
 * the runner releases when the scenario ends; what it makes through `shared`
 * (and the run's load process) belongs to `runScope`, released when the run ends.
 */
export function scenarioContext(
  scenario: Scenario,
  scope: BenchResources,
  runScope: BenchResources,
  options: ContextOptions,
): BenchContext {
  const { smoke, overrides, log, keys } = options;
  return {
    smoke,
    setting(name) {
      const override = overrides.get(`${scenario.name}.${name}`);
      if (override !== undefined) return override;
      const setting = scenario.settings[name];
      if (!setting) throw new Error(`${scenario.name} reads a setting it does not declare: ${name}`);
      return smoke ? setting.smoke : setting.full;
    },
    log: (message) => log(`[${scenario.name}] ${message}`),
    brokers: TEST_KAFKA_BROKERS,
    jwksFile: keys.jwksFile,
    token: (who) => keys.token({ ...who, sub: `${who.org}-bench` }, '12h'),
    createDatabase: () => createDatabase(scope),
    topicPrefix: () => topicPrefix(scope),
    startStack(services, env = {}) {
      // A smoke run's figures mean nothing, and starting services is most of its time on a
      // busy machine: every scenario of a smoke run gets the same full stack, started once.
      if (smoke)
        return runScope.shared('smoke-stack', () =>
          startStack(runScope, keys, ['ingest', 'correlator', 'gateway'], env),
        );
      return startStack(scope, keys, services, env);
    },
    async startProcess({ portVariable, port: chosen, ...spec }) {
      const port = chosen ?? (await freePort());
      const process = await startProcess({
        ...spec,
        label: label(spec.label),
        port,
        env: {
          HOST: '127.0.0.1',
          PORT: String(port),
          ...(portVariable ? { [portVariable]: String(port) } : {}),
          ...spec.env,
        },
      });
      return scope.track(process);
    },
    load: () => runScope.shared('load', () => startLoad(runScope, 'load')),
    startLoad: (what) => startLoad(scope, what),
    shared: (key, create) =>
      runScope.shared(key, () => create(scenarioContext(scenario, runScope, runScope, options))),
    defer: (release) => scope.defer('release a scenario resource', release),
  };
}

/** Every organisation a scenario mints tokens for: the hub honours registered ones only. */
const BENCH_ORGANISATIONS: TestOrganisation[] = [
  TEST_ORGANISATIONS.gsoc,
  TEST_ORGANISATIONS.mlitCsirt,
  TEST_ORGANISATIONS.financeCeptar,
  // Audiences of the fan-out scenario.
  TEST_ORGANISATIONS.waterCeptar,
  TEST_ORGANISATIONS.railCeptar,
  { id: 'bench-csirt', sector: 'finance', kind: 'agency' },
];

async function createDatabase(scope: BenchResources): Promise<TestDatabase> {
  const database = await createMigratedTestDatabase();
  scope.defer('drop a database', () => database.drop());
  await registerOrganisations(database, BENCH_ORGANISATIONS);
  return database;
}

function topicPrefix(scope: BenchResources): string {
  const prefix = randomTopicPrefix().replace(/^test-/, 'bench-');
  scope.defer(`delete the topics ${prefix}*`, () => deleteTopicsWithPrefix(prefix));
  return prefix;
}

async function startStack(
  scope: BenchResources,
  keys: TestKeys,
  services: ServiceName[],
  env: Record<string, string>,
): Promise<Stack> {
  const database = await createDatabase(scope);
  const prefix = topicPrefix(scope);
  const ports = await Promise.all(services.map(() => freePort()));
  const metricsPorts = await Promise.all(services.map(() => freePort()));
  const kafkaEnv = await sharedKafkaEnv(prefix);
  // Started together: they race on migrations and topics as in production, and it is faster.
  const started = await Promise.allSettled(
    services.map((name, index) =>
      startProcess({
        label: label(name),
        script: `services/${name}/src/main.ts`,
        port: ports[index]!,
        metricsPort: metricsPorts[index]!,
        env: {
          DATABASE_URL: database.url,
          ...kafkaEnv,
          AUTH_JWKS_FILE: keys.jwksFile,
          // The write limit protects a hub from one organisation; a benchmark is that organisation.
          RATE_LIMIT_WRITES_MAX: '100000000',
          HOST: '127.0.0.1',
          [PORT_VARIABLE[name]]: String(ports[index]),
          METRICS_PORT: String(metricsPorts[index]),
          ...env,
        },
      }).then((process) => scope.track(process)),
    ),
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  const processes = started.map((result) => (result as PromiseFulfilledResult<BenchProcess>).value);
  return {
    databaseUrl: database.url,
    prefix,
    topics: topicNames(prefix),
    processes,
    service(name) {
      const index = services.indexOf(name);
      if (index < 0) throw new Error(`this stack runs ${services.join(', ')}, not ${name}`);
      return processes[index]!;
    },
  };
}

async function startLoad(scope: BenchResources, what: string): Promise<LoadGenerator> {
  const load = await startLoadGenerator(label(what));
  scope.defer(`stop the load process ${what}`, () => load.close());
  return load;
}
