import { z } from 'zod';

/** The manifest's own version: a restore refuses a format it does not know. */
export const BACKUP_FORMAT = 'renkei.backup.v1';

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');
/** A path inside the backup directory: relative, no way out of it. */
const memberPathSchema = z
  .string()
  .min(1)
  .refine(
    (file) => !file.startsWith('/') && !file.split(/[\\/]/).includes('..'),
    'must be a path inside the backup',
  );
/** Kafka offsets are 64-bit: kept as the decimal strings kafkajs gives. */
const offsetSchema = z.string().regex(/^-?\d+$/, 'must be a Kafka offset');

export const backupKeyRoleSchema = z.enum([
  'signing-key',
  'public-key-set',
  'hub-secret',
  // The audit chain's checkpoints are signed with a key of their own (made when an entry is first purged).
  'audit-signing-key',
  'audit-public-key-set',
]);
export type BackupKeyRole = z.infer<typeof backupKeyRoleSchema>;

export const backupKeySchema = z.object({
  role: backupKeyRoleSchema,
  file: memberPathSchema,
  sha256: sha256Schema,
  /** Key ids in it (the public set and the signing key); none for the hub secret. */
  kids: z.array(z.string().min(1)),
});

export const backupKafkaSchema = z.object({
  brokers: z.array(z.string().min(1)).min(1),
  topicPrefix: z.string(),
  /** Read before the database snapshot was taken, so every offset here is at or behind it. */
  fetchedAt: z.iso.datetime({ offset: true }),
  topics: z.array(
    z.object({
      topic: z.string().min(1),
      partitions: z.array(
        z.object({ partition: z.number().int().min(0), low: offsetSchema, high: offsetSchema }),
      ),
    }),
  ),
  groups: z.array(
    z.object({
      groupId: z.string().min(1),
      topics: z.array(
        z.object({
          topic: z.string().min(1),
          /** `-1`: the group has committed nothing on that partition. */
          partitions: z.array(z.object({ partition: z.number().int().min(0), offset: offsetSchema })),
        }),
      ),
    }),
  ),
});
export type BackupKafka = z.infer<typeof backupKafkaSchema>;

/**
 * `manifest.json` of a directory `renkei backup` wrote: what is in it, with a
 * checksum per file, the database's schema version and row counts (read in the
 * dump's own snapshot), the Kafka offsets of that moment and the non-secret
 * configuration. Written last: a directory without one is not a backup.
 */
export const backupManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.iso.datetime({ offset: true }),
  createdBy: z.string().min(1),
  database: z.object({
    file: memberPathSchema,
    sha256: sha256Schema,
    bytes: z.number().int().min(0),
    /** `pg_dump -Fc`: PostgreSQL's custom format, read by `pg_restore`. */
    format: z.literal('custom'),
    /** The highest migration applied: a restore refuses code older than this. */
    schemaVersion: z.number().int().min(0),
    serverVersion: z.string().min(1),
    pgDumpVersion: z.string().min(1),
    /** Where it came from, without a password. */
    source: z.string().min(1),
    /** Rows per table of schema public, counted in the snapshot the dump was taken in. */
    rowCounts: z.record(z.string(), z.number().int().min(0)),
  }),
  keys: z.array(backupKeySchema),
  /** The hub's environment at backup time without secrets (tokens, passwords; URLs without their password). */
  config: z.record(z.string(), z.string()),
  /** Null when the broker could not be reached: the backup is still whole, the operator only knows less. */
  kafka: backupKafkaSchema.nullable(),
  kafkaError: z.string().optional(),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;
