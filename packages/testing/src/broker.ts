import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPOSITORY_ROOT } from '@renkei/runtime';

const run = promisify(execFile);
const KAFKA_SH = path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh');

export interface PrivateBroker {
  /** For KAFKA_BROKERS. */
  brokers: string;
  start(): Promise<void>;
  /** Stops the broker; its data stays, so a start brings the same topics and messages back. */
  stop(): Promise<void>;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A broker of the test's own, for tests that take Kafka away: stopping the
 * shared broker would break every suite running beside it. It uses the
 * checkout's jars and keeps its data in a temporary folder.
 */
export async function createPrivateBroker(): Promise<PrivateBroker> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'renkei-broker-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    KAFKA_STATE_DIR: stateDir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx256m',
  };
  const kafka = (command: string) => run(KAFKA_SH, [command], { env, timeout: 120_000 });
  return {
    brokers: `127.0.0.1:${port}`,
    start: async () => void (await kafka('start')),
    stop: async () => void (await kafka('stop')),
    async remove() {
      await kafka('stop').catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
