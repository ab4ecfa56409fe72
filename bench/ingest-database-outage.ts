/**
 * Intake through a PostgreSQL outage, measured (a standalone script, not a
 * scenario of `npm run bench`; the fault suite is where a 5-minute run
 * belongs). Ingest runs in this process and a correlator as a process of its
 * own, both reaching PostgreSQL through a TCP proxy that this script cuts for
 * OUTAGE_S seconds while it posts RATE reports a second; the shared server
 * keeps running. It prints how every POST was answered, how long after the
 * database's return the reports answered during the outage were `accepted`
 * in the ledger, whether each was audited once, and when the correlator had
 * stored them all (it is restarted if it exited meanwhile).
 *
 *   RATE=100 OUTAGE_S=60 node --import tsx bench/ingest-database-outage.ts
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@renkei/runtime';
import {
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  registerOrganisations,
  spawnService,
  TEST_ORGANISATIONS,
  TEST_SERVER_URL,
  type ServiceProcess,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadIngestConfig } from '../services/ingest/src/config.js';
import { startIngest } from '../services/ingest/src/service.js';
import { startTcpProxy } from '../services/ingest/test/integration/tcp-proxy.js';

const RATE = Number(process.env.RATE ?? 100);
const BEFORE_S = Number(process.env.BEFORE_S ?? 5);
const OUTAGE_S = Number(process.env.OUTAGE_S ?? 30);
const AFTER_S = Number(process.env.AFTER_S ?? 5);
const logger = createLogger('ingest-outage', 'warn');

const database = await createMigratedTestDatabase();
const keys = await createTestKeys();
await registerOrganisations(database, [TEST_ORGANISATIONS.mlitCsirt, TEST_ORGANISATIONS.gsoc]);
const server = new URL(TEST_SERVER_URL);
const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
const prefix = randomTopicPrefix();
const env = {
  DATABASE_URL: proxy.url(new URL(database.url).pathname.slice(1)),
  ...(await sharedKafkaEnv(prefix)),
  AUTH_JWKS_FILE: keys.jwksFile,
  DATABASE_LOSS_TIMEOUT_MS: '3600000',
  KAFKA_LOSS_TIMEOUT_MS: '3600000',
};
const ingest = await startIngest(
  loadIngestConfig({ ...env, INGEST_PORT: '0', RATE_LIMIT_WRITES_MAX: '1000000' }),
  logger,
);
let correlator: ServiceProcess | undefined;
let correlatorExits = 0;
const startCorrelator = async () => {
  const started = await spawnService('correlator', { ...env, CORRELATOR_PORT: '0' });
  correlator = started;
  void started.exited.then(() => {
    correlatorExits += 1;
    if (correlator === started) correlator = undefined;
  });
};
await startCorrelator();
const token = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });

type Phase = 'before' | 'outage' | 'after';
let phase: Phase = 'before';
const answers = new Map<string, number>();
const latencies = new Map<Phase, number[]>([
  ['before', []],
  ['outage', []],
  ['after', []],
]);
const accepted: string[] = [];
const acceptedDuringOutage: string[] = [];
const inFlight = new Set<Promise<void>>();

const post = () => {
  const id = randomUUID();
  const sentIn = phase;
  const started = performance.now();
  const request = fetch(`${ingest.url}/v1/reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      id,
      title: 'Phishing wave',
      category: 'phishing',
      severity: 'high',
      tlp: 'GREEN',
      detectedAt: '2026-11-28T09:00:00+09:00',
      indicators: [{ type: 'domain', value: `${id.slice(0, 8)}.example` }],
    }),
  })
    .then(
      (response) => {
        latencies.get(sentIn)!.push(performance.now() - started);
        answers.set(String(response.status), (answers.get(String(response.status)) ?? 0) + 1);
        if (response.status !== 202) return;
        accepted.push(id);
        if (sentIn === 'outage') acceptedDuringOutage.push(id);
      },
      (error: unknown) => {
        const key = `client error: ${String((error as { cause?: unknown }).cause ?? error)}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      },
    )
    .finally(() => inFlight.delete(request));
  inFlight.add(request);
};

const load = async (seconds: number) => {
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE);
    for (; sent < due; sent += 1) post();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const countAccepted = async (ids: string[]) =>
  Number(
    (
      await database.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM report_submissions WHERE state = 'accepted' AND id = ANY($1::uuid[])`,
        [ids],
      )
    ).rows[0]!.n,
  );

await load(BEFORE_S);
proxy.cut();
phase = 'outage';
await load(OUTAGE_S);
await Promise.all(inFlight);
proxy.restore();
phase = 'after';
const back = performance.now();
const outageIds = [...acceptedDuringOutage];
const ledgerCaughtUp = (async () => {
  while (performance.now() - back < 300_000) {
    if ((await countAccepted(outageIds)) === outageIds.length) return performance.now() - back;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
})();
await load(AFTER_S);
await Promise.all(inFlight);
const ledgerMs = await ledgerCaughtUp;
if (!correlator) await startCorrelator();
let storedMs: number | undefined;
while (performance.now() - back < 300_000) {
  const { rows } = await database.pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM reports WHERE id = ANY($1::uuid[])',
    [accepted],
  );
  if (Number(rows[0]!.n) === accepted.length) {
    storedMs = performance.now() - back;
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
const audits = (
  await database.pool.query<{ n: string; ids: string }>(
    `SELECT count(*) AS n, count(DISTINCT object) AS ids FROM audit_events
      WHERE kind = 'report.submitted' AND object = ANY($1::text[])`,
    [accepted],
  )
).rows[0]!;

const quantile = (list: number[], q: number) =>
  list.length === 0 ? NaN : Math.round([...list].sort((a, b) => a - b)[Math.floor((list.length - 1) * q)]!);
console.log(
  JSON.stringify(
    {
      rate: RATE,
      outageSeconds: OUTAGE_S,
      answers: Object.fromEntries(answers),
      acceptedDuringOutage: outageIds.length,
      ledgerAcceptedAfterReturnMs: ledgerMs === undefined ? 'not within 300 s' : Math.round(ledgerMs),
      submittedAudits: { events: Number(audits.n), reports: Number(audits.ids), accepted: accepted.length },
      storedByCorrelatorAfterReturnMs: storedMs === undefined ? 'not within 300 s' : Math.round(storedMs),
      correlatorExits,
      postLatencyMs: Object.fromEntries(
        [...latencies].map(([name, list]) => [name, { p50: quantile(list, 0.5), p99: quantile(list, 0.99) }]),
      ),
    },
    null,
    2,
  ),
);
await correlator?.stop();
await ingest.close();
await proxy.close();
await database.drop();
await keys.remove();
await deleteTopicsWithPrefix(prefix);
process.exit(0);
