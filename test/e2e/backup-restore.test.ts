import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHubSecret, ensureSigningKey, hubSecretFileIn, keyFilesIn, mintToken } from '@renkei/auth';
import { migrate } from '@renkei/db';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import {
  alertPageSchema,
  backupManifestSchema,
  type ReportSubmission,
  type Role,
  type Sector,
} from '@renkei/schema';
import {
  createTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  registerOrganisations,
  spawnService,
  waitUntilReady,
  type ServiceProcess,
  type TestDatabase,
  TEST_ORGANISATIONS,
  testKafkaEnv,
} from '@renkei/testing';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as an operator runs it: its own process, its exit code. */
function renkei(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
      cwd: REPOSITORY_ROOT,
      // As the admin of the shared broker, with the checkout's credentials (RENKEI_STATE_DIR moves).
      env: { ...process.env, ...testKafkaEnv('admin'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every audit row as PostgreSQL prints it, in order: equal strings are equal bytes. */
async function auditRows(database: TestDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ row: string }>(
    'SELECT a::text AS row FROM audit_events a ORDER BY id',
  );
  return rows.map((r) => r.row);
}

/**
 * Backup → restore into a new database → the hub started on it answers what
 * it answered before: alerts, reports, warnings, the audit log; tokens minted
 * before still verify and cursors given out before still open. The hub keeps
 * its Kafka topics, and a report accepted after the backup is not lost: the
 * restore rewinds the consumers to the backup's offsets and it is read again.
 */
describe('backup and restore', () => {
  const prefix = randomTopicPrefix();
  let before: TestDatabase;
  let after: TestDatabase;
  let work: string;
  let stateBefore: string;
  let stateAfter: string;
  let backupDir: string;
  let services: ServiceProcess[] = [];
  const tokens = {} as Record<'agency' | 'bank' | 'water' | 'analyst' | 'admin' | 'finance', string>;

  const startHub = async (database: TestDatabase, stateDir: string) => {
    const env = { DATABASE_URL: database.url, KAFKA_TOPIC_PREFIX: prefix, RENKEI_STATE_DIR: stateDir };
    // Two hubs start one after the other on a shared machine: give each more than the usual minute.
    const started = await Promise.allSettled(
      (['correlator', 'ingest', 'gateway'] as const).map((name) =>
        spawnService(name, env, { readyTimeoutMs: 180_000 }),
      ),
    );
    services = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    await Promise.all([
      waitUntilReady(services[1]!.url!, 180_000),
      waitUntilReady(services[2]!.url!, 180_000),
    ]);
    return { ingest: services[1]!.url!, gateway: services[2]!.url! };
  };
  const stopHub = async () => {
    const codes = await Promise.all(services.map((service) => service.stop()));
    services = [];
    return codes;
  };

  beforeAll(async () => {
    [before, after] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    work = await mkdtemp(path.join(tmpdir(), 'renkei-backup-'));
    stateBefore = path.join(work, 'state-before');
    stateAfter = path.join(work, 'state-after');
    backupDir = path.join(work, 'backup');
    const signingKey = await ensureSigningKey(keyFilesIn(stateBefore));
    await ensureHubSecret(hubSecretFileIn(stateBefore));
    const mint = (org: string, sector: Sector, roles: Role[]) =>
      mintToken(
        signingKey,
        { sub: `${org}-tester`, org, sector, roles },
        { issuer: 'renkei', audience: 'renkei-api', ttl: '1h' },
      );
    tokens.agency = await mint('mlit-csirt', 'central-government', ['reporter']);
    tokens.bank = await mint('acme-bank', 'finance', ['reporter']);
    tokens.water = await mint('water-ceptar', 'water', ['ceptar']);
    tokens.finance = await mint('finance-ceptar', 'finance', ['ceptar']);
    tokens.analyst = await mint('gsoc', 'central-government', ['analyst']);
    tokens.admin = await mint('gsoc', 'central-government', ['admin']);
    await migrate(before.pool);
    await registerOrganisations(before, Object.values(TEST_ORGANISATIONS));
  });

  afterAll(async () => {
    await stopHub();
    await Promise.all([before?.drop(), after?.drop()]);
    await rm(work, { recursive: true, force: true });
    await deleteTopicsWithPrefix(prefix);
  });

  const report = (indicators: ReportSubmission['indicators'], tlp: ReportSubmission['tlp'] = 'GREEN') => ({
    title: 'Spear-phishing with a malicious attachment',
    category: 'targeted-attack',
    severity: 'high',
    tlp,
    detectedAt: '2026-11-28T08:30:00+09:00',
    indicators,
  });

  const call = async (url: string, token: string, method = 'GET', body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  /** Every answer the test compares, read the same way on either hub. None of these reads is audited. */
  const readEverything = async (hub: { ingest: string; gateway: string }, reportIds: string[]) => {
    const answers: Record<string, { status: number; body: unknown }> = {};
    for (const who of ['analyst', 'bank', 'water', 'finance', 'agency'] as const) {
      answers[`alerts as ${who}`] = await call(`${hub.gateway}/v1/alerts`, tokens[who]);
      answers[`warnings as ${who}`] = await call(`${hub.gateway}/v1/warnings`, tokens[who]);
    }
    const alerts = alertPageSchema.parse(answers['alerts as analyst']!.body);
    for (const alert of alerts.items) {
      answers[`alert ${alert.id}`] = await call(`${hub.gateway}/v1/alerts/${alert.id}`, tokens.analyst);
    }
    for (const id of reportIds) {
      answers[`report ${id} (gateway)`] = await call(`${hub.gateway}/v1/reports/${id}`, tokens.analyst);
      answers[`report ${id} (ingest)`] = await call(`${hub.ingest}/v1/reports/${id}`, tokens.analyst);
    }
    const warnings = (answers['warnings as analyst']!.body as { items: { id: string }[] }).items;
    for (const warning of warnings) {
      answers[`warning ${warning.id}`] = await call(
        `${hub.gateway}/v1/warnings/${warning.id}`,
        tokens.finance,
      );
    }
    answers.audit = await call(`${hub.gateway}/v1/audit?limit=500`, tokens.admin);
    return answers;
  };

  it('restores into a new database a hub that answers as the one backed up', async () => {
    const hub = await startHub(before, stateBefore);

    // Two alerts (a domain across two sectors, a hash across two), a report that raises none,
    // a warning and its acknowledgement.
    const submit = async (token: string, body: unknown) => {
      const answer = await call(`${hub.ingest}/v1/reports`, token, 'POST', body);
      expect(answer.status).toBe(202);
      return (answer.body as { id: string }).id;
    };
    const reportIds = [
      await submit(tokens.agency, report([{ type: 'domain', value: 'update-check.example' }], 'AMBER')),
      await submit(tokens.bank, report([{ type: 'domain', value: 'Update-Check.example.' }])),
      await submit(tokens.bank, report([{ type: 'sha256', value: 'a'.repeat(63) + 'b' }])),
      await submit(tokens.water, report([{ type: 'sha256', value: 'A'.repeat(63) + 'B' }])),
      await submit(tokens.agency, report([{ type: 'ipv4', value: '198.51.100.7' }], 'RED')),
    ];
    const warning = await call(`${hub.gateway}/v1/warnings`, tokens.analyst, 'POST', {
      title: 'Credential phishing against utilities and banks',
      body: 'Block the domain; report any sighting.',
      severity: 'high',
      tlp: 'AMBER',
      sectors: ['finance', 'water'],
      indicators: [{ type: 'domain', value: 'Portal-Login.Example' }],
    });
    expect(warning.status).toBe(201);
    const warningId = (warning.body as { id: string }).id;
    expect((await call(`${hub.gateway}/v1/warnings/${warningId}/ack`, tokens.finance, 'POST')).status).toBe(
      200,
    );
    await eventually(async () => {
      for (const id of reportIds) {
        const view = await call(`${hub.ingest}/v1/reports/${id}`, tokens.analyst);
        expect((view.body as { status: string }).status).toBe('processed');
      }
      expect(
        alertPageSchema.parse((await call(`${hub.gateway}/v1/alerts`, tokens.analyst)).body).items,
      ).toHaveLength(2);
    });
    const answersBefore = await readEverything(hub, reportIds);
    expect(answersBefore['alerts as water']!.body).toMatchObject({ items: [{ tlp: 'GREEN' }] });
    expect((answersBefore.audit!.body as { items: { kind: string }[] }).items.map((i) => i.kind)).toEqual(
      expect.arrayContaining(['report.submitted', 'warning.published', 'warning.acknowledged']),
    );
    // The gateway seals entries into the chain within a second: compared once sealed, so the rows
    // read here are the rows the backup holds.
    await eventually(async () => {
      const { rows } = await before.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM audit_events WHERE chain_seq IS NULL',
      );
      expect(rows[0]!.n).toBe(0);
    });
    const auditAtBackup = await auditRows(before);

    // Taken while the hub runs, as an operator would.
    const backup = await renkei(['backup', backupDir], {
      DATABASE_URL: before.url,
      KAFKA_TOPIC_PREFIX: prefix,
      RENKEI_STATE_DIR: stateBefore,
    });
    expect(backup.code, backup.stderr).toBe(0);
    const manifest = backupManifestSchema.parse(
      JSON.parse(await readFile(path.join(backupDir, 'manifest.json'), 'utf8')),
    );
    expect(manifest.keys.map((k) => k.role).sort()).toEqual(['hub-secret', 'public-key-set', 'signing-key']);
    expect(manifest.database.rowCounts.reports).toBe(5);
    expect(manifest.kafka?.groups.map((g) => g.groupId)).toEqual(
      expect.arrayContaining([`${prefix}renkei-correlator`, `${prefix}renkei-ingest-ledger`]),
    );
    expect(JSON.stringify(manifest.config)).not.toContain('RENKEI_TOKEN');
    // A second backup into the same directory is refused; nothing was changed.
    const again = await renkei(['backup', backupDir], {
      DATABASE_URL: before.url,
      RENKEI_STATE_DIR: stateBefore,
    });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('--force');

    // Accepted after the backup: only Kafka has it once the database is lost.
    const late = await submit(
      tokens.bank,
      report([{ type: 'domain', value: `late-${randomUUID()}.example` }]),
    );
    await eventually(async () => {
      const view = await call(`${hub.ingest}/v1/reports/${late}`, tokens.bank);
      expect((view.body as { status: string }).status).toBe('processed');
    });
    expect(await stopHub()).toEqual([0, 0, 0]);

    const restoreEnv = { DATABASE_URL: after.url, KAFKA_TOPIC_PREFIX: prefix, RENKEI_STATE_DIR: stateAfter };
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const restore = await renkei(['restore', backupDir, '--rewind-kafka'], restoreEnv);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(
      new RegExp(`${escaped}renkei-correlator on ${escaped}renkei\\.reports\\.v1 rewound [1-9]\\d* messages`),
    );
    expect(await auditRows(after), 'the audit log, byte for byte').toEqual(auditAtBackup);
    // And as a chain: every entry sealed on hub A still hashes to its place on B.
    const verified = await renkei(['audit', 'verify'], restoreEnv);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/audit chain intact/);
    for (const file of ['signing-key.jwk.json', 'jwks.json', 'hub-secret']) {
      expect(await readFile(path.join(stateAfter, 'keys', file))).toEqual(
        await readFile(path.join(stateBefore, 'keys', file)),
      );
    }
    // Into a database that is no longer empty: refused, exit 3, nothing changed.
    const over = await renkei(['restore', backupDir], restoreEnv);
    expect(over.code).toBe(3);
    expect(over.stderr).toContain('is not empty');
    expect(await auditRows(after)).toEqual(auditAtBackup);

    const restored = await startHub(after, stateAfter);
    // The report accepted after the backup is read again from Kafka and stored once.
    await eventually(async () => {
      const view = await call(`${restored.ingest}/v1/reports/${late}`, tokens.bank);
      expect(view.status).toBe(200);
      expect((view.body as { status: string }).status).toBe('processed');
    });
    const answersAfter = await readEverything(restored, reportIds);
    // What legitimately differs: the audit log also holds the late report's acceptance, which the
    // backup did not. Everything else is equal, read with tokens signed and cursors sealed before.
    const auditAnswer = answersAfter.audit!.body as { items: { object: string | null }[]; nextBefore: null };
    expect(auditAnswer.items.filter((item) => item.object === late)).toHaveLength(1);
    answersAfter.audit!.body = {
      ...auditAnswer,
      items: auditAnswer.items.filter((item) => item.object !== late),
    };
    expect(answersAfter).toEqual(answersBefore);
    const auditAfter = await auditRows(after);
    expect(auditAfter.slice(0, auditAtBackup.length)).toEqual(auditAtBackup);
    // The ledger's catch-up wrote the late report's acceptance again: nothing else was added.
    expect(
      auditAfter
        .slice(auditAtBackup.length)
        .map((row) => row.includes(`report.submitted`) && row.includes(late)),
    ).toEqual([true]);
    const stored = await after.pool.query('SELECT count(*)::int AS n FROM reports WHERE id = $1', [late]);
    expect(stored.rows[0].n).toBe(1);
  }, 600_000);
});
