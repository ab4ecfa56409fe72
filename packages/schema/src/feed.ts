import { z } from 'zod';
import { alertRecordSchema } from './alert.js';
import { cursorSchema } from './cursor.js';

export const FEED_EVENT_SCHEMA = 'renkei.feed-event.v1';

const feedEventBase = {
  schema: z.literal(FEED_EVENT_SCHEMA),
  /** The event's place in the feed's total order; frames carry it as `cursor`. */
  position: cursorSchema,
  sequencedAt: z.iso.datetime({ offset: true }),
};

/** A new version of an alert, as the hub keeps it (organisations named: never sent to viewers as is). */
export const alertFeedEventSchema = z.strictObject({
  ...feedEventBase,
  kind: z.literal('alert'),
  payload: alertRecordSchema,
});

/**
 * One event of the feed: what the feed topic carries, what `feed_events`
 * holds, and what the gateway turns into stream frames for each viewer.
 */
export const feedEventSchema = z.discriminatedUnion('kind', [alertFeedEventSchema]);
export type FeedEvent = z.infer<typeof feedEventSchema>;
export type FeedEventKind = FeedEvent['kind'];
export type FeedPayload<Kind extends FeedEventKind> = Extract<FeedEvent, { kind: Kind }>['payload'];
