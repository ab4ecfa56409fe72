/**
 * Ingest against its own floor: the same envelopes sent straight to Kafka by a
 * producer with ingest's settings (idempotent, acks from all replicas, one
 * request in flight), then posted through ingest (token check, validation,
 * ledger row in PostgreSQL, the same Kafka send). Both at the same concurrency,
 * in one run, so the ratio means something on a noisy machine.
 *
 *   npm run bench                 # defaults: 2000 reports, 16 at a time
 *   npm run bench -- 5000 32
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { REPORT_ENVELOPE_SCHEMA, type ReportEnvelope, type ReportSubmission } from '@renkei/schema';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  registerOrganisations,
  spawnService,
  testKafka,
  waitUntilReady,
} from '@renkei/testing';

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);

function report(i: number): ReportSubmission {
  return {
    title: `Benchmark report ${i}`,
    description: 'Beaconing to a known C2 address from a finance-sector workstation.'.repeat(4),
    category: 'malware',
    severity: 'medium',
    tlp: 'GREEN',
    detectedAt: '2026-11-28T00:00:00Z',
    indicators: Array.from({ length: 5 }, (_, k) => ({
      type: 'domain' as const,
      value: `c2-${i}-${k}.bench.example`,
    })),
  };
}

interface Run {
  seconds: number;
  latenciesMs: number[];
}

async function drive(send: (i: number) => Promise<void>): Promise<Run> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await send(i);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latenciesMs };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function describe(name: string, run: Run): string {
  return `${name.padEnd(22)} ${(total / run.seconds).toFixed(0).padStart(7)} reports/s   p50 ${percentile(run.latenciesMs, 50).toFixed(1).padStart(6)} ms   p99 ${percentile(run.latenciesMs, 99).toFixed(1).padStart(6)} ms`;
}

execFileSync(path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh'), ['start'], { stdio: 'inherit' });
const [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
await registerOrganisations(database, [{ id: 'bench-csirt', sector: 'finance', kind: 'agency' }]);
const prefix = randomTopicPrefix();
const ingest = await spawnService(
  'ingest',
  {
    DATABASE_URL: database.url,
    KAFKA_TOPIC_PREFIX: prefix,
    AUTH_JWKS_FILE: keys.jwksFile,
    // The benchmark measures ingest's own cost, not the per-organisation write limit.
    RATE_LIMIT_WRITES_MAX: '100000000',
  },
  // BENCH_PROFILE=<dir> writes a CPU profile of ingest there (open it in Chrome DevTools).
  {
    nodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
  },
);
try {
  await waitUntilReady(ingest.url!);
  const token = await keys.token({ org: 'bench-csirt', sector: 'finance', roles: ['reporter'] });

  const producer = testKafka().producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const topic = `${prefix}renkei.reports.v1`;
  const warmUp = Math.min(200, total);
  for (let i = 0; i < warmUp; i += 1) {
    await fetch(`${ingest.url}/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(report(i)),
    });
  }

  const baseline = await drive(async (i) => {
    const id = randomUUID();
    const envelope: ReportEnvelope = {
      schema: REPORT_ENVELOPE_SCHEMA,
      id,
      organisationId: 'bench-csirt',
      sector: 'finance',
      submittedBy: 'bench',
      receivedAt: new Date().toISOString(),
      contentSha256: '0'.repeat(64),
      report: { ...report(i), id, exercise: false },
    };
    await producer.send({ topic, acks: -1, messages: [{ key: id, value: JSON.stringify(envelope) }] });
  });
  await producer.disconnect();

  const hub = await drive(async (i) => {
    const response = await fetch(`${ingest.url}/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(report(i)),
    });
    if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
    await response.arrayBuffer();
  });

  console.log(
    `\n${total} reports, ${concurrency} in flight, one Kafka broker and PostgreSQL on this machine`,
  );
  console.log(describe('kafkajs producer', baseline));
  console.log(describe('POST /v1/reports', hub));
  console.log(
    `ingest throughput is ${((baseline.seconds / hub.seconds) * 100).toFixed(0)}% of the raw producer's ` +
      `(ratio ${(baseline.seconds / hub.seconds).toFixed(2)})`,
  );
} finally {
  await ingest.stop();
  await database.drop();
  await keys.remove();
  await deleteTopicsWithPrefix(prefix);
}
