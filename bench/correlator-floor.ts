/**
 * The correlator's floor: a raw kafkajs `eachBatch` consumer that writes the
 * same rows the correlator writes for each report (reports, their indicators
 * as written, their canonical sightings), with the correlator's own
 * set-based statements, one transaction per chunk of the same size, offsets
 * committed after it. What it leaves out is the correlation itself: warning
 * lists and exclusions, the advisory locks, reading the neighbourhood, the
 * rules, alert versions and the feed. Run as a process of its own by the
 * `correlator` scenario; answers `GET /readyz` on PORT once it consumes.
 *
 * Env: DATABASE_URL, KAFKA_BROKERS, FLOOR_TOPIC, FLOOR_GROUP, FLOOR_CHUNK, PORT.
 */
import { createServer } from 'node:http';
import { insertIndicatorsMany, insertReports, insertSightingsMany } from '@renkei/correlator';
import { createPool, withTransaction } from '@renkei/db';
import { readIndicators } from '@renkei/indicators';
import type { ReportEnvelope } from '@renkei/schema';
import { testKafka } from '@renkei/testing';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const topic = env('FLOOR_TOPIC');
const chunkSize = Number(env('FLOOR_CHUNK'));
const pool = createPool(env('DATABASE_URL'), { max: 4 });
// The shared broker's security (TLS + SCRAM when secured), as the correlator pays it.
const kafka = testKafka({ brokers: env('KAFKA_BROKERS'), clientId: 'bench-correlator-floor' });
const consumer = kafka.consumer({ groupId: env('FLOOR_GROUP'), maxWaitTimeInMs: 1_000 });
let joined = false;
consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));

await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  partitionsConsumedConcurrently: 1,
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }) => {
    for (let start = 0; start < batch.messages.length; start += chunkSize) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + chunkSize);
      const items = chunk.map((message) => ({
        envelope: JSON.parse(message.value!.toString('utf8')) as ReportEnvelope,
        at: { topic, partition: batch.partition, offset: message.offset },
      }));
      await withTransaction(pool, async (db) => {
        const stored = await insertReports(db, items);
        const fresh = items.filter((item) => stored.has(item.envelope.report.id));
        const read = fresh.map(({ envelope }) => ({
          envelope,
          ...readIndicators(envelope.report.indicators),
        }));
        await insertIndicatorsMany(
          db,
          read.map(({ envelope, written }) => ({
            reportId: envelope.report.id,
            indicators: written.map((indicator, position) => ({
              ...indicator,
              role: envelope.report.indicators[position]!.role,
            })),
          })),
        );
        await insertSightingsMany(
          db,
          read.flatMap(({ envelope, observables }) =>
            observables.map((observable) => ({
              report: {
                reportId: envelope.report.id,
                organisationId: envelope.organisationId,
                sector: envelope.sector,
                tlp: envelope.report.tlp,
                severity: envelope.report.severity,
                category: envelope.report.category,
                detectedAt: envelope.report.detectedAt,
                receivedAt: envelope.receivedAt,
                exercise: envelope.report.exercise,
              },
              observable,
              suppressedBy: null,
            })),
          ),
        );
      });
      resolveOffset(chunk.at(-1)!.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  },
});

createServer((request, response) => {
  const ready = request.url === '/readyz' ? joined : true;
  response.writeHead(ready ? 200 : 503).end(ready ? 'ready' : 'not-ready');
}).listen(Number(env('PORT')), '127.0.0.1');

process.once('SIGTERM', () => {
  void consumer
    .disconnect()
    .finally(() => pool.end())
    .finally(() => process.exit(0));
});
