import { randomBytes } from 'node:crypto';
import { createSealer, deriveHubKey, ensureHubSecret, type Sealer } from '@renkei/auth';
import { invalidField } from '@renkei/http';

/**
 * The sealers of the cursors the gateway gives out: feed positions (stream
 * frames, alert lists and details), the warnings inbox's order and search pages. Keys come
 * from the hub secret, one per purpose, so every gateway of the hub opens
 * what another sealed and a warning cursor never opens as a feed position.
 */
export interface CursorSealers {
  feed: Sealer;
  warnings: Sealer;
  /** Search paging positions (`next` of each group of `GET /v1/search`). */
  searchPages: Sealer;
}

export async function hubCursorSealers(hubSecretFile: string): Promise<CursorSealers> {
  const secret = await ensureHubSecret(hubSecretFile);
  return {
    feed: createSealer(deriveHubKey(secret, 'cursor')),
    warnings: createSealer(deriveHubKey(secret, 'warning-cursor')),
    searchPages: createSealer(deriveHubKey(secret, 'search-page')),
  };
}

/** Sealers with a key of their own: cursors good in this process only (tests). */
export function processCursorSealers(): CursorSealers {
  return {
    feed: createSealer(randomBytes(32)),
    warnings: createSealer(randomBytes(32)),
    searchPages: createSealer(randomBytes(32)),
  };
}

/**
 * The position a cursor the hub gave out stands for. Any other string is a
 * 400 naming the field that says nothing more: not why, not where the feed is.
 */
export function opened(sealer: Sealer, field: string, cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const position = sealer.open(cursor);
  if (position === undefined) throw invalidField(field, 'is not a cursor this hub gave out');
  return position.toString();
}
