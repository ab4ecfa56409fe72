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
  pendings: { id: string; message?: string }[];
}

/** A stored status as TAXII writes it: those kept before `pendings` was added lack the (empty) list. */
export function withPendings(
  status: Omit<TaxiiStatus, 'pendings'> & { pendings?: TaxiiStatus['pendings'] },
): TaxiiStatus {
  return { ...status, pendings: status.pendings ?? [] };
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
    pendings: [],
  };
}

/** Why ingest refused a whole add (its 400 or 422): the message and the fields it named. */
export interface ImportRefusal {
  message: string;
  fields: readonly { field: string; message: string }[];
}

const OBJECT_FIELD = /^objects\[(\d+)\]$/;
const STIX_ID = /^[a-z][a-z0-9-]{0,249}--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What a TAXII add became when ingest refused it as a whole (a bundle
 * without a valid id, no TLP marking, nothing it could import): a complete
 * status in which every object failed, each with the reason ingest gave for
 * it, else the reason for the whole. A malformed add is the client's to fix,
 * so it is never answered as an error a client would retry.
 */
export function statusFromRefusal(
  objects: readonly unknown[],
  refusal: ImportRefusal,
  requestedAt: string,
): TaxiiStatus {
  const byObject = new Map<number, string>();
  const general: string[] = [];
  for (const { field, message } of refusal.fields) {
    const at = OBJECT_FIELD.exec(field);
    if (at) byObject.set(Number(at[1]), message);
    else general.push(field === '(body)' ? message : `${field}: ${message}`);
  }
  const whole = general.length > 0 ? general.join('; ') : refusal.message;
  const failures = objects.map((object, index) => {
    const given = typeof object === 'object' && object !== null ? (object as { id?: unknown }).id : undefined;
    // Only a STIX id names the object: anything else could be text jsonb cannot store.
    const id = typeof given === 'string' && STIX_ID.test(given) ? given : `objects[${index}]`;
    return { id, message: byObject.get(index) ?? whole };
  });
  return {
    id: randomUUID(),
    status: 'complete',
    request_timestamp: requestedAt,
    total_count: objects.length,
    success_count: 0,
    successes: [],
    failure_count: failures.length,
    failures,
    pending_count: 0,
    pendings: [],
  };
}

function describeReports(answer: ImportAnswer, indexes: readonly number[]): string {
  return indexes.map((i) => answer.reports[i]?.id ?? `#${i}`).join(', ');
}
