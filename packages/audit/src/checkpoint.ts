import path from 'node:path';
import { CompactSign, compactVerify, createLocalJWKSet, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import { ensureSigningKey, readPublicKeySet, type JsonWebKeySet, type KeyFiles } from '@renkei/auth';

/** The `typ` of a checkpoint's JWS: no token verifier takes one for a token, nor the reverse. */
export const CHECKPOINT_TYPE = 'renkei-audit-checkpoint';

const seqSchema = z.string().regex(/^(0|[1-9]\d{0,18})$/);
const hashSchema = z.string().regex(/^[0-9a-f]{64}$/);

/** What a purge removed, as signed: every entry up to `upToSeq`, the last of which had `chainHash`. */
export const checkpointPayloadSchema = z.strictObject({
  upToSeq: seqSchema,
  chainHash: hashSchema,
  /** Entries this purge removed (those before the previous checkpoint were removed by earlier ones). */
  removed: z.number().int().nonnegative(),
  /** The previous checkpoint's `upToSeq`, or "0" for the first. */
  previousUpToSeq: seqSchema,
  oldestAt: z.string().nullable(),
  newestAt: z.string().nullable(),
  createdAt: z.string(),
});
export type CheckpointPayload = z.infer<typeof checkpointPayloadSchema>;

/** Signs checkpoints: a compact JWS over the payload's JSON. */
export interface AuditSigner {
  sign(payload: CheckpointPayload): Promise<string>;
}

/**
 * The audit key's files, beside the token keys in `<state>/keys` and made the
 * same way (`ensureSigningKey`), but a key of its own: token keys are
 * rotated and retired, and a retired key stops verifying, while a checkpoint
 * must verify for as long as the log is kept; and a signature made for one
 * purpose can never be presented for the other.
 */
export function auditKeyFilesIn(stateDir: string): KeyFiles {
  const dir = path.join(stateDir, 'keys');
  return {
    signingKey: path.join(dir, 'audit-signing-key.jwk.json'),
    publicKeySet: path.join(dir, 'audit-jwks.json'),
  };
}

/** Signs with a private JWK (Ed25519 as `ensureSigningKey` makes it, or P-256). */
export async function createAuditSigner(privateJwk: JWK): Promise<AuditSigner> {
  const alg = privateJwk.alg ?? 'EdDSA';
  const key = await importJWK(privateJwk, alg);
  return {
    sign: async (payload) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(checkpointPayloadSchema.parse(payload))))
        .setProtectedHeader({ alg, typ: CHECKPOINT_TYPE, ...(privateJwk.kid ? { kid: privateJwk.kid } : {}) })
        .sign(key),
  };
}

/** The hub's audit signer, its key made on first use (mode 0600) with its public set beside it. */
export async function loadAuditSigner(files: KeyFiles): Promise<AuditSigner> {
  return createAuditSigner(await ensureSigningKey(files));
}

/** The public keys checkpoints are verified with. Never retire one while a checkpoint it signed is kept. */
export function readAuditKeySet(file: string): Promise<JsonWebKeySet> {
  return readPublicKeySet(file);
}

export class CheckpointInvalid extends Error {
  override readonly name = 'CheckpointInvalid';
}

/** Verifies a checkpoint's signature and returns what it signed; throws `CheckpointInvalid` otherwise. */
export async function openCheckpoint(jws: string, keys: JsonWebKeySet): Promise<CheckpointPayload> {
  let verified;
  try {
    verified = await compactVerify(jws, createLocalJWKSet(keys), { algorithms: ['EdDSA', 'ES256'] });
  } catch (error) {
    throw new CheckpointInvalid(
      `its signature does not verify with the audit key set (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
  if (verified.protectedHeader.typ !== CHECKPOINT_TYPE) {
    throw new CheckpointInvalid(
      `its JWS is of type ${String(verified.protectedHeader.typ)}, not a checkpoint`,
    );
  }
  const payload = checkpointPayloadSchema.safeParse(JSON.parse(new TextDecoder().decode(verified.payload)));
  if (!payload.success) throw new CheckpointInvalid('its signed payload is not a checkpoint');
  return payload.data;
}
