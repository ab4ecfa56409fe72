import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { REPOSITORY_ROOT } from '@renkei/runtime';

const run = promisify(execFile);
const KAFKA_SH = path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh');

/** One broker or a three-node KRaft cluster of the run's own, never the shared one at 9092. */
export interface PrivateKafka {
  count: 1 | 3;
  /** For KAFKA_BROKERS. */
  brokers: string;
  /** Client port of node N (1-based). */
  portOf(node: number): number;
  kill(node: number): Promise<void>;
  startNode(node: number): Promise<void>;
  /** A kafkajs client of the run's own on these brokers. */
  client(): Kafka;
  remove(): Promise<void>;
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port whose base, +2, +4 (and the same for the controllers at +6000) are all free,
 * all below Linux's ephemeral range (32768 and up): a port found free there can be taken
 * by an outgoing connection before the broker binds it.
 */
async function freePortLadder(count: number): Promise<{ port: number; controller: number }> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 2_990);
    const controller = port + 6_000;
    const wanted = Array.from({ length: count }, (_, i) => [port + 2 * i, controller + 2 * i]).flat();
    const free = await Promise.all(wanted.map(isFree));
    if (free.every(Boolean)) return { port, controller };
  }
  throw new Error('no free ports for a private Kafka after 50 tries');
}

export async function startPrivateKafka(count: 1 | 3, log: (message: string) => void): Promise<PrivateKafka> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'renkei-faults-kafka-'));
  const { port, controller } = await freePortLadder(count);
  const env = {
    ...process.env,
    KAFKA_STATE_DIR: stateDir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_BROKER_COUNT: String(count),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
    KAFKA_START_TIMEOUT: '180',
    // The drills' own clients speak plaintext; an exported KAFKA_SECURITY must not half-secure a run.
    KAFKA_SECURITY: 'plaintext',
  };
  const kafka = async (...args: string[]) => {
    const { stdout } = await run(KAFKA_SH, args, { env, timeout: 240_000 });
    return stdout;
  };
  const started = performance.now();
  try {
    await kafka('start');
  } catch (error) {
    // The nodes that did start must not outlive the run.
    await kafka('stop').catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
  const brokers = (await kafka('brokers')).trim();
  log(
    `Kafka (${count} node${count > 1 ? 's' : ''}) at ${brokers} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return {
    count,
    brokers,
    portOf: (node) => port + 2 * (node - 1),
    kill: async (node) => void (await kafka('kill-node', String(node))),
    startNode: async (node) => void (await kafka('start-node', String(node))),
    client: () =>
      new Kafka({ clientId: 'renkei-faults', brokers: brokers.split(','), logLevel: logLevel.NOTHING }),
    async remove() {
      await kafka('stop').catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
