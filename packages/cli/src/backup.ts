import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { auditKeyFilesIn } from '@renkei/audit';
import { hubSecretFileIn, keyFilesIn } from '@renkei/auth';
import { kafkaClient, topicNames, TOPICS, withDeadline, type Kafka, type TopicKey } from '@renkei/bus';
import { createPool } from '@renkei/db';
import { createLogger, stateDirectory } from '@renkei/runtime';
import {
  BACKUP_FORMAT,
  backupManifestSchema,
  databaseEnv,
  describeIssues,
  fieldIssues,
  kafkaEnv,
  parseEnv,
  type BackupKafka,
  type BackupKeyRole,
  type BackupManifest,
} from '@renkei/schema';
import { CommandFailure } from './interop.js';
import { cliActor } from './registry-access.js';
import { UsageError } from './usage.js';

export const BACKUP_USAGE = `  backup DIR [--force]
        the database (pg_dump -Fc), the signing keys and hub secret, the non-secret configuration
        and the Kafka offsets of this moment into a new directory DIR; --force replaces a previous backup
  restore DIR [--rewind-kafka]
        a backup into an empty database (DATABASE_URL) and the key files; --rewind-kafka sets the
        correlator's and ledger's consumer groups back to the backup's offsets (hub stopped)`;

/**
 * Refused before anything was written: a backup directory that is not free, a
 * restore into a database that is not empty or over other keys. Exit code 3, so
 * a script tells it from a failure (1).
 */
export class Refused extends CommandFailure {
  readonly exitCode = 3;
}

export const MANIFEST_FILE = 'manifest.json';
export const DUMP_FILE = 'database.dump';
/** How long the broker may take to answer before the backup goes on without its offsets. */
const KAFKA_DEADLINE_MS = 15_000;

/** Where this hub's key files are, as the services find them (`AUTH_JWKS_FILE`, `HUB_SECRET_FILE`, state dir). */
export function keyLocations(env: Record<string, string | undefined>): Record<BackupKeyRole, string> {
  const state = stateDirectory(env);
  const jwks = env.AUTH_JWKS_FILE ? path.resolve(env.AUTH_JWKS_FILE) : keyFilesIn(state).publicKeySet;
  return {
    'public-key-set': jwks,
    // The gateway and the token command look for the signing key beside the public set.
    'signing-key': path.join(path.dirname(jwks), path.basename(keyFilesIn('.').signingKey)),
    'hub-secret': env.HUB_SECRET_FILE ? path.resolve(env.HUB_SECRET_FILE) : hubSecretFileIn(state),
    'audit-signing-key': auditKeyFilesIn(state).signingKey,
    'audit-public-key-set': auditKeyFilesIn(state).publicKeySet,
  };
}

/** Names in the backup directory: fixed, so a restore never takes a path from the manifest it has not checked. */
export const KEY_MEMBERS: Record<BackupKeyRole, string> = {
  'signing-key': 'keys/signing-key.jwk.json',
  'public-key-set': 'keys/jwks.json',
  'hub-secret': 'keys/hub-secret',
  'audit-signing-key': 'keys/audit-signing-key.jwk.json',
  'audit-public-key-set': 'keys/audit-jwks.json',
};

/** The hub's consumer groups whose offsets matter for a restore, and the gateways' (for the record). */
export function hubGroups(prefix: string): { rewindable: string[]; isHubGroup: (id: string) => boolean } {
  const rewindable = [`${prefix}renkei-correlator`, `${prefix}renkei-ingest-ledger`];
  return {
    rewindable,
    isHubGroup: (id) => rewindable.includes(id) || id.startsWith(`${prefix}renkei-gateway.`),
  };
}

/** A connection string without its password, for people and for pg_dump's command line. */
export function withoutPassword(url: string): string {
  const where = new URL(url);
  where.password = '';
  return where.toString();
}

/** The password goes to pg_dump and pg_restore in their environment, never on a command line `ps` shows. */
export function postgresToolEnv(url: string): NodeJS.ProcessEnv {
  const password = decodeURIComponent(new URL(url).password);
  return { ...process.env, ...(password ? { PGPASSWORD: password } : {}) };
}

/** Runs a PostgreSQL client tool; its stderr becomes the failure's message. */
export function runTool(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(
          new CommandFailure(
            `${tool} not found: install the PostgreSQL client tools (Debian: postgresql-client) of the server's major version or newer`,
          ),
        );
      }
      reject(new CommandFailure(`${tool} failed: ${stderr.trim() || error.message}`));
    });
  });
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const CONFIG_NAME =
  /^(HOST|LOG_LEVEL|(AUTH|AUDIT|CORRELATOR|DATABASE|DELIVERY|DEPENDENCY|FEED|GATEWAY|HTTP|HUB|INGEST|KAFKA|METRICS|RATE_LIMIT|REGISTRY|RENKEI)_[A-Z0-9_]+)$/;
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSPHRASE|PRIVATE|CREDENTIAL)(?!.*_FILE$)/;

/**
 * The hub's settings from the environment this command runs in, without
 * secrets: variables that name one (a path to a secret is kept: it is where
 * the secret goes back), and passwords inside URLs.
 */
