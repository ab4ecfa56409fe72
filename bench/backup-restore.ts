/**
 * How long `renkei backup` and `renkei restore` take on a hub of realistic
 * size: the figures docs/OPERATIONS.md gives as the restore time (RTO).
 *
 *   node --import tsx bench/backup-restore.ts [--reports 20000]
 *
 * Seeds a database the fast way the benches do (INSERT … SELECT over
 * generate_series, alerts with `seedAlerts`): per report its ledger row with
 * its envelope, three indicators and their sightings, and its audit entry;
 * one alert (with its version and feed event) per ten reports. Then runs the
 * CLI as an operator would, each command its own process (so the times
 * include starting it), into a new directory and a new database, and prints
 * the figures. Kafka is used when KAFKA_BROKERS answers; its offsets cost
 * little either way.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureHubSecret, ensureSigningKey, hubSecretFileIn, keyFilesIn } from '@renkei/auth';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import {
  createMigratedTestDatabase,
  createTestDatabase,
  registerOrganisations,
  seedAlerts,
  TEST_ORGANISATIONS,
  type TestDatabase,
  testKafkaEnv,
} from '@renkei/testing';

const { values } = parseArgs({ options: { reports: { type: 'string', default: '20000' } } });
const REPORTS = Number(values.reports);
if (!Number.isInteger(REPORTS) || REPORTS < 10) throw new Error('--reports: a whole number, at least 10');

function renkei(args: string[], env: Record<string, string>): Promise<{ seconds: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
      cwd: REPOSITORY_ROOT,
      // As the admin of the shared broker, with the checkout's credentials (RENKEI_STATE_DIR moves).
      env: { ...process.env, ...testKafkaEnv('admin'), ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve({ seconds: (performance.now() - started) / 1000, stdout })
        : reject(new Error(`renkei ${args.join(' ')} exited with ${code}`)),
    );
  });
}

async function seed(database: TestDatabase, reports: number): Promise<void> {
  await registerOrganisations(database, Object.values(TEST_ORGANISATIONS));
  const { pool } = database;
  await pool.query(
    `CREATE TEMPORARY TABLE seed AS
     SELECT n, gen_random_uuid() AS id,
            (ARRAY['mlit-csirt','acme-bank','water-ceptar','finance-ceptar'])[1 + n % 4] AS org,
            (ARRAY['central-government','finance','water','finance'])[1 + n % 4] AS sector,
            (ARRAY['GREEN','CLEAR','AMBER','GREEN','RED'])[1 + n % 5] AS tlp,
            now() - make_interval(secs => $1 - n) AS at
       FROM generate_series(1, $1) AS n`,
    [reports],
  );
  await pool.query(
    `INSERT INTO report_submissions (id, organisation_id, sector, submitted_by, content_sha256, envelope, state,
                                     received_at, accepted_at, confirmed_at)
     SELECT id, org, sector, 'bench', repeat('0', 64),
            jsonb_build_object('organisationId', org, 'sector', sector, 'submittedBy', 'bench', 'receivedAt', at,
              'report', jsonb_build_object('id', id, 'title', 'Report ' || n, 'category', 'phishing',
                'severity', 'high', 'tlp', tlp, 'detectedAt', at, 'description', repeat('詳細 ', 40),
                'indicators', jsonb_build_array(
                  jsonb_build_object('type', 'domain', 'value', 'd' || n || '-0.example'),
                  jsonb_build_object('type', 'domain', 'value', 'd' || n || '-1.example'),
                  jsonb_build_object('type', 'ipv4', 'value', '198.51.' || (n / 256) % 256 || '.' || n % 256)))),
            'accepted', at, at, at
       FROM seed`,
  );
  await pool.query(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, description, category, severity, tlp,
                          detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition,
                          kafka_offset, processed_at)
     SELECT id, org, sector, 'bench', 'Report ' || n, repeat('詳細 ', 40), 'phishing', 'high', tlp, at, at, false,
            repeat('0', 64), 'bench', n % 6, n, at
       FROM seed`,
  );
  await pool.query(
    `INSERT INTO report_indicators (report_id, position, type, value, normalized_value, canonical_type)
     SELECT id, i, CASE i WHEN 2 THEN 'ipv4' ELSE 'domain' END,
            CASE i WHEN 2 THEN '198.51.' || (n / 256) % 256 || '.' || n % 256 ELSE 'd' || n || '-' || i || '.example' END,
            CASE i WHEN 2 THEN '198.51.' || (n / 256) % 256 || '.' || n % 256 ELSE 'd' || n || '-' || i || '.example' END,
            CASE i WHEN 2 THEN 'ipv4' ELSE 'domain' END
       FROM seed, generate_series(0, 2) AS i`,
  );
  await pool.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
     SELECT DISTINCT ri.report_id, ri.type, ri.normalized_value, false, s.at, true
       FROM report_indicators ri JOIN seed s ON s.id = ri.report_id`,
  );
  await pool.query(
    `INSERT INTO audit_events (at, kind, actor, organisation_id, object, outcome, details)
     SELECT at, 'report.submitted', org || '-bench', org, id::text, 'success', jsonb_build_object('tlp', tlp)
       FROM seed ORDER BY n`,
  );
  await seedAlerts(pool, Math.max(1, Math.floor(reports / 10)));
  await pool.query('ANALYZE');
}

const work = await mkdtemp(path.join(tmpdir(), 'renkei-bench-backup-'));
const stateDir = path.join(work, 'state');
const source = await createMigratedTestDatabase();
const target = await createTestDatabase();
try {
  await ensureSigningKey(keyFilesIn(stateDir));
  await ensureHubSecret(hubSecretFileIn(stateDir));
  const seeding = performance.now();
  await seed(source, REPORTS);
  console.log(`seeded ${REPORTS} reports in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
  const { rows } = await source.pool.query<{ bytes: string }>(
    'SELECT pg_database_size(current_database())::text AS bytes',
  );
  const databaseMiB = Number(rows[0]!.bytes) / 2 ** 20;

  const backupDir = path.join(work, 'backup');
  // A prefix of its own: the backup only reads offsets, but nobody else's groups should show in its figures.
  const kafka = { KAFKA_TOPIC_PREFIX: `bench-backup-${process.pid}.` };
  const backup = await renkei(['backup', backupDir], {
    DATABASE_URL: source.url,
    ...kafka,
    RENKEI_STATE_DIR: stateDir,
  });
  const restore = await renkei(['restore', backupDir], {
    DATABASE_URL: target.url,
    ...kafka,
    RENKEI_STATE_DIR: path.join(work, 'restored-state'),
  });
  const dumpBytes = Number(/, (\d+) bytes,/.exec(backup.stdout)?.[1] ?? NaN);
  console.log(backup.stdout.trim());
  console.log(restore.stdout.trim());
  console.log(
    [
      '',
      `reports            ${REPORTS}`,
      `database           ${databaseMiB.toFixed(1)} MiB (pg_database_size)`,
      `dump               ${(dumpBytes / 2 ** 20).toFixed(1)} MiB (pg_dump -Fc)`,
      `renkei backup      ${backup.seconds.toFixed(1)} s (whole command)`,
      `renkei restore     ${restore.seconds.toFixed(1)} s (whole command: checks, pg_restore, counts, migrate)`,
      `load average       ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} cores`,
    ].join('\n'),
  );
} finally {
  await Promise.all([source.drop(), target.drop()]);
  await rm(work, { recursive: true, force: true });
}
