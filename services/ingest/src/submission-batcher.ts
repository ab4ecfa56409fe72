import { isBrokerUnavailable, reportsTopicMessage, withDeadline, type AcknowledgedSender } from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import { observeHop, type HubMetrics } from '@renkei/metrics';
import { RenkeiError, type Closable, type Logger } from '@renkei/runtime';
import type { ReportEnvelope } from '@renkei/schema';
import {
  acceptSubmissions,
  claimSubmissions,
  findSubmissions,
  type SubmissionRow,
} from './queries/submissions.js';
import { UnledgeredReports, type UnledgeredReport } from './unledgered.js';

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
  producer: AcknowledgedSender;
  topic: string;
  /** How long a batch waits for Kafka's acknowledgement before its requests get 503. */
  kafkaTimeoutMs: number;
  /** How long the first request of a batch waits for others to join it. */
  lingerMs: number;
  /** A batch this large goes at once. */
  maxBatch: number;
  logger: Logger;
  metrics?: HubMetrics;
  /** Reports answered 202 without a ledger row, shared with the ledger's catch-up. */
  unledgered?: UnledgeredReports;
  /** How long a batch waits for the ledger before it goes on without it. Default 2 s. */
  ledgerTimeoutMs?: number;
  /** After the ledger failed, how long batches go without it before trying it again. Default 1 s. */
  ledgerRetryMs?: number;
}

type BatcherSettings = SubmissionBatcherOptions &
  Required<Pick<SubmissionBatcherOptions, 'unledgered' | 'ledgerTimeoutMs' | 'ledgerRetryMs'>>;

interface Pending {
  envelope: ReportEnvelope;
  /** performance.now() at submission. */
  since: number;
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
  readonly #options: BatcherSettings;
  #waiting: Pending[] = [];
  #firstWaitingSince = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #ledgerAwayUntil = 0;
  /** Since the ledger last failed, and until a claim succeeds: one log line each way per outage. */
  #ledgerDown = false;

