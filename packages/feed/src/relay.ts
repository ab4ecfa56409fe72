import type { Message } from 'kafkajs';
import { HEADERS, withDeadline, type AcknowledgedSender, type TopicNames } from '@renkei/bus';
import { advisoryLeadership, isDatabaseUnavailable, withTransaction, type Pool } from '@renkei/db';
import { RenkeiError, Wakeable, type Closable, type Logger } from '@renkei/runtime';
import { FEED_EVENT_SCHEMA } from '@renkei/schema';
import {
  markPublished,
  OUTBOX_CHANNEL,
  pruneFeed,
  readUnpublished,
  sequenceOutbox,
  type UnpublishedEvent,
} from './queries.js';

// Any fixed number works; it only has to be the same in every process of the hub.
const RELAY_LEADER_LOCK = 0x52454c59; // "RELY"
const BATCH_SIZE = 500;
/**
 * Kafka refuses a record batch over the broker's `message.max.bytes` (1 MiB
 * by default), and a send puts each partition's messages in one batch: a
 * burst of 500 alerts of a few kilobytes each would be refused, and the relay
 * would retry the same refused batch until it gave up. Sends stay well below.
 */
const BATCH_BYTES = 512 * 1024;
/** The longest wait between two rounds while a dependency is away. */
const RETRY_CAP_MS = 5_000;

type Missing = 'postgres' | 'kafka' | 'none';

/** A send to Kafka that did not succeed: the broker is what is missing, whatever the error says. */
class PublishFailed extends Error {
  override readonly name = 'PublishFailed';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * Which dependency a failed round was missing: PostgreSQL when its
 * connection failed, Kafka when a send did not succeed; `none` for a
 * failure of the relay's own (it is timed like Kafka's: the feed stopped
 * reaching the topics).
 */
function missingFor(error: unknown): Missing {
  if (error instanceof PublishFailed) return 'kafka';
  return isDatabaseUnavailable(error) ? 'postgres' : 'none';
}

export interface FeedRelayOptions {
  pool: Pool;
  /** The relay holds leadership on a connection of its own, outside the pool. */
  databaseUrl: string;
  /** In the services, PartitionLanes: a batch that spans brokers survives the loss of one. */
  producer: AcknowledgedSender;
  topics: Pick<TopicNames, 'feed' | 'alerts'>;
  logger: Logger;
  /** How often a follower tries to become leader, and the leader sweeps without a notification. */
  sweepEveryMs: number;
  /**
   * A relay that cannot reach PostgreSQL for this long reports
   * RENKEI_DATABASE_LOST; 0 or unset: it never gives up, it retries with
   * backoff until PostgreSQL answers.
   */
  databaseLossTimeoutMs?: number;
  /**
   * A leader that cannot publish to Kafka for this long reports
   * RENKEI_FEED_RELAY_FAILED; 0 or unset: it retries until Kafka takes the
   * events. Nothing is lost meanwhile: the feed waits in PostgreSQL.
   */
  brokerLossTimeoutMs?: number;
  /**
   * Published events older than this are forgotten, every minute. Unset: the
   * relay keeps them, and the retention purge (`@renkei/retention`, run by
   * the correlator) removes them in batches and audits it.
   */
  retentionMs?: number;
  /** Told when a loss timeout passed; the relay itself goes on retrying. */
  onFailure: (error: RenkeiError) => void;
  sendTimeoutMs?: number;
  /** Told how many events went to each topic after every acknowledged send (for metrics). */
  onPublished?: (counts: { feed: number; alerts: number }) => void;
  /**
   * Told, once a round's work is done, how long each event spent on the
   * relay's hops (seconds): waiting in the outbox to be sequenced, and from
   * its sequencing to Kafka's acknowledgement.
   */
  onHops?: (hop: 'feed-sequence' | 'feed-publish', seconds: readonly number[]) => void;
}

export interface FeedRelay extends Closable {
  isLeader(): boolean;
  /** Asks the leader to sequence and publish now (after a local write to the outbox). */
  wake(): void;
}

/**
 * Moves the feed forward and onto Kafka. Any number of processes run a relay;
 * one of them leads, holding a session advisory lock, and only the leader
 * sequences and sends, so the feed and alerts topics receive events in
 * position order (each alert's versions in version order). Leadership passes
 * on within a sweep when the leader's connection goes away.
 *
 * Publishing never holds a transaction or row lock across a send: sequencing
 * commits first, then the events are sent, then marked published. A crash
 * between send and mark sends them again; consumers drop repeats by position.
 */
