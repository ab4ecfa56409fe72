import { keepConsuming, type Consumer } from '@renkei/bus';
import type { Pool } from '@renkei/db';
import type { Closable, Logger } from '@renkei/runtime';
import { describeIssues, feedEventSchema, fieldIssues, type FeedEvent } from '@renkei/schema';
import { feedBounds, readFeed } from './queries.js';

const CATCH_UP_PAGE = 500;
const YIELD_EVERY = 25;

export interface FeedFollower extends Closable {
  /** `kafka-consumer`, for readiness: healthy while live. */
  readonly name: string;
  isHealthy(): boolean;
  /** The position of the last event handed to `deliver`: everything up to it has been delivered. */
  readonly position: string;
  /** True once the consumer has joined and fetched, so events published from now on arrive. */
  isLive(): boolean;
}

export interface FeedFollowerOptions {
  pool: Pool;
  consumer: Consumer;
  topic: string;
  logger: Logger;
  /**
   * Where to start: events after this position are delivered. Defaults to
   * the feed's head when the follower starts. A gateway passes the position
   * its stream hub starts from, so the two agree on where live begins.
   */
  from?: string;
  /**
   * Receives every event after the start, exactly once and in position
   * order; with the time (ms since the epoch) it arrived from Kafka, when it
   * did (not when the poll read it from PostgreSQL).
   */
  deliver: (event: FeedEvent, receivedAt?: number) => void;
  /** Told how long each event took from the relay's send to its arrival here (seconds). */
  onFeedTopicHop?: (seconds: number) => void;
  /** How often PostgreSQL is asked for events Kafka has not brought (a safety net, not the path). */
  pollEveryMs: number;
  /**
   * Opt-in: called when the consumer crashed and kafkajs will not restart
   * it (the service then exits). Without it the consumer is restarted, and
   * until it is back the poll alone brings the events.
   */
  onFinalCrash?: (error: Error) => void;
}

/**
 * Follows the feed from its current head. Kafka brings events fast; positions
 * are consecutive, so a jump shows what Kafka has not brought (yet, or ever),
 * and the missing events are read from PostgreSQL, where every sequenced
 * event already is. The result is each event once, in order, whatever Kafka
 * repeats, reorders or drops.
 */
export async function startFeedFollower(options: FeedFollowerOptions): Promise<FeedFollower> {
  const { pool, consumer, topic, logger, deliver } = options;
  let position = BigInt(options.from ?? (await feedBounds(pool)).head);
  let joined = false;
  let live = false;
  let closed = false;
  // Every step runs on this chain, so deliveries never interleave.
  let chain: Promise<void> = Promise.resolve();
  // A failure is said once until a step succeeds again: an outage is not a warning per poll.
  let failing = false;
  const serially = (step: () => Promise<void> | void) => {
    chain = chain
      .then(step)
      .then(() => {
        if (failing) logger.info('feed follower steps succeed again');
        failing = false;
      })
      .catch((error: unknown) => {
        if (!failing) logger.warn({ err: error }, 'feed follower step failed; the next poll catches up');
        failing = true;
      });
    return chain;
  };

  const hand = (event: FeedEvent, receivedAt?: number) => {
    position = BigInt(event.position);
    deliver(event, receivedAt);
  };

  const catchUp = async (upTo?: bigint) => {
    while (!closed && (upTo === undefined || position < upTo)) {
      const events = await readFeed(pool, position.toString(), CATCH_UP_PAGE);
      // Positions are consecutive; a hole here can only be events retention removed.
      for (const [index, event] of events.entries()) {
        if (BigInt(event.position) > position) hand(event);
        // A page handed at once to a hub with many viewers would hold the process for seconds;
        // the relay, Kafka and the sockets get their turn between slices.
        if (index % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
      }
      if (events.length < CATCH_UP_PAGE) return;
    }
  };

  const onEvent = (event: FeedEvent, receivedAt: number) =>
    serially(async () => {
      const at = BigInt(event.position);
      if (at <= position) return;
      if (at > position + 1n) await catchUp(at - 1n);
      if (at === position + 1n) hand(event, receivedAt);
    });

  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  // The first completed fetch after joining means the start offsets are fixed.
  consumer.on(consumer.events.FETCH, () => {
    if (joined && !live) {
      live = true;
      // Whatever was sequenced between reading the head and joining is read now.
      void serially(() => catchUp());
    }
  });
  consumer.on(consumer.events.CRASH, () => {
    // Until it joins again, events come from the poll.
    live = false;
    joined = false;
  });

  const consuming = await keepConsuming(consumer, {
    subscription: { topics: [topic], fromBeginning: false },
    logger,
    ...(options.onFinalCrash ? { onFinalCrash: options.onFinalCrash } : {}),
    run: {
      eachMessage: async ({ message }) => {
        const receivedAt = Date.now();
        options.onFeedTopicHop?.((receivedAt - Number(message.timestamp)) / 1000);
        let parsed;
        try {
          parsed = feedEventSchema.safeParse(JSON.parse(message.value?.toString('utf8') ?? ''));
        } catch {
          logger.error({ offset: message.offset }, 'feed message is not JSON: skipped');
          return;
        }
        if (!parsed.success) {
          logger.error(
            { offset: message.offset, reason: describeIssues(fieldIssues(parsed.error)) },
            'feed message does not match the schema: skipped',
          );
          return;
        }
        await onEvent(parsed.data, receivedAt);
      },
    },
  });

  const poll = setInterval(() => void serially(() => catchUp()), options.pollEveryMs);

  return {
    get position() {
      return position.toString();
    },
    isLive: () => live,
    name: consuming.name,
    isHealthy: () => live,
    async close() {
      closed = true;
      clearInterval(poll);
      await consuming.close();
      await chain;
    },
  };
}
