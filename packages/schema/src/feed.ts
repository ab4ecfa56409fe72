import { z } from 'zod';
import { alertRecordSchema } from './alert.js';
import { exerciseEventSchema } from './exercise.js';
import { positionSchema } from './cursor.js';
import { triageUpdateSchema } from './triage.js';
import { warningAckSchema, warningRecordSchema } from './warning.js';

export const FEED_EVENT_SCHEMA = 'renkei.feed-event.v1';

const feedEventBase = {
  schema: z.literal(FEED_EVENT_SCHEMA),
  /** The event's place in the feed's total order; frames carry it as `cursor`. */
  position: positionSchema,
  sequencedAt: z.iso.datetime({ offset: true }),
};

/**
 * One event of the feed: what the feed topic carries, what `feed_events`
 * holds, and what the gateway turns into stream frames for each viewer
 * (through the policy package: payloads name organisations).
 */
export const feedEventSchema = z.discriminatedUnion('kind', [
  /** A new version of an alert. */
  z.strictObject({ ...feedEventBase, kind: z.literal('alert'), payload: alertRecordSchema }),
  /** A triage change to an alert (analysts). */
  z.strictObject({ ...feedEventBase, kind: z.literal('alert-update'), payload: triageUpdateSchema }),
  /** A shared warning published to sectors. */
  z.strictObject({ ...feedEventBase, kind: z.literal('warning'), payload: warningRecordSchema }),
  /** An organisation acknowledged a warning (analysts). */
  z.strictObject({ ...feedEventBase, kind: z.literal('warning-ack'), payload: warningAckSchema }),
  /** An exercise run changed (analysts), or a participant was sent a task (that participant). */
  z.strictObject({ ...feedEventBase, kind: z.literal('exercise'), payload: exerciseEventSchema }),
]);
export type FeedEvent = z.infer<typeof feedEventSchema>;
export type FeedEventKind = FeedEvent['kind'];
export type FeedPayload<Kind extends FeedEventKind> = Extract<FeedEvent, { kind: Kind }>['payload'];
