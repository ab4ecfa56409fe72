import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { prepareTestPrefix, TEST_KAFKA_BROKERS, TEST_KAFKA_SECURITY, testKafkaEnv } from './kafka.js';

export type ServiceName = 'ingest' | 'correlator' | 'gateway';

export interface LogLine {
  msg?: string;
  level?: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  name: ServiceName;
  pid: number;
  /** Where the service listens (ingest, gateway). */
  url: string | undefined;
  /** Where its `GET /metrics` answers: a listener of its own. */
  metricsUrl: string | undefined;
  logFile: string;
  lines: LogLine[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves to the exit code when the process ends by itself or is stopped. */
  exited: Promise<number | null>;
  /** SIGTERM and wait: the graceful path. Resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
}

export const TEST_LOG_DIR = path.join(REPOSITORY_ROOT, '.renkei', 'test-logs');

// Whatever happens to a test, no service it started outlives the test process.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts a service as its own process (node with the tsx loader in-process,
 * so a signal reaches the service itself, not a wrapper), exactly as `up` does.
 */
export async function spawnService(
  name: ServiceName,
  env: Record<string, string>,
  {
    label = name,
    readyTimeoutMs = 60_000,
    nodeArgs = [],
  }: { label?: string; readyTimeoutMs?: number; /** e.g. `--cpu-prof` */ nodeArgs?: string[] } = {},
): Promise<ServiceProcess> {
  // On the secured shared broker each service is its own principal (its name), with the
  // ACLs of its suite's prefix, granted by the admin first, as `renkei topics` does.
  const onSharedBroker = (env.KAFKA_BROKERS ?? TEST_KAFKA_BROKERS) === TEST_KAFKA_BROKERS;
  if (onSharedBroker && TEST_KAFKA_SECURITY === 'sasl_ssl' && env.KAFKA_SASL_USERNAME === undefined) {
    await prepareTestPrefix(env.KAFKA_TOPIC_PREFIX ?? '');
  }
  // A test's private broker is reached as the test says (createPrivateBroker's clientEnv): the
  // shared broker's settings are not its business, and the services' default is sasl_ssl.
  const security = onSharedBroker ? testKafkaEnv(name) : { KAFKA_SECURITY: 'plaintext' };
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  const logFile = path.join(TEST_LOG_DIR, `${label}-${Date.now()}.log`);
  const logStream = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', `services/${name}/src/main.ts`],
    {
      cwd: REPOSITORY_ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        INGEST_PORT: '0',
        GATEWAY_PORT: '0',
        CORRELATOR_PORT: '0',
        // A free port, also for a test that picks the service's own: its port + 10 may be taken.
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
        ...security,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: LogLine[] = [];
  const waiters = new Set<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (text) => {
      logStream.write(text + '\n');
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const waiter of waiters) {
        if (waiter.predicate(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
  }

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 30_000) => {
    const seen = lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { predicate, resolve };
      waiters.add(waiter);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${label}: no matching log line in ${timeoutMs} ms (see ${logFile})`));
      }, timeoutMs);
      void exited.then((code) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${label} exited with code ${code} before the expected log line (see ${logFile})`));
      });
      const original = waiter.resolve;
      waiter.resolve = (line) => {
        clearTimeout(timer);
        original(line);
      };
    });
  };

  const readyMessage = {
    ingest: 'ingest listening',
    gateway: 'gateway listening',
    correlator: 'correlator consuming',
  }[name];
  let ready: LogLine;
  try {
    ready = await waitForLog((line) => line.msg === readyMessage, readyTimeoutMs);
  } catch (error) {
    // A service that never became ready must not outlive the test that started it.
    child.kill('SIGKILL');
    logStream.end();
    throw error;
  }

  return {
    name,
    pid: child.pid!,
    url: typeof ready.url === 'string' ? ready.url : undefined,
    metricsUrl: typeof ready.metricsUrl === 'string' ? ready.metricsUrl : undefined,
    exited,
    logFile,
    lines,
    waitForLog,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const code = await exited;
      logStream.end();
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
      logStream.end();
    },
  };
}

/** Polls `GET /readyz` until the service says it is ready. */
export async function waitUntilReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Starts several services at once (so they race on migrations and topics as in
 * production). If one fails to start, the others are stopped before the error
 * is thrown, so nothing is left running.
 */
export async function spawnServices(
  specs: { name: ServiceName; env: Record<string, string>; label?: string }[],
): Promise<ServiceProcess[]> {
  const results = await Promise.allSettled(
    specs.map((spec) => spawnService(spec.name, spec.env, spec.label ? { label: spec.label } : {})),
  );
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((service) => service.kill()));
    throw failure.reason;
  }
  return started;
}
