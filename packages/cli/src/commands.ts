import { parseArgs } from 'node:util';
import { ensureSigningKey, keyFilesIn, mintToken } from '@renkei/auth';
import { createKafka, prepareTopics, TOPICS, type TopicKey } from '@renkei/bus';
import { createPool, ensureDatabase, migrate } from '@renkei/db';
import { createLogger, stateDirectory } from '@renkei/runtime';
import {
  authEnv,
  databaseEnv,
  describeIssues,
  fieldIssues,
  kafkaEnv,
  parseEnv,
  tokenClaimsSchema,
} from '@renkei/schema';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: renkei <command> [options]

commands:
  token --org ID --sector SECTOR --role ROLE [--role ROLE…] [--sub SUBJECT] [--ttl 1h]
        mint a token (creates the hub's signing key on first use); prints only the token
  keys  create the signing key and public key set if missing; prints the key set's path
  topics
        create the hub's Kafka topics if missing (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX)
  migrate
        create the database if missing and apply its migrations (DATABASE_URL)
`;

const TTL_PATTERN =
  /^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/;

/** Runs a command; returns what goes to stdout. */
export async function runCommand(argv: string[], env: Record<string, string | undefined>): Promise<string> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'token':
      return tokenCommand(rest, env);
    case 'keys': {
      const files = keyFilesIn(stateDirectory(env));
      await ensureSigningKey(files);
      return files.publicKeySet;
    }
    case 'topics':
      return topicsCommand(env);
    case 'migrate':
      return migrateCommand(env);
    case undefined:
    case 'help':
    case '--help':
      return USAGE.trimEnd();
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function tokenCommand(args: string[], env: Record<string, string | undefined>): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        org: { type: 'string' },
        sector: { type: 'string' },
        role: { type: 'string', multiple: true },
        sub: { type: 'string' },
        ttl: { type: 'string', default: '1h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const claims = tokenClaimsSchema.safeParse({
    sub: values.sub ?? `${values.org ?? 'unknown'}-user`,
    org: values.org,
    sector: values.sector,
    roles: values.role ?? [],
  });
  if (!claims.success) {
    const named = fieldIssues(claims.error).map((issue) => ({
      ...issue,
      field: `--${{ org: 'org', sector: 'sector', roles: 'role', sub: 'sub' }[issue.field.split('[')[0]!] ?? issue.field}`,
    }));
    throw new UsageError(describeIssues(named));
  }
  if (!TTL_PATTERN.test(values.ttl))
    throw new UsageError(`--ttl: must be like 30m, 1h or 7d, not "${values.ttl}"`);
  const auth = parseEnv(authEnv, env);
  const signingKey = await ensureSigningKey(keyFilesIn(stateDirectory(env)));
  return mintToken(signingKey, claims.data, {
    issuer: auth.AUTH_ISSUER,
    audience: auth.AUTH_AUDIENCE,
    ttl: values.ttl,
  });
}

async function topicsCommand(env: Record<string, string | undefined>): Promise<string> {
  const config = parseEnv(kafkaEnv, env);
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: 'renkei-cli',
    logger: createLogger('cli', 'warn'),
  });
  const keys = Object.keys(TOPICS) as TopicKey[];
  const names = await prepareTopics(kafka, config.KAFKA_TOPIC_PREFIX, keys, {
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
  });
  return keys.map((key) => names[key]).join('\n');
}

async function migrateCommand(env: Record<string, string | undefined>): Promise<string> {
  const config = parseEnv(databaseEnv, env);
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  try {
    const applied = await migrate(pool);
    const where = new URL(config.DATABASE_URL);
    where.password = '';
    return applied.length > 0
      ? `${where.toString()}: applied migrations ${applied.join(', ')}`
      : `${where.toString()}: up to date`;
  } finally {
    await pool.end();
  }
}