  constructor(options: SubmissionBatcherOptions) {
    this.#options = {
      ...options,
      unledgered: options.unledgered ?? new UnledgeredReports(),
      ledgerTimeoutMs: options.ledgerTimeoutMs ?? 2_000,
      ledgerRetryMs: options.ledgerRetryMs ?? 1_000,
    };
  }

  submit(envelope: ReportEnvelope): Promise<SubmissionOutcome> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) {
        this.#firstWaitingSince = performance.now();
        this.#timer = setTimeout(() => this.#flush(), this.#options.lingerMs);
      }
      this.#waiting.push({ envelope, resolve, reject, since: performance.now() });
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
    const now = performance.now();
    for (const pending of batch)
      observeHop(this.#options.metrics, 'ingest-queue', (now - pending.since) / 1000);
    const work = this.#process(batch).finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  async #process(batch: Pending[]): Promise<void> {
    // Requests of one batch with the same id: the first speaks for the id, the
    // others are its retries (or conflicts) and get the first one's fate.
    const firstById = new Map<string, Pending>();
    const repeats: Pending[] = [];
    for (const pending of batch) {
      if (firstById.has(pending.envelope.id)) repeats.push(pending);
      else firstById.set(pending.envelope.id, pending);
    }
    // A report accepted without the ledger is answered from memory until the
    // ledger has caught up with it: the ledger cannot tell yet. Each envelope
    // is serialised once, for the ledger and for Kafka alike.
    const json = new Map<ReportEnvelope, string>();
    const firsts: Pending[] = [];
    for (const pending of firstById.values()) {
      const known = this.#options.unledgered.get(pending.envelope.id);
      if (known) {
        if (sameSubmitter(known, pending.envelope)) pending.resolve('already-accepted');
        else pending.reject(conflict(pending.envelope.id));
        continue;
      }
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
    let toSend: { pending: Pending; envelope: ReportEnvelope }[] = [];
    let ledger = !this.#ledgerAway();
    if (ledger && firsts.length > 0) {
      let earlier: Map<string, SubmissionRow>;
      try {
        const claimed = performance.now();
        earlier = await this.#withLedgerDeadline(this.#claim(firsts, json));
        observeHop(
          this.#options.metrics,
          'ingest-ledger',
          (performance.now() - claimed) / 1000,
          firsts.length,
        );
        if (this.#ledgerDown) {
          this.#ledgerDown = false;
          this.#options.logger.info('the ledger answers again: reports are recorded in it before Kafka');
        }
      } catch (error) {
        if (!this.#isLedgerAway(error)) {
          for (const pending of firsts) pending.reject(error);
          this.#settleRepeats(repeats, firstById);
          return;
        }
        this.#ledgerFailed(error);
        ledger = false;
        earlier = new Map();
      }
      for (const pending of firsts) {
        const row = earlier.get(pending.envelope.id);
        if (!row) {
          toSend.push({ pending, envelope: pending.envelope });
        } else if (
          !sameSubmitter(
            { organisationId: row.organisation_id, contentSha256: row.content_sha256 },
            pending.envelope,
          )
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
    } else {
      // PostgreSQL is away: Kafka is the record, and the ledger's catch-up
      // writes the rows from the topic when the database is back.
      toSend = firsts.map((pending) => ({ pending, envelope: pending.envelope }));
    }

    if (toSend.length > 0) {
      try {
        const sending = performance.now();
        await this.#send(
          toSend.map(({ envelope }) => ({ envelope, json: json.get(envelope) ?? JSON.stringify(envelope) })),
        );
        observeHop(
          this.#options.metrics,
          'ingest-kafka',
          (performance.now() - sending) / 1000,
          toSend.length,
        );
      } catch (error) {
        const answer = isBrokerUnavailable(error)
          ? new RenkeiError(
              'RENKEI_UNAVAILABLE',
              'not acknowledged: it may or may not be stored; retry with the same id',
              {
                cause: error,
              },
            )
          : error;
        this.#options.logger.error(
          { err: error, reports: toSend.length },
          'Kafka did not acknowledge a batch',
        );
        for (const { pending } of toSend) pending.reject(answer);
        this.#settleRepeats(repeats, firstById);
        return;
      }
      const sent = toSend.map((item) => item.envelope);
      if (ledger) {
        try {
          const accepting = performance.now();
          await this.#withLedgerDeadline(acceptSubmissions(this.#options.pool, sent));
          observeHop(
            this.#options.metrics,
            'ingest-ledger-accept',
            (performance.now() - accepting) / 1000,
            sent.length,
          );
        } catch (error) {
          // Kafka holds the reports, so they are accepted; the ledger's
          // catch-up marks them when it reads them from the topic.
          if (!this.#ledgerDown) {
            this.#options.logger.warn(
              { err: error, reports: sent.length },
              'reports are in Kafka but the ledger could not be updated: the catch-up will',
            );
          }
          if (this.#isLedgerAway(error)) this.#ledgerFailed(error);
          ledger = false;
        }
      }
      if (!ledger) {
        for (const envelope of sent) this.#options.unledgered.remember(envelope);
      }
      for (const { pending } of toSend) pending.resolve('accepted');
    }
    this.#settleRepeats(repeats, firstById);
  }

  /** Claims rows for the batch's reports; returns the rows that were there before. */
  async #claim(firsts: Pending[], json: Map<ReportEnvelope, string>): Promise<Map<string, SubmissionRow>> {
    const { pool } = this.#options;
    const inserted = await claimSubmissions(
      pool,
      firsts.map((pending) => json.get(pending.envelope)!),
    );
    const earlier = await findSubmissions(
      pool,
      firsts.filter((pending) => !inserted.has(pending.envelope.id)).map((pending) => pending.envelope.id),
    );
    // Rows the ledger holds answer for themselves from now on.
    this.#options.unledgered.forget(earlier.keys());
    return earlier;
  }

  #ledgerAway(): boolean {
    return performance.now() < this.#ledgerAwayUntil;
  }

  #isLedgerAway(error: unknown): boolean {
    return error instanceof LedgerDeadlineExceeded || isDatabaseUnavailable(error);
  }

  /** Batches go without the ledger for a while, so an outage costs one failed try per interval, not one per batch. */
  #ledgerFailed(error: unknown): void {
    if (!this.#ledgerDown) {
      this.#ledgerDown = true;
      this.#options.logger.warn(
        { err: error, retryInMs: this.#options.ledgerRetryMs },
        "PostgreSQL is away: reports are answered on Kafka's acknowledgement alone until the ledger answers",
      );
    }
    this.#ledgerAwayUntil = performance.now() + this.#options.ledgerRetryMs;
  }

  /** A ledger that does not answer in time is treated as away; the statement itself runs on. */
  async #withLedgerDeadline<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new LedgerDeadlineExceeded(
                  `the ledger did not answer in ${this.#options.ledgerTimeoutMs} ms`,
                ),
              ),
            this.#options.ledgerTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      // A statement that lost the race may still fail later; nobody waits for it.
      work.catch(() => undefined);
    }
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
    // Reports still waiting for their partition when the batch's answer is 503 are not sent.
    const abandon = new AbortController();
    try {
      await withDeadline(
        Promise.all(
          shares.map((share) =>
            producer.send(
              {
                topic,
                acks: -1,
                messages: share.map(({ envelope, json }) => reportsTopicMessage(envelope.id, envelope, json)),
              },
              { signal: abandon.signal },
            ),
          ),
        ),
        kafkaTimeoutMs,
        'Kafka acknowledgement',
      );
    } catch (error) {
      abandon.abort();
      throw error;
    }
    metrics?.kafkaProduced.inc({ topic }, envelopes.length);
  }
}

/** The ledger did not answer within `ledgerTimeoutMs`. */
class LedgerDeadlineExceeded extends Error {
  override readonly name = 'LedgerDeadlineExceeded';
}

function sameSubmitter(known: UnledgeredReport, envelope: ReportEnvelope): boolean {
  return known.organisationId === envelope.organisationId && known.contentSha256 === envelope.contentSha256;
}

function conflict(id: string): RenkeiError {
  return new RenkeiError('RENKEI_CONFLICT', `report ${id} already exists with a different body`);
}
