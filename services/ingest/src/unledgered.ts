import type { ReportEnvelope } from '@renkei/schema';

/** Enough to tell a retry from a conflict. */
export interface UnledgeredReport {
  organisationId: string;
  contentSha256: string;
}

/**
 * Reports this process answered 202 without a ledger row (PostgreSQL was
 * away, or the update after Kafka's acknowledgement failed), until the
 * ledger's catch-up has written them. A retry with the same id is answered
 * from here, 202 again without a second message or 409 for another body,
 * while the ledger cannot answer or has not caught up yet.
 *
 * Bounded: past `limit` the oldest are forgotten, and a conflict among them
 * is found by the catch-up instead (and audited) rather than answered 409.
 */
export class UnledgeredReports {
  readonly #reports = new Map<string, UnledgeredReport>();
  readonly #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#reports.size;
  }

  get(id: string): UnledgeredReport | undefined {
    return this.#reports.get(id);
  }

  remember(envelope: ReportEnvelope): void {
    this.#reports.delete(envelope.id);
    this.#reports.set(envelope.id, {
      organisationId: envelope.organisationId,
      contentSha256: envelope.contentSha256,
    });
    // A Map iterates in insertion order, so the first key is the oldest.
    while (this.#reports.size > this.#limit) {
      this.#reports.delete(this.#reports.keys().next().value!);
    }
  }

  /** The ledger holds these now, and answers for them itself. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#reports.delete(id);
  }
}
