import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook requests are signed the way large webhook senders sign theirs:
 * HMAC-SHA256 of `<timestamp>.<body>` with the endpoint's secret, in
 * `Renkei-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is signed with
 * the body, so a receiver that refuses old timestamps refuses replays; the
 * delivery id (`Renkei-Delivery`, and in the body) lets it drop repeats.
 */
export const SIGNATURE_HEADER = 'renkei-signature';
export const DELIVERY_ID_HEADER = 'renkei-delivery';
export const EVENT_HEADER = 'renkei-event';
/** How old a signed timestamp a receiver should still accept. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';

/** A new endpoint secret: 32 random bytes, shown to its creator once. */
export function newWebhookSecret(random: (size: number) => Buffer = randomBytes): string {
  return SECRET_PREFIX + random(32).toString('base64url');
}

function mac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The `Renkei-Signature` header for this body at this time (seconds since the epoch). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${mac(secret, timestamp, body)}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does with a request: parses the header, refuses a
 * timestamp further than `toleranceSeconds` from its clock, and compares the
 * MAC in constant time. Any of several `v1=` values may match (a sender
 * rotating secrets signs with both).
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  if (!header) return { ok: false, reason: 'no signature header' };
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([key]) => key === 't').map(([, value]) => value ?? '');
  const signatures = parts.filter(([key]) => key === 'v1').map(([, value]) => value ?? '');
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0]!))
    return { ok: false, reason: 'no timestamp' };
  const timestamp = Number(timestamps[0]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds)
    return { ok: false, reason: 'timestamp outside tolerance' };
  const expected = Buffer.from(mac(secret, timestamp, body), 'hex');
  const matches = signatures.some((signature) => {
    if (!/^[0-9a-f]{64}$/.test(signature)) return false;
    return timingSafeEqual(Buffer.from(signature, 'hex'), expected);
  });
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'signature does not match' };
}
