import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { partnerFeedCredentialsSchema, type PartnerFeedCredentials } from '@renkei/schema';

/**
 * A feed's credentials at rest: AES-256-GCM under a key derived from the hub
 * secret (`deriveHubKey(secret, 'partner-feed-credentials')`), bound to the
 * feed's id, so a database dump or backup does not carry partners' tokens
 * and a sealed value copied onto another feed's row does not open.
 */
export const CREDENTIALS_KEY_PURPOSE = 'partner-feed-credentials';

const VERSION = 'v1';

export function sealCredentials(
  key: Uint8Array,
  feedId: string,
  credentials: PartnerFeedCredentials,
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(feedId));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()]);
  return [
    VERSION,
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    sealed.toString('base64url'),
  ].join('.');
}

/** The credentials, or an error naming why they cannot be opened (another hub secret, another feed's row). */
export function openCredentials(key: Uint8Array, feedId: string, sealed: string): PartnerFeedCredentials {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || data === undefined) {
    throw new Error('the stored credentials are not in a form this hub seals');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(feedId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
    return partnerFeedCredentialsSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new Error('the stored credentials do not open with this hub secret: register the feed again', {
      cause: error,
    });
  }
}

/** The Authorization header the credentials make. */
export function authorizationHeader(credentials: PartnerFeedCredentials | undefined): string | undefined {
  if (!credentials) return undefined;
  if (credentials.kind === 'bearer') return `Bearer ${credentials.token}`;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
