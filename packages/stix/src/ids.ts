import { createHmac } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/** Namespace of the STIX ids Renkei exports (a fixed random UUID: changing it changes every id). */
export const STIX_EXPORT_NAMESPACE = 'b48d4886-52b6-4fe0-bf29-42fe978876c7';

/**
 * A STIX id that depends only on a stable name, so the same view exported
 * twice gives the same object (STIX 2.1 allows UUIDv5 ids for any object).
 */
export function stixId(type: string, name: string): string {
  return `${type}--${uuidv5(name, STIX_EXPORT_NAMESPACE)}`;
}

/**
 * The key and scope of the report ids an import derives. The key is the
 * hub's own secret (`deriveHubKey(secret, 'import-id')`), so nobody outside
 * the hub can compute an id from public inputs and learn from a 409 (or an
 * "already accepted") that an organisation imported a given bundle or event.
 */
export interface ImportIds {
  /** At least 32 bytes, secret to the hub. */
  key: Uint8Array;
  /** Who imports (the submitting organisation's id): each scope names its own reports. */
  scope: string;
}

/**
 * A report id that depends only on who imported what, so a retried import is
 * stored once, and that only this hub can compute: HMAC-SHA256 under the
 * hub's key, its first 128 bits written as a UUID of version 8 (RFC 9562's
 * custom layout), which every UUID parser accepts.
 */
export function importedReportId(ids: ImportIds, parts: readonly string[]): string {
  if (ids.key.length < 32) throw new Error('an import id key is at least 32 bytes');
  const bytes = createHmac('sha256', ids.key)
    // JSON keeps the parts apart whatever they contain.
    .update(JSON.stringify([ids.scope, ...parts]))
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
