import { aclBindings, applyAcls, kafkaClient, prepareTopics, TOPICS, type TopicKey } from '@renkei/bus';
import { createPool, ensureDatabase, migrate } from '@renkei/db';
import { createLogger } from '@renkei/runtime';
import { databaseEnv, kafkaEnv, parseEnv } from '@renkei/schema';
import { KEYS_USAGE, keysCommand } from './keys.js';
import { ORG_USAGE, orgCommand } from './org.js';
import { TOKEN_USAGE, tokenCommand } from './token.js';
import { UsageError } from './usage.js';
import { alertsCommand } from './alerts.js';
import { EXPORT_USAGE, exportCommand, IMPORT_USAGE, importCommand } from './interop.js';
import { EXERCISE_USAGE, exerciseCommand } from './exercise.js';
import { LOOKUP_USAGE, lookupCommand } from './lookup.js';
import { AUDIT_USAGE, auditCommand } from './audit.js';
import { RETENTION_USAGE, retentionCommand } from './retention.js';
import { BACKUP_USAGE, backupCommand } from './backup.js';
import { restoreCommand } from './restore.js';
import { FEED_USAGE, feedCommand } from './feed.js';

export { UsageError };

export const USAGE = `usage: renkei <command> [options]

commands:
${TOKEN_USAGE}
${KEYS_USAGE}
${ORG_USAGE}
  topics
        create the hub's Kafka topics if missing (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX); on a
        secured broker (KAFKA_SECURITY=sasl_ssl, as admin) also grant each service its ACLs
  migrate
        create the database if missing and apply its migrations (DATABASE_URL)
  alerts tail [--min-severity SEV] [--kind KIND…] [--json] [--cursor-file PATH]
        follow the live feed, one line per event (renkei alerts tail --help)
${IMPORT_USAGE}
${EXPORT_USAGE}
${FEED_USAGE}
${EXERCISE_USAGE}
${LOOKUP_USAGE}
${AUDIT_USAGE}
${RETENTION_USAGE}
${BACKUP_USAGE}
`;

/** Runs a command; returns what goes to stdout. */
export async function runCommand(argv: string[], env: Record<string, string | undefined>): Promise<string> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'token':
      return tokenCommand(rest, env);
    case 'keys':
      return keysCommand(rest, env);
    case 'org':
      return orgCommand(rest, env);
    case 'topics':
      return topicsCommand(env);
    case 'migrate':
      return migrateCommand(env);
    case 'alerts':
      return alertsCommand(rest, env);
    case 'import':
      return importCommand(rest, env);
    case 'export':
      return exportCommand(rest, env);
    case 'feed':
      return feedCommand(rest, env);
    case 'exercise':
      return exerciseCommand(rest, env);
    case 'lookup':
      return lookupCommand(rest, env);
    case 'audit':
      return auditCommand(rest, env);
    case 'retention':
      return retentionCommand(rest, env);
    case 'backup':
      return backupCommand(rest, env);
    case 'restore':
      return restoreCommand(rest, env);
    case undefined:
    case 'help':
    case '--help':
      return USAGE.trimEnd();
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function topicsCommand(env: Record<string, string | undefined>): Promise<string> {
  const config = parseEnv(kafkaEnv, env);
  const kafka = kafkaClient(config, {
    clientId: 'renkei-cli',
    principal: 'admin',
    logger: createLogger('cli', 'warn'),
    env,
  });
  const keys = Object.keys(TOPICS) as TopicKey[];
  const names = await prepareTopics(kafka, config.KAFKA_TOPIC_PREFIX, keys, {
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
  });
  const lines = keys.map((key) => names[key]);
  // The services may not create topics on a secured broker, nor grant themselves anything.
  if (config.KAFKA_SECURITY === 'sasl_ssl') {
    const bindings = aclBindings(config.KAFKA_TOPIC_PREFIX);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await applyAcls(admin, bindings);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    lines.push(
      `granted ${bindings.length} ACLs to ${[...new Set(bindings.map((b) => b.principal))].join(', ')}`,
    );
  }
  return lines.join('\n');
}

async function migrateCommand(env: Record<string, string | undefined>): Promise<string> {
  const config = parseEnv(databaseEnv, env);
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  try {
    const applied = await migrate(pool, { rolePrefix: config.DATABASE_ROLE_PREFIX });
    const where = new URL(config.DATABASE_URL);
    where.password = '';
    return applied.length > 0
      ? `${where.toString()}: applied migrations ${applied.join(', ')}`
      : `${where.toString()}: up to date`;
  } finally {
    await pool.end();
  }
}