export function nonSecretConfig(env: Record<string, string | undefined>): Record<string, string> {
  const config: Record<string, string> = {};
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || !CONFIG_NAME.test(name) || SECRET_NAME.test(name)) continue;
    config[name] = /^[a-z][a-z0-9+.-]*:\/\/[^/]*:[^/]*@/i.test(value) ? safeUrl(value) : value;
  }
  return config;
}

function safeUrl(value: string): string {
  try {
    return withoutPassword(value);
  } catch {
    return '(hidden: holds a password)';
  }
}

/** The offsets of this moment: topics' ends and the hub's groups' commits. Read before the snapshot. */
export async function readKafkaOffsets(
  kafka: Kafka,
  brokers: string[],
  prefix: string,
): Promise<BackupKafka> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const fetchedAt = new Date().toISOString();
    const existing = new Set(await admin.listTopics());
    const names = topicNames(prefix);
    const topics = (Object.keys(TOPICS) as TopicKey[])
      .map((key) => names[key])
      .filter((t) => existing.has(t));
    const topicOffsets = await Promise.all(
      topics.map(async (topic) => ({
        topic,
        partitions: (await admin.fetchTopicOffsets(topic))
          .map(({ partition, low, high }) => ({ partition, low, high }))
          .sort((a, b) => a.partition - b.partition),
      })),
    );
    // The correlator's and the ledger's groups always (a group with nothing committed starts from
    // the beginning: that is a position too); the gateways' as found, for the record.
    const { rewindable, isHubGroup } = hubGroups(prefix);
    const listed = (await admin.listGroups()).groups.map((g) => g.groupId).filter(isHubGroup);
    const groupIds = [...new Set([...rewindable, ...listed])].sort();
    const groups = await Promise.all(
      groupIds.map(async (groupId) => {
        const read = (rewindable.includes(groupId) ? [names.reports] : [names.feed]).filter((t) =>
          existing.has(t),
        );
        return {
          groupId,
          topics: (read.length > 0 ? await admin.fetchOffsets({ groupId, topics: read }) : []).map((t) => ({
            topic: t.topic,
            partitions: t.partitions
              .map(({ partition, offset }) => ({ partition, offset }))
              .sort((a, b) => a.partition - b.partition),
          })),
        };
      }),
    );
    return { brokers, topicPrefix: prefix, fetchedAt, topics: topicOffsets, groups };
  } finally {
    await admin.disconnect();
  }
}

/** Reads and checks a backup's manifest; a problem names the field. */
export async function readManifest(dir: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CommandFailure(`${dir} holds no ${MANIFEST_FILE}: not a backup, or one that did not finish`);
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CommandFailure(`${path.join(dir, MANIFEST_FILE)} is not JSON`);
  }
  const parsed = backupManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new CommandFailure(
      `${path.join(dir, MANIFEST_FILE)} is not a ${BACKUP_FORMAT} manifest: ${describeIssues(fieldIssues(parsed.error))}`,
    );
  }
  return parsed.data;
}

export interface BackupIo {
  /** Notes for people (stderr). */
  err: (line: string) => void;
}

const defaultIo = (): BackupIo => ({ err: (line) => process.stderr.write(line + '\n') });

