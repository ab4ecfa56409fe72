import { z } from 'zod';
import { alertKindSchema, alertViewSchema } from './alert.js';
import { cursorSchema } from './cursor.js';
import { exerciseRunViewSchema, exerciseTaskSchema } from './exercise.js';
import type { FieldIssue } from './issues.js';
import { principalSchema } from './principal.js';
import { triageUpdateSchema } from './triage.js';
import { warningAckSchema, warningViewSchema } from './warning.js';
import { sectorSchema, severitySchema } from './vocabulary.js';

/**
 * What a client may ask the stream for. Every field narrows; a missing one
 * does not. `exercise`: true for drill traffic only, false for real only.
 */
export const streamFilterSchema = z.strictObject({
  minSeverity: severitySchema.optional(),
  kinds: z.array(alertKindSchema).min(1).optional(),
  sectors: z.array(sectorSchema).min(1).optional(),
  exercise: z.boolean().optional(),
});
export type StreamFilter = z.infer<typeof streamFilterSchema>;

const commaList = <Item extends z.ZodType<string, string>>(item: Item) =>
  z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(item).min(1));

/**
 * The query of `GET /v1/stream`. `after`: resume after this cursor (replay
 * first, then live); without it the stream starts live. The filter may be
 * given here too, so what is replayed on connect is already filtered:
 * `?after=<cursor>&minSeverity=high&kinds=campaign,shared-indicator&exercise=false`.
 */
export const streamQuerySchema = z.object({
  after: cursorSchema.optional(),
  minSeverity: severitySchema.optional(),
  kinds: commaList(alertKindSchema).optional(),
  sectors: commaList(sectorSchema).optional(),
  exercise: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  /** For browsers, whose WebSocket cannot set headers; otherwise use `Authorization: Bearer …`. */
  access_token: z.string().optional(),
});

/** The query parameters that carry a filter, as {@link streamQuerySchema} reads them. */
export function streamFilterToQuery(filter: StreamFilter): Record<string, string> {
  return {
    ...(filter.minSeverity ? { minSeverity: filter.minSeverity } : {}),
    ...(filter.kinds ? { kinds: filter.kinds.join(',') } : {}),
    ...(filter.sectors ? { sectors: filter.sectors.join(',') } : {}),
    ...(filter.exercise === undefined ? {} : { exercise: String(filter.exercise) }),
  };
}

/**
 * WebSocket close codes of `GET /v1/stream`, and what a client does on each.
 * Codes below 4000 are the standard ones (RFC 6455 and the IANA registry).
 */
export const STREAM_CLOSE_CODES = {
  /** The gateway is draining (a restart, a deploy): reconnect, to any gateway, with your cursor. */
  goingAway: 1001,
  /** The client sent a binary frame; the stream speaks JSON text. A client bug: do not retry as is. */
  binaryFrame: 1003,
  /** The client kept sending invalid frames. A client bug: do not retry as is. */
  invalidFrames: 1008,
  /** A client frame was over the limit (64 KiB). A client bug: do not retry as is. */
  frameTooLarge: 1009,
  /** The gateway could not replay (its database was away): reconnect with your cursor after a pause. */
  internalError: 1011,
  /** The client read too slowly and its unsent frames passed the limit: reconnect and resume from your cursor. */
  tooSlow: 1013,
  /** The token expired, or the organisation was disabled: reconnect only with a new token. */
  accessEnded: 4401,
  /**
   * The organisation already has as many streams open on this gateway as it
   * may (`GATEWAY_MAX_SOCKETS_PER_ORGANISATION`): sent before `welcome`.
   * Close a stream you no longer need; reconnect only after a long wait
   * (seconds, with jitter), never at once.
   */
  tooManySockets: 4429,
} as const;
export type StreamCloseCode = (typeof STREAM_CLOSE_CODES)[keyof typeof STREAM_CLOSE_CODES];

// Frames the gateway sends on `GET /v1/stream`, as JSON text.

export const welcomeFrameSchema = z.strictObject({
  type: z.literal('welcome'),
  protocol: z.literal(1),
  principal: principalSchema.pick({ subject: true, organisationId: true, sector: true, roles: true }),
  /** How often `heartbeat` frames come: a client that hears nothing for two of these is not live. */
  heartbeatMs: z.number().int().positive().optional(),
});

export const alertFrameSchema = z.strictObject({
  type: z.literal('alert'),
  cursor: cursorSchema,
  alert: alertViewSchema,
});

export const alertUpdateFrameSchema = z.strictObject({
  type: z.literal('alert-update'),
  cursor: cursorSchema,
  update: triageUpdateSchema,
});

