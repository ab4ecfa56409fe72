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