/** `renkei backup DIR [--force]`. */
export async function backupCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: BackupIo = defaultIo(),
): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { force: { type: 'boolean' } },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${BACKUP_USAGE}`);
  }
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) throw new UsageError(`backup: give one directory\n\n${BACKUP_USAGE}`);
  const dir = path.resolve(target);
  const replacing = await checkTarget(dir, parsed.values.force === true);
  const { DATABASE_URL } = parseEnv(databaseEnv, env);
  const kafkaConfig = parseEnv(kafkaEnv, env);

  // Built beside the target and renamed into place whole: a directory named DIR is always a finished backup.
  const staging = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  await mkdir(path.join(staging, 'keys'), { recursive: true, mode: 0o700 });
  try {
    const started = performance.now();
    // Offsets first, the snapshot after: every consumer commits after its database commit, so
    // what a group had committed by now is in the snapshot, and a rewind to it loses nothing.
    let kafka: BackupKafka | null = null;
    let kafkaError: string | undefined;
    try {
      // As the admin, like every CLI command: reading every group's offsets is no service's grant.
      const client = kafkaClient(kafkaConfig, {
        clientId: 'renkei-backup',
        principal: 'admin',
        logger: createLogger('cli', 'silent'),
        env,
      });
      kafka = await withDeadline(
        readKafkaOffsets(client, kafkaConfig.KAFKA_BROKERS, kafkaConfig.KAFKA_TOPIC_PREFIX),
        KAFKA_DEADLINE_MS,
        'reading Kafka offsets',
      );
    } catch (error) {
      kafkaError = (error as Error).message;
      io.err(`renkei: backup goes on without Kafka offsets: ${kafkaError}`);
    }

    const database = await dumpDatabase(DATABASE_URL, path.join(staging, DUMP_FILE));
    const keys = await copyKeys(env, staging, io);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      createdBy: cliActor().subject,
      database: { file: DUMP_FILE, ...database },
      keys,
      config: nonSecretConfig(env),
      kafka,
      ...(kafkaError ? { kafkaError } : {}),
    };
    await writeFile(
      path.join(staging, MANIFEST_FILE),
      JSON.stringify(backupManifestSchema.parse(manifest), null, 2) + '\n',
      { mode: 0o600 },
    );
    await putInPlace(staging, dir, replacing);
    const seconds = (performance.now() - started) / 1000;
    const rows = Object.values(database.rowCounts).reduce((sum, n) => sum + n, 0);
    return [
      `backup of ${database.source} in ${dir} (${seconds.toFixed(1)} s)`,
      `  database: schema version ${database.schemaVersion}, ${rows} rows, ${database.bytes} bytes, sha256 ${database.sha256}`,
      `  keys: ${keys.map((k) => k.role).join(', ') || 'none found'}`,
      `  kafka: ${kafka ? `${kafka.groups.length} consumer groups, ${kafka.topics.length} topics` : 'not recorded'}`,
      `  it holds the signing key and the hub secret: keep it where only operators can read it`,
    ].join('\n');
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Refuses a directory holding anything but a previous backup, and a previous backup without --force. */
async function checkTarget(dir: string, force: boolean): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new CommandFailure(`${dir} is not a directory`);
    throw error;
  }
  if (entries.length === 0) return true;
  if (!entries.includes(MANIFEST_FILE)) {
    throw new Refused(`${dir} is not empty and holds no backup: choose a new directory`);
  }
  if (!force) throw new Refused(`${dir} holds a backup already: --force replaces it`);
  await readManifest(dir);
  const unknown = entries.filter((entry) => ![MANIFEST_FILE, DUMP_FILE, 'keys'].includes(entry));
  if (unknown.length > 0) {
    throw new CommandFailure(`${dir} holds more than a backup (${unknown.join(', ')}): not replaced`);
  }
  return true;
}

async function putInPlace(staging: string, dir: string, replacing: boolean): Promise<void> {
  if (!replacing) {
    await rename(staging, dir);
    return;
  }
  const old = `${dir}.old-${randomBytes(4).toString('hex')}`;
  await rename(dir, old);
  await rename(staging, dir);
  await rm(old, { recursive: true, force: true });
}

/**
 * `pg_dump -Fc` inside a snapshot this session exported, so the row counts
 * (and schema version) recorded beside the dump are those of the dump itself.
 */
async function dumpDatabase(url: string, file: string): Promise<Omit<BackupManifest['database'], 'file'>> {
  const pool = createPool(url, { max: 1, applicationName: 'renkei-backup' });
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    const schemaVersion = await client
      .query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations')
      .then((result) => result.rows[0]?.version ?? 0)
      .catch((error: unknown) => {
        throw new CommandFailure(
          `${withoutPassword(url)} is not a hub database: ${(error as Error).message}`,
        );
      });
    const serverVersion = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
      .rows[0]!.v;
    const dumping = runTool(
      'pg_dump',
      ['--format=custom', `--snapshot=${snapshot}`, `--file=${file}`, `--dbname=${withoutPassword(url)}`],
      postgresToolEnv(url),
    );
    const rowCounts = await countRows(client);
    await dumping;
    await client.query('COMMIT');
    await chmod(file, 0o600);
    const pgDumpVersion = (await runTool('pg_dump', ['--version'], process.env)).trim();
    return {
      sha256: await sha256OfFile(file),
      bytes: (await stat(file)).size,
      format: 'custom',
      schemaVersion,
      serverVersion,
      pgDumpVersion,
      source: withoutPassword(url),
      rowCounts,
    };
  } finally {
    client.release();
    await pool.end();
  }
}

export async function countRows(client: {
  query: <R extends Record<string, unknown>>(sql: string) => Promise<{ rows: R[] }>;
}): Promise<Record<string, number>> {
  const tables = (
    await client.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    )
  ).rows.map((row) => row.name);
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const quoted = `"${table.replaceAll('"', '""')}"`;
    counts[table] = (
      await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${quoted}`)
    ).rows[0]!.n;
  }
  return counts;
}

async function copyKeys(
  env: Record<string, string | undefined>,
  staging: string,
  io: BackupIo,
): Promise<BackupManifest['keys']> {
  const keys: BackupManifest['keys'] = [];
  for (const [role, source] of Object.entries(keyLocations(env)) as [BackupKeyRole, string][]) {
    let bytes: Buffer;
    try {
      bytes = await readFile(source);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      io.err(`renkei: no ${role} at ${source}: not in the backup`);
      continue;
    }
    const member = KEY_MEMBERS[role];
    await writeFile(path.join(staging, member), bytes, { mode: 0o600 });
    keys.push({
      role,
      file: member,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      kids: kidsIn(bytes),
    });
  }
  return keys;
}

/** The key ids a JWK or a JWK set holds; none for anything else (the hub secret). */
export function kidsIn(bytes: Buffer): string[] {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as { kid?: unknown; keys?: { kid?: unknown }[] };
    const keys = Array.isArray(json.keys) ? json.keys : [json];
    return keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string');
  } catch {
    return [];
  }
}
