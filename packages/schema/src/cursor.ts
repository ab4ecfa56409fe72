import { z } from 'zod';

/**
 * A place in the hub's feed, as a decimal string: positions are PostgreSQL
 * bigints and must never be rounded by a JavaScript number. Internal only:
 * the feed topic, `feed_events` and the gateway's own bookkeeping. What a
 * member is given is a {@link cursorSchema} instead.
 */
export const positionSchema = z.string().regex(/^(0|[1-9]\d{0,18})$/, 'must be a feed position');
export type Position = z.infer<typeof positionSchema>;

/**
 * A cursor the hub gave out: a position sealed with the hub's secret
 * (`@renkei/auth` `createSealer`). Opaque and unordered, so two cursors a
 * member holds say nothing of the events between them that it did not
 * receive, and only the hub can turn one back into a position. Clients keep
 * it and hand it back to resume; they never compare or parse it.
 */
export const cursorSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be a cursor the hub gave out');
export type Cursor = z.infer<typeof cursorSchema>;
