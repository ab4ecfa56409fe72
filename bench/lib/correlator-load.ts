import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Pool } from '@renkei/db';
import { REPORT_CATEGORIES, REPORT_ENVELOPE_SCHEMA, SECTORS, type ReportEnvelope } from '@renkei/schema';

/** The organisations the generated reports come from (and the background of `correlation`). */
export const BENCH_ORGANISATIONS = 40;
/** Detection times of generated reports: one 14-day window, so everything is in some window. */
export const WINDOW_START = Date.parse('2026-10-01T00:00:00Z');
export const WINDOW_DAYS = 14;
const MEASURED_SECTORS = SECTORS.filter((sector) => sector !== 'central-government');

/**
 * A report as the correlator meets them in a burst: five indicators, two of
 * them from a pool of `hotValues` shared with other organisations' reports
 * (shared-indicator and campaign alerts, some reaching the cap), a URL
 * (with its derived host), an address and a hash of its own.
 */
export function benchEnvelope(tag: string, i: number, hotValues: number): ReportEnvelope {
  const id = randomUUID();
  const detected = WINDOW_START + Math.floor(((i * 7919) % (WINDOW_DAYS * 1440)) * 60_000);
  const n = Number.parseInt(tag.replace(/\D/gu, '').slice(-3) || '0', 10) % 250;
  return {
    schema: REPORT_ENVELOPE_SCHEMA,
    id,
    organisationId: `bench-org-${(i * 7) % BENCH_ORGANISATIONS}`,
    // Not the background's sector, so the surge rule reads the same few rows whatever is stored.
    sector: MEASURED_SECTORS[i % MEASURED_SECTORS.length]!,
    submittedBy: 'bench',
    receivedAt: new Date().toISOString(),
    contentSha256: '0'.repeat(64),
    report: {
      id,
      title: `Benchmark report ${tag}/${i}`,
      category: REPORT_CATEGORIES[i % REPORT_CATEGORIES.length]!,
      severity: 'medium',
      tlp: 'GREEN',
      detectedAt: new Date(detected).toISOString(),
      exercise: false,
      indicators: [
        { type: 'domain', value: `hot-${tag}-${i % hotValues}.bench.example` },
        { type: 'domain', value: `hot-${tag}-${(i * 31 + 7) % hotValues}.bench.example` },
        { type: 'url', value: `hxxps://new-${tag}-${i}.bench[.]example/gate.php` },
        { type: 'ipv4', value: `45.${n}.${(i >> 8) & 255}.${i & 255}` },
        {
          type: 'sha256',
          value: `${tag}-${i}`
            .replace(/[^0-9a-f]/gu, 'f')
            .padStart(64, 'a')
            .slice(-64),
        },
      ],
    },
  };
}

/**
 * Sends the envelopes (batches of 500) and waits until the database holds
 * them all; returns reports per second from the first send to the last
 * report stored, as seen by polling (every 100 ms).
 */
export async function sendAndWaitStored({
  producer,
  topic,
  pool,
  envelopes,
  timeoutMs,
}: {
  producer: Producer;
  topic: string;
  pool: Pool;
  envelopes: readonly ReportEnvelope[];
  timeoutMs: number;
}): Promise<{ perSecond: number; seconds: number }> {
  const ids = envelopes.map((e) => e.id);
  const started = performance.now();
  for (let i = 0; i < envelopes.length; i += 500) {
    await producer.send({
      topic,
      acks: -1,
      messages: envelopes.slice(i, i + 500).map((e) => ({ key: e.id, value: JSON.stringify(e) })),
    });
  }
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM reports WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const seconds = (performance.now() - started) / 1000;
    if (rows[0]!.n >= ids.length) return { perSecond: Math.round((ids.length / seconds) * 10) / 10, seconds };
    if (seconds * 1000 > timeoutMs)
      throw new Error(`${rows[0]!.n} of ${ids.length} reports stored after ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