export function startFeedRelay(options: FeedRelayOptions): FeedRelay {
  const { pool, databaseUrl, logger, sweepEveryMs } = options;
  const log = logger.child({ component: 'feed-relay' });
  let lastPrune = 0;
  const sleep = new Wakeable();
  const wake = () => sleep.wake();
  let closed = false;
  const leadership = advisoryLeadership({
    databaseUrl,
    lockKey: RELAY_LEADER_LOCK,
    applicationName: 'renkei-feed-relay',
    logger: log,
    onChange: wake,
    listen: OUTBOX_CHANNEL,
  });

  const publish = async (batch: UnpublishedEvent[]) => {
    const alertMessages = batch.flatMap((stored) =>
      stored.alert ? [alertMessage(stored, stored.alert)] : [],
    );
    // Messages still waiting for their partition when the deadline passes are not sent: the
    // batch is published again whole.
    const abandon = new AbortController();
    const send = (topic: string, messages: Message[]) =>
      options.producer.send({ topic, acks: -1, messages }, { signal: abandon.signal });
    await withDeadline(
      Promise.all([
        send(options.topics.feed, batch.map(feedMessage)),
        ...(alertMessages.length > 0 ? [send(options.topics.alerts, alertMessages)] : []),
      ]),
      options.sendTimeoutMs ?? 30_000,
      'publishing the feed',
    ).catch((error: unknown) => {
      abandon.abort();
      throw new PublishFailed(error);
    });
    await markPublished(
      pool,
      batch.map((stored) => stored.position),
    );
    options.onPublished?.({ feed: batch.length, alerts: alertMessages.length });
    if (options.onHops) {
      const now = Date.now();
      options.onHops(
        'feed-publish',
        batch.map((stored) => (now - Date.parse(stored.sequencedAt)) / 1000),
      );
    }
    log.debug({ from: batch[0]!.position, to: batch.at(-1)!.position }, 'feed published');
  };

  /** One round of work; true when there may be more to do at once. */
  const lead = async (): Promise<boolean> => {
    const unpublished = await readUnpublished(pool, BATCH_SIZE);
    if (unpublished.length > 0) {
      await publish(withinBytes(unpublished, BATCH_BYTES));
      return true;
    }
    let waited: readonly number[] = [];
    const sequenced = await withTransaction(pool, (db) =>
      sequenceOutbox(db, BATCH_SIZE, (seconds) => (waited = seconds)),
    );
    if (waited.length > 0) options.onHops?.('feed-sequence', waited);
    if (sequenced > 0) return true;
    if (options.retentionMs !== undefined && Date.now() - lastPrune > 60_000) {
      lastPrune = Date.now();
      const pruned = await pruneFeed(pool, options.retentionMs);
      if (pruned > 0) log.info({ pruned }, 'old feed events forgotten');
    }
    return false;
  };

  const loop = async () => {
    // One report per outage: the service decides what a failure means (its first one ends it).
    let failing: { since: number; missing: Missing; rounds: number; reported: boolean } | undefined;
    while (!closed) {
      sleep.beginRound();
      try {
        if (!leadership.isLeading() && (await leadership.tryToLead())) log.info('leading the feed relay');
        if (leadership.isLeading()) {
          while (!closed && leadership.isLeading() && (await lead()));
        }
        if (failing) {
          log.info({ missing: failing.missing, awayMs: Date.now() - failing.since }, 'feed relay recovered');
          failing = undefined;
        }
      } catch (error) {
        const missing = missingFor(error);
        if (failing?.missing !== missing) {
          failing = { since: Date.now(), missing, rounds: 0, reported: false };
          log.warn(
            { err: error, missing },
            missing === 'none'
              ? 'feed relay round failed; retrying'
              : `feed relay round failed: ${missing} unavailable; retrying`,
          );
        } else {
          log.debug({ err: error, missing }, 'feed relay round failed again');
        }
        failing.rounds += 1;
        const timeoutMs =
          (missing === 'postgres' ? options.databaseLossTimeoutMs : options.brokerLossTimeoutMs) ?? 0;
        if (timeoutMs > 0 && !failing.reported && Date.now() - failing.since > timeoutMs) {
          failing.reported = true;
          options.onFailure(
            missing === 'postgres'
              ? new RenkeiError(
                  'RENKEI_DATABASE_LOST',
                  'the feed relay could not reach PostgreSQL for longer than DATABASE_LOSS_TIMEOUT_MS',
                  {
                    cause: error,
                    details: { component: 'feed-relay', missing },
                  },
                )
              : new RenkeiError('RENKEI_FEED_RELAY_FAILED', undefined, {
                  cause: error,
                  details: { component: 'feed-relay', ...(missing === 'none' ? {} : { missing }) },
                }),
          );
        }
        await leadership.stepDownIfLost();
      }
      // Backoff while failing, so an outage is not met with a retry and a log line every sweep.
      await sleep.pause(
        failing ? Math.min(sweepEveryMs * 2 ** Math.min(failing.rounds - 1, 6), RETRY_CAP_MS) : sweepEveryMs,
      );
    }
    await leadership.stepDown();
  };

  const running = loop();

  return {
    isLeader: () => leadership.isLeading(),
    wake,
    async close() {
      closed = true;
      sleep.close();
      await running;
    },
  };
}

function feedMessage(stored: UnpublishedEvent) {
  return {
    key: null,
    value: stored.eventJson,
    headers: {
      [HEADERS.feedPosition]: stored.position,
      [HEADERS.messageType]: FEED_EVENT_SCHEMA,
      [HEADERS.contentType]: 'application/json',
      ...(stored.reportId ? { [HEADERS.reportId]: stored.reportId } : {}),
    },
  };
}

function alertMessage(stored: UnpublishedEvent, alert: NonNullable<UnpublishedEvent['alert']>) {
  return {
    // Keyed by alert id: every version of an alert lands on one partition, in order.
    key: alert.id,
    value: stored.payloadJson,
    headers: {
      [HEADERS.alertId]: alert.id,
      [HEADERS.alertVersion]: String(alert.version),
      [HEADERS.feedPosition]: stored.position,
      [HEADERS.messageType]: alert.schema,
      [HEADERS.contentType]: 'application/json',
      ...(stored.reportId ? { [HEADERS.reportId]: stored.reportId } : {}),
    },
  };
}

/** The longest prefix of the batch whose events fit in `limit` bytes; at least one event. */
export function withinBytes(batch: UnpublishedEvent[], limit: number): UnpublishedEvent[] {
  let bytes = 0;
  for (const [index, stored] of batch.entries()) {
    // Both messages of an alert version go in the same produce request.
    bytes += Buffer.byteLength(stored.eventJson) + (stored.alert ? Buffer.byteLength(stored.payloadJson) : 0);
    if (bytes > limit && index > 0) return batch.slice(0, index);
  }
  return batch;
}