export const warningFrameSchema = z.strictObject({
  type: z.literal('warning'),
  cursor: cursorSchema,
  warning: warningViewSchema,
});

export const warningAckFrameSchema = z.strictObject({
  type: z.literal('warning-ack'),
  cursor: cursorSchema,
  ack: warningAckSchema,
});

/** An exercise run as the control sees it (analysts), or a task sent to the viewer's organisation. */
export const exerciseFrameSchema = z.strictObject({
  type: z.literal('exercise'),
  cursor: cursorSchema,
  exercise: z.discriminatedUnion('audience', [
    z.strictObject({ audience: z.literal('control'), run: exerciseRunViewSchema }),
    z.strictObject({ audience: z.literal('participant'), task: exerciseTaskSchema }),
  ]),
});

/** The cursor asked for is older than the feed keeps: events between `after` and `resumeFrom` are gone. */
export const gapFrameSchema = z.strictObject({
  type: z.literal('gap'),
  after: cursorSchema,
  resumeFrom: cursorSchema,
});

/**
 * Sent to every connection each heartbeat interval (`heartbeatMs` in the
 * welcome). Browsers cannot see WebSocket pings: without a frame of its own a
 * page cannot tell a quiet feed from a dead connection. No cursor: it is not an event.
 */
export const heartbeatFrameSchema = z.strictObject({
  type: z.literal('heartbeat'),
  at: z.iso.datetime({ offset: true }),
});

/** The answer to a `subscribe` frame: the filter the gateway now applies. */
export const subscribedFrameSchema = z.strictObject({
  type: z.literal('subscribed'),
  filter: streamFilterSchema,
});

/** The longest `message` of an `error` frame, whatever the frame it answers. */
export const MAX_ERROR_MESSAGE_CHARS = 1024;
/** Issues an `error` frame names; the rest are counted ("and 9,995 more"). */
export const MAX_ERROR_FRAME_ISSUES = 5;
const MAX_ISSUE_FIELD_CHARS = 80;
const MAX_ISSUE_MESSAGE_CHARS = 160;

export const errorFrameSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string(),
  message: z.string().max(MAX_ERROR_MESSAGE_CHARS),
});

/**
 * The `message` of an `error` frame for these issues, bounded: the first
 * {@link MAX_ERROR_FRAME_ISSUES}, each field and message cut short, the rest
 * counted, the whole at most {@link MAX_ERROR_MESSAGE_CHARS}. A frame of
 * thousands of bad values (or one huge unknown key) would otherwise be
 * answered with megabytes echoing it back.
 */
export function errorFrameMessage(issues: readonly FieldIssue[]): string {
  const shown = issues
    .slice(0, MAX_ERROR_FRAME_ISSUES)
    .map(
      (issue) =>
        `${clip(issue.field, MAX_ISSUE_FIELD_CHARS)}: ${clip(issue.message, MAX_ISSUE_MESSAGE_CHARS)}`,
    );
  const more = issues.length - shown.length;
  const text = shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
  return clip(text, MAX_ERROR_MESSAGE_CHARS);
}

/** At most `max` UTF-16 units, ending in `…` when cut, never half a surrogate pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

export const serverFrameSchema = z.discriminatedUnion('type', [
  welcomeFrameSchema,
  alertFrameSchema,
  alertUpdateFrameSchema,
  warningFrameSchema,
  warningAckFrameSchema,
  exerciseFrameSchema,
  gapFrameSchema,
  subscribedFrameSchema,
  errorFrameSchema,
  heartbeatFrameSchema,
]);
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type AlertFrame = z.infer<typeof alertFrameSchema>;
export type AlertUpdateFrame = z.infer<typeof alertUpdateFrameSchema>;
export type WarningFrame = z.infer<typeof warningFrameSchema>;
export type WarningAckFrame = z.infer<typeof warningAckFrameSchema>;
export type ExerciseFrame = z.infer<typeof exerciseFrameSchema>;
export type GapFrame = z.infer<typeof gapFrameSchema>;
export type SubscribedFrame = z.infer<typeof subscribedFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type HeartbeatFrame = z.infer<typeof heartbeatFrameSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;

/** Frames carrying a feed event: each has the cursor to resume after it. */
export type EventFrame = AlertFrame | AlertUpdateFrame | WarningFrame | WarningAckFrame | ExerciseFrame;

// Frames a client sends.

export const subscribeFrameSchema = z.strictObject({
  type: z.literal('subscribe'),
  filter: streamFilterSchema,
});
export const clientFrameSchema = z.discriminatedUnion('type', [subscribeFrameSchema]);
export type SubscribeFrame = z.infer<typeof subscribeFrameSchema>;
export type ClientFrame = z.infer<typeof clientFrameSchema>;
