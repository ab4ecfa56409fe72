import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { kafkaClient, type Kafka } from '@renkei/bus';
import { createLogger, REPOSITORY_ROOT } from '@renkei/runtime';
import { kafkaEnv, parseEnv } from '@renkei/schema';
import { grantPrefix } from '@renkei/testing';

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
  security: 'plaintext' | 'sasl_ssl';
  /** The Kafka settings a service reaches these brokers with as `principal` (its CA and password files). */
  clientEnv(principal: string): Record<string, string>;
  /** A kafkajs client of the run's own on these brokers, as the admin, through the hub's factory. */
  client(): Kafka;
  /** Secured: the admin makes a hub's topics and grants each service its ACLs (`renkei topics`). */
  prepare(prefix: string): Promise<void>;
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

/**
 * Secured (TLS + SCRAM + ACLs, a CA and passwords of the run's own) like the hub's default;
 * KAFKA_SECURITY=plaintext runs the drills on plaintext brokers, clients and services alike.
 */
export const FAULTS_KAFKA_SECURITY: 'plaintext' | 'sasl_ssl' =
  process.env.KAFKA_SECURITY === 'plaintext' ? 'plaintext' : 'sasl_ssl';

export async function startPrivateKafka(count: 1 | 3, log: (message: string) => void): Promise<PrivateKafka> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'renkei-faults-kafka-'));
  const { port, controller } = await freePortLadder(count);
  const security = FAULTS_KAFKA_SECURITY;
  const tlsDir = path.join(stateDir, 'kafka-tls');
  const credentialsDir = path.join(stateDir, 'kafka-credentials');
  const env = {
    ...process.env,
    KAFKA_STATE_DIR: stateDir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_BROKER_COUNT: String(count),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
    KAFKA_START_TIMEOUT: '180',
    KAFKA_SECURITY: security,
    KAFKA_TLS_DIR: tlsDir,
    KAFKA_CREDENTIALS_DIR: credentialsDir,
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
    `Kafka (${count} node${count > 1 ? 's' : ''}, ${security}) at ${brokers} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const clientEnv = (principal: string): Record<string, string> =>
    security === 'plaintext'
      ? { KAFKA_SECURITY: 'plaintext' }
      : {
          KAFKA_SECURITY: 'sasl_ssl',
          KAFKA_SASL_USERNAME: principal,
          KAFKA_SASL_PASSWORD_FILE: path.join(credentialsDir, principal),
          KAFKA_TLS_CA_FILE: path.join(tlsDir, 'ca.pem'),
        };
  const client = () =>
    kafkaClient(parseEnv(kafkaEnv, { KAFKA_BROKERS: brokers, ...clientEnv('admin') }), {
      clientId: 'renkei-faults',
      principal: 'admin',
      logger: createLogger('faults-kafka', 'silent'),
    });
  return {
    count,
    brokers,
    security,
    clientEnv,
    client,
    async prepare(prefix) {
      // A cluster's topics on all three nodes, as its services would make them (KAFKA_REPLICATION_FACTOR=3).
      if (security === 'sasl_ssl')
        await grantPrefix(client(), prefix, { acls: true, replicationFactor: count });
    },
    portOf: (node) => port + 2 * (node - 1),
    kill: async (node) => void (await kafka('kill-node', String(node))),
    startNode: async (node) => void (await kafka('start-node', String(node))),
    async remove() {
      await kafka('stop').catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
