import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  ensureDatabase,
  migrate,
  quoteIdentifier,
  SERVICE_ROLES,
  serviceDatabaseUrl,
  serviceRoleName,
  type Pool,
  type ServiceRole,
} from '@renkei/db';
import { appendAlertVersionsToFeed, sequenceOutbox } from '@renkei/feed';
import { registerOrganisation } from '@renkei/registry';
import { alertPageSchema, reportStatusViewSchema } from '@renkei/schema';
import {
  alertRecordFixture,
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  registerOrganisations,
  spawnServices,
  TEST_ORGANISATIONS,
  TEST_SERVER_URL,
  waitUntilReady,
  type ServiceProcess,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';

/**
 * Each service connects as a role granted only what its SQL does
 * (infra/postgres/migrations/0017_service_roles.sql): a write outside its job
 * is refused by PostgreSQL itself (42501), whatever the code asks.
 */
const INSUFFICIENT_PRIVILEGE = '42501';

/** Tables no service role may touch: the owner's alone. */
const OWNER_ONLY_TABLES = ['schema_migrations'];

const REPORT_ROW = `(id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
  received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)`;
const reportValues = (id: string) =>
  `('${id}', 'mlit-csirt', 'central-government', 'someone', 'title', 'phishing', 'high', 'GREEN', now(), now(),
    false, '${'0'.repeat(64)}', 'renkei.reports.v1', 0, 0)`;
const ALERT_ROW = `(id, correlation_key, kind, version, exercise, tlp, severity, record, created_at, updated_at)`;
const alertValues = (id: string) =>
  `('${id}', 'k-${id}', 'shared-indicator', 1, false, 'GREEN', 'high', '{}', now(), now())`;

const REFUSED: [ServiceRole, string, string][] = [
  // The issue's own example, and the rest of what the gateway only reads.
  ['gateway', 'insert a report', `INSERT INTO reports ${REPORT_ROW} VALUES ${reportValues(randomUUID())}`],
  ['gateway', 'change a report', `UPDATE reports SET tlp = 'RED'`],
  ['gateway', 'write the ingest ledger', `UPDATE report_submissions SET state = 'accepted'`],
  ['gateway', 'insert an alert', `INSERT INTO alerts ${ALERT_ROW} VALUES ${alertValues(randomUUID())}`],
  // The relay sets an alert's feed position, and nothing else of it.
  ['gateway', "rewrite an alert's record", `UPDATE alerts SET record = '{}'`],
  ['gateway', 'write sightings', `DELETE FROM sightings`],
  ['gateway', 'remove audit events', `DELETE FROM audit_events`],
  // The sealer sets an entry's place in the chain, and nothing else of it.
  ['gateway', 'rewrite an audit event', `UPDATE audit_events SET actor = 'x'`],
  ['gateway', 'write an audit checkpoint', `DELETE FROM audit_checkpoints`],
  ['gateway', 'apply migrations', `INSERT INTO schema_migrations (version, name) VALUES (999, 'x')`],
  ['ingest', 'insert an alert', `INSERT INTO alerts ${ALERT_ROW} VALUES ${alertValues(randomUUID())}`],
  ['ingest', 'append to the feed', `INSERT INTO feed_outbox (kind, payload) VALUES ('warning', '{}')`],
  [
    'ingest',
    'insert a stored report',
    `INSERT INTO reports ${REPORT_ROW} VALUES ${reportValues(randomUUID())}`,
  ],
  ['ingest', 'disable an organisation', `UPDATE organisations SET enabled = false`],
  ['ingest', 'publish a warning', `DELETE FROM warnings`],
  ['ingest', 'remove ledger rows', `DELETE FROM report_submissions`],
  ['ingest', 'read alerts', `SELECT * FROM alerts`],
  [
    'correlator',
    'register an organisation',
    `INSERT INTO organisations (id, name, sector, kind) VALUES ('x', 'x', 'finance', 'ceptar')`,
  ],
  ['correlator', 'change the audit log', `UPDATE audit_events SET actor = 'x'`],
  ['correlator', 'move the audit chain head', `UPDATE audit_chain_head SET last_seq = 0`],
  // Its retention purge may delete expired ledger rows; it never writes one.
  ['correlator', 'write the ingest ledger', `UPDATE report_submissions SET state = 'accepted'`],
  [
    'correlator',
    'publish a warning',
    `INSERT INTO warnings (id, exercise, published_by, published_at, record)
    VALUES ('${randomUUID()}', false, 'x', now(), '{}')`,
  ],
  // TLP changes only: nothing else of a stored report changes.
  ['correlator', "rewrite a report's title", `UPDATE reports SET title = 'x'`],
  ['correlator', 'remove organisations', `DELETE FROM organisations`],
  [
    'correlator',
    'triage an alert',
    `INSERT INTO alert_triage (alert_id, status) VALUES ('${randomUUID()}', 'new')`,
  ],
  ['correlator', 'remove a watchlist entry', `UPDATE watchlist_entries SET removed_at = now()`],
  ['correlator', 'add an exclusion', `DELETE FROM exclusions`],
  ['correlator', 'plan deliveries', `UPDATE delivery_head SET position = 0`],
  // DELETE is what retention uses; TRUNCATE would take the whole feed at once.
  ['correlator', 'truncate the feed', `TRUNCATE feed_events`],
  // Partner feeds: administrators register them on the gateway; ingest polls them and keeps their state.
  [
    'ingest',
    'register a partner feed',
    `INSERT INTO partner_feeds (id, kind, name, url, organisation_id, default_tlp, poll_interval_seconds, created_by)
     VALUES ('${randomUUID()}', 'misp', 'x', 'https://x.example/', 'mlit-csirt', 'GREEN', 60, 'x')`,
  ],
  ['ingest', 'remove a partner feed', `DELETE FROM partner_feeds`],
  ['gateway', "move a partner feed's checkpoint", `UPDATE partner_feed_state SET checkpoint = '{}'`],
  ['gateway', "rewrite a partner feed's credentials", `UPDATE partner_feeds SET credentials = 'x'`],
  ['correlator', "read partner feeds' sealed credentials", `SELECT credentials FROM partner_feeds`],
  ...SERVICE_ROLES.map((role): [ServiceRole, string, string] => [
    role,
    'create a table',
    'CREATE TABLE mine (id int)',
  ]),
];

describe('per-service database roles', () => {
  let database: TestDatabase;
  const pools = {} as Record<ServiceRole, Pool>;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    for (const role of SERVICE_ROLES) {
      pools[role] = createPool(serviceDatabaseUrl(database.url, role), { max: 2 });
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(pools).map((pool) => pool.end()));
    await database?.drop();
  });

  it('connects each service as its own role, which owns nothing and is no superuser', async () => {
    for (const role of SERVICE_ROLES) {
      const { rows } = await pools[role].query<{ user: string; superuser: boolean; owns: string }>(
        `SELECT current_user AS user, r.rolsuper AS superuser,
                (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)::text AS owns
           FROM pg_roles r WHERE r.rolname = current_user`,
      );
      expect(rows[0]).toEqual({ user: serviceRoleName(role), superuser: false, owns: '0' });
    }
  });

  it.each(REFUSED)('refuses the %s role to %s', async (role, _what, sql) => {
    const failure = await pools[role].query(sql).then(
      () => undefined,
      (error: { code?: string; message?: string }) => error,
    );
    expect(failure?.code, failure?.message).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it("lets each role do its own service's work: ledger, store, relay, registry", async () => {
    const reportId = randomUUID();
    // ingest: a ledger row, its audit event, and the stored report's state for GET.
    await pools.ingest.query(
      `INSERT INTO report_submissions (id, organisation_id, sector, submitted_by, content_sha256, envelope, state,
         received_at) VALUES ($1, 'mlit-csirt', 'central-government', 'someone', $2, '{}', 'pending', now())`,
      [reportId, '0'.repeat(64)],
    );
    await pools.ingest.query(`UPDATE report_submissions SET state = 'accepted' WHERE id = $1`, [reportId]);
    await pools.ingest.query(
      `INSERT INTO audit_events (kind, actor, organisation_id, object, outcome)
       VALUES ('report.submitted', 'someone', 'mlit-csirt', $1, 'success')`,
      [reportId],
    );

    // correlator: the report, an alert and its version, queued for the feed, in one transaction.
    const record = alertRecordFixture();
    const correlator = await pools.correlator.connect();
    try {
      await correlator.query('BEGIN');
      await correlator.query(`INSERT INTO reports ${REPORT_ROW} VALUES ${reportValues(reportId)}`);
      await correlator.query(`INSERT INTO alerts ${ALERT_ROW} VALUES ${alertValues(record.id)}`);
      await correlator.query(`UPDATE alerts SET record = $2 WHERE id = $1`, [record.id, record]);
      await correlator.query(
        `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id) VALUES ($1, 1, $2, $3)`,
        [record.id, record, reportId],
      );
      await appendAlertVersionsToFeed(correlator, [{ alertId: record.id, version: 1, reportId }]);
      await correlator.query(`UPDATE reports SET tlp = 'AMBER' WHERE id = $1`, [reportId]);
      await correlator.query('COMMIT');
    } finally {
      correlator.release();
    }
    const processed = await pools.ingest.query(
      `SELECT r.processed_at IS NOT NULL AS processed FROM report_submissions s JOIN reports r ON r.id = s.id
        WHERE s.id = $1`,
      [reportId],
    );
    expect(processed.rows).toEqual([{ processed: true }]);

    // gateway: the relay sequences the correlator's event and sets the alert's position.
    const relay = await pools.gateway.connect();
    try {
      await relay.query('BEGIN');
      expect(await sequenceOutbox(relay, 100)).toBe(1);
      await relay.query('COMMIT');
    } finally {
      relay.release();
    }
    const { rows } = await pools.gateway.query<{ position: string }>(
      `SELECT position::text FROM alerts WHERE id = $1`,
      [record.id],
    );
    expect(rows[0]?.position).toMatch(/^[1-9]\d*$/);
    // …and an admin route writes the registry with its audit event.
    const added = await registerOrganisation(
      pools.gateway,
      { id: 'rail-ceptar', name: 'Rail CEPTAR', sector: 'railway', kind: 'ceptar' },
      { subject: 'admin', organisationId: 'gsoc' },
    );
    expect(added.id).toBe('rail-ceptar');
  });

  it("lets the gateway's sealer chain an audit entry and the correlator's purge remove it behind a checkpoint", async () => {
    const hash = 'a'.repeat(64);
    const entry = await pools.gateway.query<{ id: string }>(
      `INSERT INTO audit_events (kind, outcome) VALUES ('roles.check', 'success') RETURNING id::text`,
    );
    const sealer = await pools.gateway.connect();
    try {
      await sealer.query('BEGIN');
      await sealer.query('SELECT last_seq FROM audit_chain_head FOR UPDATE SKIP LOCKED');
      const seq = await sealer.query<{ seq: string }>(
        'SELECT (last_seq + 1)::text AS seq FROM audit_chain_head',
      );
      await sealer.query('UPDATE audit_events SET chain_seq = $2, chain_hash = $3 WHERE id = $1', [
        entry.rows[0]!.id,
        seq.rows[0]!.seq,
        hash,
      ]);
      await sealer.query('UPDATE audit_chain_head SET last_seq = $1, last_hash = $2', [
        seq.rows[0]!.seq,
        hash,
      ]);
      await sealer.query('COMMIT');
    } finally {
      sealer.release();
    }
    const purge = await pools.correlator.connect();
    try {
      await purge.query('BEGIN');
      const head = await purge.query<{ seq: string }>(
        'SELECT last_seq::text AS seq FROM audit_chain_head FOR UPDATE',
      );
      await purge.query(
        `INSERT INTO audit_checkpoints (up_to_seq, chain_hash, removed, jws) VALUES ($1, $2, 1, 'x.y.z')`,
        [head.rows[0]!.seq, hash],
      );
      const removed = await purge.query('DELETE FROM audit_events WHERE chain_seq <= $1', [
        head.rows[0]!.seq,
      ]);
      expect(removed.rowCount).toBeGreaterThanOrEqual(1);
      await purge.query('COMMIT');
    } finally {
      purge.release();
    }
  });

  it('grants every table to some service role, and each sequence to every role inserting into its table', async () => {
    const roles = SERVICE_ROLES.map((role) => serviceRoleName(role));
    const { rows: tables } = await database.pool.query<{ table: string; granted: boolean }>(
      `SELECT c.relname AS table,
              EXISTS (SELECT 1 FROM unnest($1::text[]) AS r(name)
                       WHERE has_table_privilege(r.name, c.oid, 'SELECT, INSERT, UPDATE, DELETE')
                          OR has_any_column_privilege(r.name, c.oid, 'SELECT, INSERT, UPDATE')) AS granted
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
      [roles],
    );
    expect(tables.length).toBeGreaterThan(20);
    // A table a later migration adds without grants fails here, before a service fails on it.
    const ungranted = tables.filter((table) => !table.granted).map((table) => table.table);
    expect(ungranted).toEqual(OWNER_ONLY_TABLES);

    const { rows: missing } = await database.pool.query<{ role: string; sequence: string }>(
      `SELECT r.name AS role, s.relname AS sequence
         FROM pg_depend d
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
         JOIN pg_class t ON t.oid = d.refobjid
         CROSS JOIN unnest($1::text[]) AS r(name)
        WHERE d.deptype IN ('a', 'i') AND has_table_privilege(r.name, t.oid, 'INSERT')
          AND NOT has_sequence_privilege(r.name, s.oid, 'USAGE')`,
      [roles],
    );
    expect(missing).toEqual([]);
  });
});

describe('migrations as an owner that is not a superuser', () => {
  const suffix = randomBytes(5).toString('hex');
  const owner = `renkei_test_owner_${suffix}`;
  const name = `renkei_test_${suffix}`;
  let admin: Pool;

  beforeAll(async () => {
    admin = createPool(`${TEST_SERVER_URL}/postgres`, { max: 1 });
    // What production looks like: the owner owns the database, and may create no role.
    await admin.query(`CREATE ROLE ${quoteIdentifier(owner)} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB`);
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)} OWNER ${quoteIdentifier(owner)}`);
  });

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${quoteIdentifier(owner)}`);
    await admin.end();
  });

  const ownerUrl = () => {
    const url = new URL(`${TEST_SERVER_URL}/${name}`);
    url.username = owner;
    url.password = '';
    return url.toString();
  };

  it('says which roles to create when they are missing and it may not create them', async () => {
    await ensureDatabase(ownerUrl());
    const pool = createPool(ownerUrl(), { max: 1 });
    try {
      const failure = await migrate(pool, { rolePrefix: `t${suffix}` }).then(
        () => undefined,
        (error: Error & { code?: string }) => error,
      );
      expect(failure?.code).toBe('RENKEI_MIGRATION_FAILED');
      expect(failure?.message).toContain(`t${suffix}_ingest, t${suffix}_correlator, t${suffix}_gateway`);
      // Nothing was applied: the next start, once the roles exist, applies everything.
      const applied = await pool.query(`SELECT to_regclass('reports') AS table`);
      expect(applied.rows).toEqual([{ table: null }]);
    } finally {
      await pool.end();
    }
  });

  it('applies every migration, grants included, and owns what it made', async () => {
    const pool = createPool(ownerUrl(), { max: 1 });
    try {
      const applied = await migrate(pool);
      expect(applied.length).toBeGreaterThanOrEqual(17);
      const { rows } = await pool.query<{ owner: string }>(
        `SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`,
      );
      expect(rows).toEqual([{ owner }]);
    } finally {
      await pool.end();
    }
    const gateway = createPool(serviceDatabaseUrl(ownerUrl(), 'gateway'), { max: 1 });
    try {
      const refused = await gateway
        .query(`INSERT INTO reports ${REPORT_ROW} VALUES ${reportValues(randomUUID())}`)
        .then(
          () => undefined,
          (error: { code?: string }) => error.code,
        );
      expect(refused).toBe(INSUFFICIENT_PRIVILEGE);
      expect((await gateway.query('SELECT count(*)::int AS n FROM alerts')).rows).toEqual([{ n: 0 }]);
    } finally {
      await gateway.end();
    }
  });
});

describe('the services under their roles', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  const services: ServiceProcess[] = [];
  let alertId: string;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    prefix = randomTopicPrefix();
    const { mlitCsirt, financeCeptar, gsoc } = TEST_ORGANISATIONS;
    await registerOrganisations(database, [mlitCsirt, financeCeptar, gsoc]);
    // DATABASE_URL is the owner's (here the superuser's): each service takes its own role from it.
    const env = { DATABASE_URL: database.url, KAFKA_TOPIC_PREFIX: prefix, AUTH_JWKS_FILE: keys.jwksFile };
    services.push(
      ...(await spawnServices([
        { name: 'correlator', env },
        { name: 'ingest', env },
        { name: 'gateway', env },
      ])),
    );
    await Promise.all([waitUntilReady(services[1]!.url!), waitUntilReady(services[2]!.url!)]);
  });

  afterAll(async () => {
    const codes = await Promise.all(services.map((service) => service.stop()));
    expect(codes).toEqual(services.map(() => 0));
    await database?.drop();
    await keys?.remove();
    await deleteTopicsWithPrefix(prefix);
  });

  it('takes two reports to a shared alert end to end, holding no connection but its own role', async () => {
    const [, ingest, gateway] = services;
    const agency = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });
    const bank = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    const ids: string[] = [];
    for (const token of [agency, bank]) {
      const response = await fetch(`${ingest!.url}/v1/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          title: 'Phishing wave',
          category: 'phishing',
          severity: 'high',
          tlp: 'GREEN',
          detectedAt: new Date().toISOString(),
          indicators: [{ type: 'domain', value: 'roles-check.example' }],
        }),
      });
      expect(response.status).toBe(202);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const page = await eventually(async () => {
      const response = await fetch(`${gateway!.url}/v1/alerts`, {
        headers: { authorization: `Bearer ${analyst}` },
      });
      const body = alertPageSchema.parse(await response.json());
      expect(body.items).toHaveLength(1);
      return body;
    });
    expect([...page.items[0]!.reportIds].sort()).toEqual([...ids].sort());
    const view = await eventually(async () => {
      const response = await fetch(`${ingest!.url}/v1/reports/${ids[0]}`, {
        headers: { authorization: `Bearer ${agency}` },
      });
      const body = reportStatusViewSchema.parse(await response.json());
      expect(body.status).toBe('processed');
      return body;
    });
    expect(view.id).toBe(ids[0]);

    // Every connection to the hub's database is a service role's, or this test's own pool's:
    // the services closed the owner's connection once the migrations were applied.
    const { rows } = await database.pool.query<{ user: string; connections: number }>(
      `SELECT usename AS user, count(*)::int AS connections FROM pg_stat_activity
        WHERE datname = current_database() GROUP BY 1 ORDER BY 1`,
    );
    const byUser = Object.fromEntries(rows.map((row) => [row.user, row.connections]));
    alertId = page.items[0]!.id;
    for (const role of SERVICE_ROLES) expect(byUser[serviceRoleName(role)], role).toBeGreaterThan(0);
    const owner = new URL(database.url).username;
    expect(byUser[owner] ?? 0).toBeLessThanOrEqual(database.pool.totalCount);
    expect(Object.keys(byUser).sort()).toEqual(
      [owner, ...SERVICE_ROLES.map((r) => serviceRoleName(r))].sort(),
    );
  });

  it("does the gateway's writes as its role: triage, an exclusion, a warning and its acknowledgement", async () => {
    const gateway = services[2]!.url!;
    const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    const bank = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    const send = async (token: string, method: string, route: string, body?: unknown) => {
      const response = await fetch(`${gateway}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
    };

    const triage = await send(analyst, 'POST', '/v1/alerts/triage', {
      alertIds: [alertId],
      change: { kind: 'status', status: 'acknowledged', note: 'seen' },
    });
    expect(triage.status, JSON.stringify(triage.body)).toBe(200);
    expect(triage.body).toMatchObject({ results: [{ alertId, ok: true }] });

    const exclusion = await send(analyst, 'POST', '/v1/exclusions', {
      type: 'domain',
      value: 'benign-roles.example',
      note: 'ours',
    });
    expect(exclusion.status, JSON.stringify(exclusion.body)).toBe(201);
    expect((await send(analyst, 'DELETE', `/v1/exclusions/${String(exclusion.body!.id)}`)).status).toBe(204);

    const warning = await send(analyst, 'POST', '/v1/warnings', {
      title: 'Patch now',
      body: 'A flaw is exploited.',
      severity: 'high',
      tlp: 'GREEN',
      sectors: ['finance'],
    });
    expect(warning.status, JSON.stringify(warning.body)).toBe(201);
    const ack = await send(bank, 'POST', `/v1/warnings/${String(warning.body!.id)}/ack`);
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);

    const lookup = await send(analyst, 'POST', '/v1/lookup', { values: ['roles-check.example'] });
    expect(lookup.status, JSON.stringify(lookup.body)).toBe(200);
    // Each of those wrote its audit event as the gateway.
    const { rows } = await database.pool.query<{ kind: string }>(
      `SELECT DISTINCT kind FROM audit_events WHERE kind LIKE 'alert.%' OR kind LIKE 'warning.%'
          OR kind LIKE 'exclusion.%' ORDER BY 1`,
    );
    expect(rows.map((row) => row.kind)).toEqual([
      'alert.triaged',
      'exclusion.added',
      'exclusion.removed',
      'warning.acknowledged',
      'warning.published',
    ]);
  });
});
