import { isBrokerUnavailable, reportsTopicMessage, withDeadline, type Producer } from '@renkei/bus';
import type { Pool } from '@renkei/db';
import type { HubMetrics } from '@renkei/metrics';
import { RenkeiError, type Closable, type Logger } from '@renkei/runtime';
import type { ReportEnvelope } from '@renkei/schema';
import { acceptSubmissions, claimSubmissions, findSubmissions } from './queries/submissions.js';

/**
 * The largest report envelope, in bytes of JSON. The broker refuses a
 * partition's record batch over `message.max.bytes` (1 MiB by default) and
 * would refuse it on every retry, so a larger report is answered 413 at once
 * instead of being claimed in the ledger and sent for ever. A report of 1,000
 * indicators written at full length can exceed it (an import can build one).
 */
export const MAX_ENVELOPE_BYTES = 1_000_000;

/** Room per message for the record's key, headers and framing in a record batch. */
const MESSAGE_OVERHEAD_BYTES = 512;

/** What became of a submission: accepted now, or a retry of one accepted before. */
export type SubmissionOutcome = 'accepted' | 'already-accepted';

export interface SubmissionBatcherOptions {
  pool: Pool;
  producer: Producer;
  topic: string;
  /** How long a batch waits for Kafka's acknowledgement before its requests get 503. */
  kafkaTimeoutMs: number;
  /** How long the first request of a batch waits for others to join it. */
  lingerMs: number;
  /** A batch this large goes at once. */
  maxBatch: number;
  logger: Logger;
  metrics?: HubMetrics;
}

