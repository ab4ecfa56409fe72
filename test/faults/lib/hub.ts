import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { DEFAULT_BACKOFF, failuresInRow, restartDelay } from '@renkei/supervisor';
import { freePort } from '@renkei/testing';

export const FAULTS_STATE_DIR = path.join(REPOSITORY_ROOT, '.renkei', 'faults');
/** One folder per run: labels count from 1 again in every run. */
export const LOG_DIR = path.join(
  FAULTS_STATE_DIR,
  'logs',
  new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z'),
);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type ServiceName = 'ingest' | 'correlator' | 'gateway';
const PORT_VARIABLE: Record<ServiceName, string> = {
  ingest: 'INGEST_PORT',
  correlator: 'CORRELATOR_PORT',
  gateway: 'GATEWAY_PORT',
};

/** An exit nobody asked for: the scenario's verdict names it. */
export interface UnplannedExit {
  label: string;
  code: number | null;
  signal: string | null;
  atMs: number;
}

/**
 * One service process on a port of its own that stays the same across
 * restarts, so clients keep their address. The run plays the supervisor: a
 * process that exits without being told to is restarted (as
 * `npm run up`'s supervisor would, with its backoff), and the exit is recorded, because a
 * service that exits on a dependency's loss is what the suite is there to catch.
 */
export class ManagedService {
  readonly url: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #planned = false;
  #closed = false;
  #startedAt = 0;
  #failures = 0;

  constructor(
    readonly name: ServiceName,
    readonly label: string,
    readonly port: number,
    /** Its metrics listener: named, not derived from `port`, so it cannot land on another service's port. */
    readonly metricsPort: number,
    readonly env: Record<string, string>,
    readonly exits: UnplannedExit[],
    readonly clock: () => number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process and waits until `/readyz` answers 200. */
  async start(readyTimeoutMs = 180_000): Promise<void> {
    mkdirSync(LOG_DIR, { recursive: true });
    const output = openSync(path.join(LOG_DIR, `${this.label}.log`), 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${this.name}/src/main.ts`], {
      cwd: REPOSITORY_ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        ...this.env,
        [PORT_VARIABLE[this.name]]: String(this.port),
        METRICS_PORT: String(this.metricsPort),
      },
      stdio: ['ignore', output, output],
    });
    closeSync(output);
    running.add(child);
    this.#child = child;
    this.#startedAt = performance.now();
    this.#planned = false;
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        if (!this.#planned && !this.#closed) {
          this.exits.push({ label: this.label, code, signal, atMs: this.clock() });
          // Bounded in time by the scenario: close() ends the restarts.
          this.#failures = failuresInRow(
            this.#failures,
            performance.now() - this.#startedAt,
            DEFAULT_BACKOFF,
          );
          void sleep(restartDelay(this.#failures, DEFAULT_BACKOFF)).then(() => this.#restart());
        }
        resolve();
      }),
    );
    await this.waitReady(readyTimeoutMs);
  }

  async #restart(): Promise<void> {
    if (this.#closed) return;
    await this.start().catch(() => undefined);
  }

  async ready(): Promise<boolean> {
    return fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
  }

  async waitReady(timeoutMs: number): Promise<number> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    while (!(await this.ready())) {
      if (performance.now() > deadline)
        throw new Error(`${this.label} was not ready within ${timeoutMs} ms (see ${LOG_DIR})`);
      await sleep(200);
    }
    return performance.now() - started;
  }

  /** kill -9, as a crash would; the caller restarts it (or not). */
  async kill(): Promise<void> {
    if (!this.#child || this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#planned = true;
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.#exited;
    clearTimeout(force);
  }
}

// Whatever happens to the run, no service it started outlives it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let labelled = 0;

export interface HubOptions {
  databaseUrl: string;
  brokers: string;
  prefix: string;
  jwksFile: string;
  correlators?: number;
  env?: Record<string, string>;
  /** Each service's Kafka settings, as its own principal (the brokers' PrivateKafka.clientEnv). */
  kafkaEnv: (principal: string) => Record<string, string>;
  clock: () => number;
}

/** The three services (or several correlators) on one database and topic prefix. */
export class Hub {
  private constructor(
    readonly ingest: ManagedService,
    readonly gateway: ManagedService,
    readonly correlators: ManagedService[],
    /** Exits nobody asked for, of any of them. */
    readonly exits: UnplannedExit[],
  ) {}

  static async start(options: HubOptions): Promise<Hub> {
    const exits: UnplannedExit[] = [];
    const env = {
      DATABASE_URL: options.databaseUrl,
      KAFKA_BROKERS: options.brokers,
      KAFKA_TOPIC_PREFIX: options.prefix,
      AUTH_JWKS_FILE: options.jwksFile,
      // The write limit protects a hub from one organisation; the fault run is that organisation.
      RATE_LIMIT_WRITES_MAX: '100000000',
      ...options.env,
    };
    const make = async (name: ServiceName) =>
      new ManagedService(
        name,
        `${name}-${++labelled}`,
        await freePort(),
        await freePort(),
        { ...options.kafkaEnv(name), ...env },
        exits,
        options.clock,
      );
    const ingest = await make('ingest');
    const gateway = await make('gateway');
    const correlators = await Promise.all(
      Array.from({ length: options.correlators ?? 1 }, () => make('correlator')),
    );
    const hub = new Hub(ingest, gateway, correlators, exits);
    try {
      // Ingest first: it creates the topics the others subscribe to; the rest race as in production.
      await ingest.start();
      await Promise.all([gateway.start(), ...correlators.map((correlator) => correlator.start())]);
    } catch (error) {
      // A hub that could not start must not leave half of itself running.
      await hub.close();
      throw error;
    }
    return hub;
  }

  get all(): ManagedService[] {
    return [this.ingest, this.gateway, ...this.correlators];
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((service) => service.close()));
  }
}

/**
 * How a service answered POST /v1/reports, from its own request log: the hub's
 * side of the clients' figures. A client that got no answer while the service
 * logged only 202s was held up on its own side (a starved machine, its sockets).
 */
export function answersLogged(label: string): { statuses: Record<string, number>; slowestMs: number } {
  const statuses: Record<string, number> = {};
  let slowestMs = 0;
  let text = '';
  try {
    text = readFileSync(path.join(LOG_DIR, `${label}.log`), 'utf8');
  } catch {
    return { statuses, slowestMs };
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"path":"/v1/reports"')) continue;
    try {
      const entry = JSON.parse(line) as { path?: string; status?: number; ms?: number };
      if (entry.path !== '/v1/reports' || entry.status === undefined || entry.ms === undefined) continue;
      statuses[entry.status] = (statuses[entry.status] ?? 0) + 1;
      slowestMs = Math.max(slowestMs, entry.ms);
    } catch {
      // A line cut by a kill -9.
    }
  }
  return { statuses, slowestMs };
}
