import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { kafkaClient, withDeadline, type Kafka } from '@renkei/bus';
import { createPool, ensureDatabase, listMigrations, migrate } from '@renkei/db';
import { createLogger } from '@renkei/runtime';
import { databaseEnv, kafkaEnv, parseEnv, type BackupKafka, type BackupManifest } from '@renkei/schema';
import {
  BACKUP_USAGE,
  countRows,
  hubGroups,
  keyLocations,
  nonSecretConfig,
  postgresToolEnv,
  readManifest,
  Refused,
  runTool,
  sha256OfFile,
  withoutPassword,
} from './backup.js';
import { CommandFailure } from './interop.js';
import { UsageError } from './usage.js';

export interface RestoreIo {
  err: (line: string) => void;
}

const defaultIo = (): RestoreIo => ({ err: (line) => process.stderr.write(line + '\n') });

/** `renkei restore DIR [--rewind-kafka]`. */
export async function restoreCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: RestoreIo = defaultIo(),
): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { 'rewind-kafka': { type: 'boolean' } },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${BACKUP_USAGE}`);
  }
  const [source, ...extra] = parsed.positionals;
  if (!source || extra.length > 0)
    throw new UsageError(`restore: give one backup directory\n\n${BACKUP_USAGE}`);
  const dir = path.resolve(source);
  const { DATABASE_URL } = parseEnv(databaseEnv, env);
  const started = performance.now();

  // Everything that can refuse is checked before anything is written.
  const manifest = await readManifest(dir);
  const dump = path.join(dir, manifest.database.file);
  if ((await sha256OfFile(dump).catch(() => undefined)) !== manifest.database.sha256) {
    throw new CommandFailure(`${dump} is missing or damaged: its sha256 is not the manifest's`);
  }
  const newest = (await listMigrations()).at(-1)?.version ?? 0;
  if (manifest.database.schemaVersion > newest) {
    throw new CommandFailure(
      `the backup's schema version is ${manifest.database.schemaVersion}, this code knows up to ${newest}: restore with the code that made it`,
    );
  }
  const keyWrites = await planKeyWrites(manifest, dir, env);
  await ensureDatabase(DATABASE_URL);
  const target = withoutPassword(DATABASE_URL);
  const pool = createPool(DATABASE_URL, { max: 1, applicationName: 'renkei-restore' });
  try {
    const occupied = (
      await pool.query<{ name: string }>(
        `SELECT n.nspname || '.' || c.relname AS name
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
          ORDER BY 1 LIMIT 5`,
      )
    ).rows.map((row) => row.name);
    if (occupied.length > 0) {
      throw new Refused(
        `refused: ${target} is not empty (${occupied.join(', ')}${occupied.length === 5 ? ', …' : ''}); ` +
          'restore only into a new, empty database',
      );
    }

    for (const write of keyWrites) {
      await mkdir(path.dirname(write.target), { recursive: true, mode: 0o755 });
      await writeFile(write.target, write.bytes, { mode: write.mode });
    }
    // One transaction: a restore that fails leaves the database as empty as it found it.
    await runTool(
      'pg_restore',
      ['--exit-on-error', '--single-transaction', `--dbname=${target}`, dump],
      postgresToolEnv(DATABASE_URL),
    );
    const client = await pool.connect();
    let counts: Record<string, number>;
    try {
      counts = await countRows(client);
    } finally {
      client.release();
    }
    const differing = Object.keys({ ...counts, ...manifest.database.rowCounts }).filter(
      (table) => counts[table] !== manifest.database.rowCounts[table],
    );
    if (differing.length > 0) {
      throw new CommandFailure(
        `restored ${target}, but its row counts are not the backup's (${differing.join(', ')}): do not start the hub on it`,
      );
    }
    const applied = await migrate(pool);
    const seconds = (performance.now() - started) / 1000;
    const rows = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const lines = [
      `restored the backup of ${manifest.createdAt} into ${target} (${seconds.toFixed(1)} s)`,
      `  database: ${rows} rows, schema version ${manifest.database.schemaVersion}` +
        (applied.length > 0 ? `, then migrated to ${applied.at(-1)}` : ''),
      `  keys: ${keyWrites.map((w) => `${w.role} → ${w.target}`).join(', ') || 'already in place'}`,
      ...configDifferences(manifest.config, nonSecretConfig(env)),
    ];
    lines.push(...(await kafkaAfterRestore(manifest.kafka, env, parsed.values['rewind-kafka'] === true, io)));
    return lines.join('\n');
  } finally {
    await pool.end();
  }
}

interface KeyWrite {
  role: string;
  target: string;
  bytes: Buffer;
  mode: number;
}

/**
 * The key files to write: each checked against its checksum, and a file
 * already at the target must be the same bytes (a hub's own keys are never
 * overwritten: tokens signed with them would stop verifying).
 */