interface Pending {
  envelope: ReportEnvelope;
  resolve: (outcome: SubmissionOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Submissions that arrive together share one ledger insert, one Kafka produce
 * request and one ledger update: kafkajs has no linger of its own, and a
 * request per report spends most of its time waiting on round trips. Each
 * caller still gets its own answer, and only once Kafka acknowledged its
 * message; a failed batch fails only its own requests.
 */
export class SubmissionBatcher implements Closable {
  readonly #options: SubmissionBatcherOptions;
  #waiting: Pending[] = [];
  #firstWaitingSince = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: SubmissionBatcherOptions) {
    this.#options = options;
  }

  submit(envelope: ReportEnvelope): Promise<SubmissionOutcome> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) {
        this.#firstWaitingSince = performance.now();
        this.#timer = setTimeout(() => this.#flush(), this.#options.lingerMs);
      }
      this.#waiting.push({ envelope, resolve, reject });
      if (this.#waiting.length >= this.#options.maxBatch) this.#flush();
    });
  }

  /** Sends what waits and waits for every batch in flight. */
  async close(): Promise<void> {
    this.#flush();
    await Promise.allSettled([...this.#inFlight]);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    this.#options.metrics?.batchSize.observe({ stage: 'ingest' }, batch.length);
    this.#options.metrics?.batchLinger.observe(
      { stage: 'ingest' },
      (performance.now() - this.#firstWaitingSince) / 1000,
    );
    const work = this.#process(batch).finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  async #process(batch: Pending[]): Promise<void> {
    const { pool } = this.#options;
    // Requests of one batch with the same id: the first speaks for the id, the
    // others are its retries (or conflicts) and get the first one's fate.
    const firstById = new Map<string, Pending>();
    const repeats: Pending[] = [];
    for (const pending of batch) {
      if (firstById.has(pending.envelope.id)) repeats.push(pending);
      else firstById.set(pending.envelope.id, pending);
    }

    // Each envelope is serialised once, for the ledger and for Kafka alike.
    const json = new Map<ReportEnvelope, string>();
    const firsts: Pending[] = [];
    for (const pending of firstById.values()) {
      const text = JSON.stringify(pending.envelope);
      const bytes = Buffer.byteLength(text);
      if (bytes > MAX_ENVELOPE_BYTES) {
        pending.reject(
          new RenkeiError(
            'RENKEI_PAYLOAD_TOO_LARGE',
            `report ${pending.envelope.id} is ${bytes} bytes once stored; at most ${MAX_ENVELOPE_BYTES} fit one Kafka message`,
          ),
        );
        continue;
      }
      firsts.push(pending);
      json.set(pending.envelope, text);
    }
    let toSend: { pending: Pending; envelope: ReportEnvelope }[];
    try {
      const inserted = await claimSubmissions(pool, [...json.values()]);
      const earlier = await findSubmissions(
        pool,
        firsts.filter((pending) => !inserted.has(pending.envelope.id)).map((pending) => pending.envelope.id),
      );
      toSend = [];
      for (const pending of firsts) {
        const row = earlier.get(pending.envelope.id);
        if (!row) {
          toSend.push({ pending, envelope: pending.envelope });
        } else if (
          row.organisation_id !== pending.envelope.organisationId ||
          row.content_sha256 !== pending.envelope.contentSha256
        ) {
          pending.reject(conflict(pending.envelope.id));
        } else if (row.state === 'accepted') {
          pending.resolve('already-accepted');
        } else {
          // An earlier attempt stopped between the ledger and Kafka's
          // acknowledgement: its envelope is sent again (the correlator
          // stores a report id once).
          toSend.push({ pending, envelope: row.envelope });
        }
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }

    if (toSend.length > 0) {
      try {
        await this.#send(
          toSend.map(({ envelope }) => ({ envelope, json: json.get(envelope) ?? JSON.stringify(envelope) })),
        );
      } catch (error) {
        const answer = isBrokerUnavailable(error)
          ? new RenkeiError('RENKEI_UNAVAILABLE', 'the report could not be stored; retry with the same id', {
              cause: error,
            })
          : error;
        this.#options.logger.error(
          { err: error, reports: toSend.length },
          'Kafka did not acknowledge a batch',
        );
        for (const { pending } of toSend) pending.reject(answer);
        this.#settleRepeats(repeats, firstById);
        return;
      }
      await acceptSubmissions(
        pool,
        toSend.map((item) => item.envelope),
      ).catch((error: unknown) => {
        // Kafka holds the reports, so they are accepted; the ledger catches
        // up when the correlator has stored them (GET reads both).
        this.#options.logger.warn({ err: error }, 'reports are in Kafka but the ledger could not be updated');
      });
      for (const { pending } of toSend) pending.resolve('accepted');
    }
    this.#settleRepeats(repeats, firstById);
  }

  /** A repeat within the batch waits for its first and answers as a retry of it would. */
  #settleRepeats(repeats: Pending[], firstById: Map<string, Pending>): void {
    for (const repeat of repeats) {
      const first = firstById.get(repeat.envelope.id)!;
      if (
        first.envelope.organisationId !== repeat.envelope.organisationId ||
        first.envelope.contentSha256 !== repeat.envelope.contentSha256
      ) {
        repeat.reject(conflict(repeat.envelope.id));
        continue;
      }
      // Settled through the first's own promise: resubmitting finds the row.
      this.submit(repeat.envelope).then(repeat.resolve, repeat.reject);
    }
  }

  /**
   * One produce request per share of at most MAX_ENVELOPE_BYTES, all at once:
   * kafkajs puts a partition's messages of one request in one record batch,
   * and the broker refuses a batch over its limit whole, so a batch of large
   * reports would fail every request in it, other organisations' too.
   */
  async #send(envelopes: { envelope: ReportEnvelope; json: string }[]): Promise<void> {
    const { producer, topic, kafkaTimeoutMs, metrics } = this.#options;
    const shares: (typeof envelopes)[] = [];
    let bytes = Infinity;
    for (const item of envelopes) {
      const size = Buffer.byteLength(item.json) + MESSAGE_OVERHEAD_BYTES;
      if (bytes + size > MAX_ENVELOPE_BYTES + MESSAGE_OVERHEAD_BYTES) {
        shares.push([]);
        bytes = 0;
      }
      shares.at(-1)!.push(item);
      bytes += size;
    }
    await withDeadline(
      Promise.all(
        shares.map((share) =>
          producer.send({
            topic,
            acks: -1,
            messages: share.map(({ envelope, json }) => reportsTopicMessage(envelope.id, envelope, json)),
          }),
        ),
      ),
      kafkaTimeoutMs,
      'Kafka acknowledgement',
    );
    metrics?.kafkaProduced.inc({ topic }, envelopes.length);
  }
}

function conflict(id: string): RenkeiError {
  return new RenkeiError('RENKEI_CONFLICT', `report ${id} already exists with a different body`);
}
