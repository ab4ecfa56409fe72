import { randomUUID } from 'node:crypto';
import type { ImportAnswer } from '@renkei/schema';

/** A TAXII 2.1 status resource (section 4.3.1). */
export interface TaxiiStatus {
  id: string;
  status: 'complete' | 'pending';
  request_timestamp: string;
  total_count: number;
  success_count: number;
  successes: { id: string; message?: string }[];
  failure_count: number;
  failures: { id: string; message: string }[];
  pending_count: number;
}

/**
 * What a TAXII add became, from ingest's import answer: an object is a
 * success when it was mapped into a report Kafka holds, or read as context;
 * a failure (with the reason) otherwise, and so is every object of a report
 * that was refused.
 */
export function statusFromImport(answer: ImportAnswer, requestedAt: string): TaxiiStatus {
  const refusedReports = new Set(
    answer.reports.flatMap((report, index) =>
      report.status === 'refused' || report.status === 'conflict' ? [index] : [],
    ),
  );
  const successes: TaxiiStatus['successes'] = [];
  const failures: TaxiiStatus['failures'] = [];
  for (const item of answer.items) {
    const id = item.id ?? item.position;
    if (item.status === 'unmapped') {
      failures.push({
        id,
        message: `${item.reason?.code ?? 'unmapped'}: ${item.reason?.message ?? ''}`.trim(),
      });
    } else if (
      item.status === 'mapped' &&
      item.reports?.length &&
      item.reports.every((r) => refusedReports.has(r))
    ) {
      failures.push({ id, message: 'report-refused: every report it went into was refused' });
    } else {
      successes.push({
        id,
        message:
          item.status === 'mapped'
            ? `mapped into report ${describeReports(answer, item.reports ?? [])}`
            : 'read as context',
      });
    }
  }
  return {
    id: randomUUID(),
    status: 'complete',
    request_timestamp: requestedAt,
    total_count: answer.items.length,
    success_count: successes.length,
    successes,
    failure_count: failures.length,
    failures,
    pending_count: 0,
  };
}

function describeReports(answer: ImportAnswer, indexes: readonly number[]): string {
  return indexes.map((i) => answer.reports[i]?.id ?? `#${i}`).join(', ');
}

/**
 * Status resources of this gateway's adds, kept for a day or the last
 * `capacity` adds. An add is complete when it is answered (ingest answers
 * only once Kafka holds the reports), so the status is in the answer itself;
 * this store only serves clients that ask again, on the same gateway.
 */
export class TaxiiStatusStore {
  readonly #entries = new Map<string, { organisationId: string; status: TaxiiStatus; at: number }>();

  constructor(
    private readonly capacity = 10_000,
    private readonly ttlMs = 24 * 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  put(organisationId: string, status: TaxiiStatus): void {
    this.#entries.set(status.id, { organisationId, status, at: this.now() });
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** The status, to the organisation that made the add only. */
  get(organisationId: string, id: string): TaxiiStatus | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.ttlMs) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.organisationId === organisationId ? entry.status : undefined;
  }
}