async function planKeyWrites(
  manifest: BackupManifest,
  dir: string,
  env: Record<string, string | undefined>,
): Promise<KeyWrite[]> {
  const locations = keyLocations(env);
  const writes: KeyWrite[] = [];
  for (const key of manifest.keys) {
    const member = path.join(dir, key.file);
    const bytes = await readFile(member).catch(() => undefined);
    if (!bytes || createHash('sha256').update(bytes).digest('hex') !== key.sha256) {
      throw new CommandFailure(`${member} is missing or damaged: its sha256 is not the manifest's`);
    }
    const target = locations[key.role];
    const present = await readFile(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (present?.equals(bytes)) continue;
    if (present) {
      throw new Refused(
        `refused: ${target} holds another ${key.role}; move it away first (tokens it signed, or cursors it sealed, would break)`,
      );
    }
    writes.push({ role: key.role, target, bytes, mode: key.role === 'public-key-set' ? 0o644 : 0o600 });
  }
  return writes;
}

function configDifferences(saved: Record<string, string>, current: Record<string, string>): string[] {
  const names = [...new Set([...Object.keys(saved), ...Object.keys(current)])].sort();
  const differing = names.filter((name) => saved[name] !== current[name]);
  if (differing.length === 0) return ['  configuration: as at backup time'];
  return [
    `  configuration: ${differing.length} settings differ from the backup's (its manifest.json "config" holds them):`,
    ...differing.map(
      (name) =>
        `    ${name}: backup ${JSON.stringify(saved[name] ?? null)}, now ${JSON.stringify(current[name] ?? null)}`,
    ),
  ];
}

/**
 * What Kafka holds beyond the backup, per rewindable group, and (asked for)
 * the rewind: each group back to its offset at backup time, never forward,
 * never below what the topic still keeps. The correlator stores a report id
 * once and the ledger's catch-up writes nothing twice, so reading again what
 * the backup already holds changes nothing.
 */
async function kafkaAfterRestore(
  saved: BackupKafka | null,
  env: Record<string, string | undefined>,
  rewind: boolean,
  io: RestoreIo,
): Promise<string[]> {
  if (!saved) {
    if (rewind) throw new CommandFailure('--rewind-kafka: the backup recorded no Kafka offsets');
    return ['  kafka: the backup recorded no offsets'];
  }
  const config = parseEnv(kafkaEnv, env);
  if (config.KAFKA_TOPIC_PREFIX !== saved.topicPrefix) {
    const note = `  kafka: the backup's topic prefix is ${JSON.stringify(saved.topicPrefix)}, this one ${JSON.stringify(config.KAFKA_TOPIC_PREFIX)}: nothing compared`;
    if (rewind) throw new CommandFailure(note.trim());
    return [note];
  }
  const kafka = kafkaClient(config, {
    clientId: 'renkei-restore',
    principal: 'admin',
    logger: createLogger('cli', 'silent'),
    env,
  });
  try {
    return await withDeadline(rewindGroups(kafka, saved, rewind), 30_000, 'reaching Kafka');
  } catch (error) {
    if (rewind) throw error;
    io.err(`renkei: could not compare with Kafka: ${(error as Error).message}`);
    return ['  kafka: not reached; run again with --rewind-kafka once it is, before starting the hub'];
  }
}

async function rewindGroups(kafka: Kafka, saved: BackupKafka, rewind: boolean): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lines: string[] = [];
    const { rewindable } = hubGroups(saved.topicPrefix);
    const existing = new Set(await admin.listTopics());
    for (const group of saved.groups.filter((g) => rewindable.includes(g.groupId))) {
      for (const { topic, partitions } of group.topics) {
        if (!existing.has(topic)) {
          lines.push(
            `  kafka: no topic ${topic}: not the Kafka backed up, so what it held after the backup is lost`,
          );
          continue;
        }
        const ends = new Map(
          (await admin.fetchTopicOffsets(topic)).map((p) => [
            p.partition,
            { low: BigInt(p.low), high: BigInt(p.high) },
          ]),
        );
        const now = new Map(
          ((await admin.fetchOffsets({ groupId: group.groupId, topics: [topic] }))[0]?.partitions ?? []).map(
            (p) => [p.partition, BigInt(p.offset)],
          ),
        );
        // Only backwards: a group behind the backup (or a Kafka that is not the one backed up) keeps its place.
        const moves: { partition: number; offset: string }[] = [];
        let ahead = 0n;
        let lost = 0n;
        const lowThen = new Map(
          (saved.topics.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [
            p.partition,
            BigInt(p.low),
          ]),
        );
        for (const { partition, offset } of partitions) {
          // Nothing committed then: the group would have started from the beginning of what the topic kept.
          const then = BigInt(offset) >= 0n ? BigInt(offset) : (lowThen.get(partition) ?? 0n);
          const end = ends.get(partition);
          const current = now.get(partition) ?? -1n;
          if (!end) continue;
          if (end.high < then) {
            throw new CommandFailure(
              `${topic} partition ${partition} ends at ${end.high}, before the backup's ${then}: not the same topic; nothing rewound`,
            );
          }
          if (current >= 0n && current <= then) continue;
          const to = then < end.low ? end.low : then;
          // Nothing committed now: the group starts at the beginning, behind the backup, unless the
          // topic holds more than the backup saw; then it is sent to the backup's offset, not re-read whole.
          const reading = (current < 0n ? end.high : current) - to;
          if (current < 0n && reading === 0n) continue;
          lost += to - then;
          ahead += reading;
          moves.push({ partition, offset: to.toString() });
        }
        if (moves.length === 0) {
          lines.push(`  kafka: ${group.groupId} on ${topic} is where the backup left it`);
          continue;
        }
        if (rewind) {
          try {
            await admin.setOffsets({ groupId: group.groupId, topic, partitions: moves });
          } catch (error) {
            throw new CommandFailure(
              `could not rewind ${group.groupId} (is the hub still running? stop it first): ${(error as Error).message}`,
            );
          }
        }
        lines.push(
          `  kafka: ${group.groupId} on ${topic} ${rewind ? 'rewound' : 'is'} ${ahead} messages ${rewind ? 'to read again' : 'past the backup: --rewind-kafka reads them again'}` +
            (lost > 0n ? `; ${lost} messages after the backup are gone from the topic (retention)` : ''),
        );
      }
    }
    return lines.length > 0 ? lines : ['  kafka: no consumer group had committed at backup time'];
  } finally {
    await admin.disconnect();
  }
}
