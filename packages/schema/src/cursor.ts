import { z } from 'zod';

/**
 * A position in the hub's feed, as a decimal string: positions are PostgreSQL
 * bigints and must never be rounded by a JavaScript number. Clients treat it
 * as opaque and hand it back to resume.
 */
export const cursorSchema = z.string().regex(/^(0|[1-9]\d{0,18})$/, 'must be a cursor the hub gave out');
export type Cursor = z.infer<typeof cursorSchema>;
