import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SASLOptions } from 'kafkajs';
import { RenkeiError, stateDirectory } from '@renkei/runtime';

/** The Kafka security settings of a service's configuration (kafkaEnv in @renkei/schema). */
export interface KafkaSecurityConfig {
  KAFKA_SECURITY: 'plaintext' | 'sasl_ssl';
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_SASL_PASSWORD_FILE?: string | undefined;
  KAFKA_TLS_CA_FILE?: string | undefined;
}

/** What createKafka needs to reach a secured broker; undefined on a plaintext one. */
export interface KafkaClientSecurity {
  ssl: { ca?: string[] };
  sasl: SASLOptions & { mechanism: 'scram-sha-512' };
}

/** Where kafka.sh keeps the local CA and each principal's password. */
export function kafkaCredentialsDirectory(stateDir: string): string {
  return path.join(stateDir, 'kafka-credentials');
}
export function kafkaCaFile(stateDir: string): string {
  return path.join(stateDir, 'kafka-tls', 'ca.pem');
}

/**
 * Reads the password and CA a service connects with, once at start-up. Without
 * a username the service is its own principal (`ingest`, …), and the password
 * and CA default to the files `kafka.sh` made under the state directory, so a
 * local hub needs only KAFKA_SECURITY=sasl_ssl.
 */
export function kafkaClientSecurity(
  config: KafkaSecurityConfig,
  { principal, env = process.env }: { principal: string; env?: Record<string, string | undefined> },
): KafkaClientSecurity | undefined {
  if (config.KAFKA_SECURITY === 'plaintext') return undefined;
  const stateDir = stateDirectory(env);
  const username = config.KAFKA_SASL_USERNAME ?? principal;
  const passwordFile =
    config.KAFKA_SASL_PASSWORD === undefined
      ? (config.KAFKA_SASL_PASSWORD_FILE ?? path.join(kafkaCredentialsDirectory(stateDir), username))
      : undefined;
  const password =
    config.KAFKA_SASL_PASSWORD ??
    readConfigFile(passwordFile!, 'KAFKA_SASL_PASSWORD_FILE', config.KAFKA_SASL_PASSWORD_FILE === undefined)
      .toString()
      .trim();
  if (password === '') {
    throw new RenkeiError(
      'RENKEI_KAFKA_CREDENTIALS_MISSING',
      `the Kafka password of ${username} is empty${HOW_TO_GET_CREDENTIALS}`,
    );
  }
  const caFile = config.KAFKA_TLS_CA_FILE ?? kafkaCaFile(stateDir);
  const ca =
    config.KAFKA_TLS_CA_FILE !== undefined || existsSync(caFile)
      ? [readConfigFile(caFile, 'KAFKA_TLS_CA_FILE', config.KAFKA_TLS_CA_FILE === undefined).toString()]
      : undefined;
  return {
    ssl: ca ? { ca } : {},
    sasl: { mechanism: 'scram-sha-512', username, password },
  };
}

// sasl_ssl is the default, so the first thing a hub started without its broker's files meets.
const HOW_TO_GET_CREDENTIALS =
  ': infra/kafka/kafka.sh start (or npm run up) makes them under .renkei/, Docker Compose in its kafka-secrets volume;' +
  ' KAFKA_SECURITY=plaintext only for a development broker';

function readConfigFile(file: string, variable: string, defaulted: boolean): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const where = defaulted ? `${file} (the default; set ${variable})` : `${variable} ${file}`;
    throw new RenkeiError(
      'RENKEI_KAFKA_CREDENTIALS_MISSING',
      `cannot read ${where}${HOW_TO_GET_CREDENTIALS}`,
      {
        cause: error,
      },
    );
  }
}
