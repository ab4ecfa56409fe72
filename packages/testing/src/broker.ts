import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { kafkaClient, type Kafka } from '@renkei/bus';
import { createLogger, REPOSITORY_ROOT } from '@renkei/runtime';
import { kafkaEnv, parseEnv } from '@renkei/schema';
import { grantPrefix, TEST_KAFKA_SECURITY } from './kafka.js';

const run = promisify(execFile);
const KAFKA_SH = path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh');

export interface PrivateBroker {
  /** For KAFKA_BROKERS. */
  brokers: string;
  security: 'plaintext' | 'sasl_ssl';
  /** Secured: the CA its certificate is signed by (for KAFKA_TLS_CA_FILE). */
  caFile: string;
  /** Secured: the file holding a principal's password (for KAFKA_SASL_PASSWORD_FILE). */
  passwordFile(principal: string): string;
  /** The Kafka settings a service or the CLI reaches it with, as a principal (plaintext: none). */
  clientEnv(principal: string): Record<string, string>;
  /** A client as `principal` (admin by default), through the hub's own factory. */
  client(principal?: string): Kafka;
  /**
   * Makes a prefix's topics and grants the services their ACLs, as the admin (`renkei topics`):
   * on a secured broker the services may not create topics. Nothing to do on a plaintext one.
   */
  prepare(prefix: string): Promise<void>;
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
export async function createPrivateBroker({
  security = TEST_KAFKA_SECURITY,
  startTimeoutSeconds = 90,
}: {
  /** How long a start may take (KAFKA_START_TIMEOUT). */
  startTimeoutSeconds?: number;
  /**
   * sasl_ssl: TLS + SCRAM with ACLs, its CA and passwords of its own, in its folder. By default
   * what the shared broker is, so a secured run exercises the real configuration throughout.
   */
  security?: 'plaintext' | 'sasl_ssl';
} = {}): Promise<PrivateBroker> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'renkei-broker-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const tlsDir = path.join(stateDir, 'kafka-tls');
  const credentialsDir = path.join(stateDir, 'kafka-credentials');
  const env = {
    ...process.env,
    KAFKA_STATE_DIR: stateDir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx256m',
    // A broker that lives for one suite: the C1 compiler alone starts it in about half
    // the CPU (2 s against 4-5 s) and half the time on a busy machine; peak speed is not its job.
    KAFKA_JVM_OPTS: process.env.KAFKA_JVM_OPTS ?? '-XX:TieredStopAtLevel=1',
    KAFKA_START_TIMEOUT: String(startTimeoutSeconds),
    KAFKA_SECURITY: security,
    KAFKA_TLS_DIR: tlsDir,
    KAFKA_CREDENTIALS_DIR: credentialsDir,
  };
  const kafka = async (command: string) => {
    try {
      return await run(KAFKA_SH, [command], { env, timeout: (startTimeoutSeconds + 30) * 1000 });
    } catch (error) {
      // What kafka.sh said (the broker's own log lines on a failed start), not only that it failed.
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`kafka.sh ${command} failed: ${stderr.slice(-4000)}`, { cause: error });
    }
  };
  const caFile = path.join(tlsDir, 'ca.pem');
  const passwordFile = (principal: string) => path.join(credentialsDir, principal);
  const brokers = `127.0.0.1:${port}`;
  const clientEnv = (principal: string): Record<string, string> =>
    security === 'plaintext'
      ? { KAFKA_SECURITY: 'plaintext' }
      : {
          KAFKA_SECURITY: security,
          KAFKA_SASL_USERNAME: principal,
          KAFKA_SASL_PASSWORD_FILE: passwordFile(principal),
          KAFKA_TLS_CA_FILE: caFile,
        };
  const client = (principal = 'admin') =>
    kafkaClient(parseEnv(kafkaEnv, { KAFKA_BROKERS: brokers, ...clientEnv(principal) }), {
      clientId: `private-broker-${principal}`,
      principal,
      logger: createLogger('private-broker', 'silent'),
    });
  return {
    brokers,
    security,
    caFile,
    passwordFile,
    clientEnv,
    client,
    async prepare(prefix) {
      if (security === 'sasl_ssl') await grantPrefix(client(), prefix, { acls: true });
    },
    start: async () => void (await kafka('start')),
    stop: async () => void (await kafka('stop')),
    async remove() {
      await kafka('stop').catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
