import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  CheckpointInvalid,
  createAuditSigner,
  openCheckpoint,
  type CheckpointPayload,
} from '../../src/index.js';

async function key(kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), alg: 'EdDSA', kid };
  const { d: _private, ...publicJwk } = privateJwk;
  return { privateJwk, publicJwk };
}

const payload: CheckpointPayload = {
  upToSeq: '1200',
  chainHash: 'ab'.repeat(32),
  removed: 1200,
  previousUpToSeq: '0',
  oldestAt: '2016-12-07T10:00:00.000000Z',
  newestAt: '2016-12-31T23:59:59.999999Z',
  createdAt: '2026-12-07T10:00:00.000Z',
};

describe('checkpoint signatures', () => {
  it('open with the audit key set, and only with it', async () => {
    const [audit, other] = await Promise.all([key('audit-1'), key('other')]);
    const jws = await (await createAuditSigner(audit.privateJwk)).sign(payload);
    expect(await openCheckpoint(jws, { keys: [audit.publicJwk, other.publicJwk] })).toEqual(payload);
    await expect(openCheckpoint(jws, { keys: [other.publicJwk] })).rejects.toBeInstanceOf(CheckpointInvalid);
    const forged = await (await createAuditSigner({ ...other.privateJwk, kid: 'audit-1' })).sign(payload);
    await expect(openCheckpoint(forged, { keys: [audit.publicJwk] })).rejects.toThrow(/does not verify/);
  });

  it('refuse a payload changed after signing', async () => {
    const audit = await key('audit-1');
    const [header, , signature] = (await (await createAuditSigner(audit.privateJwk)).sign(payload)).split(
      '.',
    );
    const changed = Buffer.from(JSON.stringify({ ...payload, upToSeq: '5000' })).toString('base64url');
    await expect(
      openCheckpoint(`${header}.${changed}.${signature}`, { keys: [audit.publicJwk] }),
    ).rejects.toBeInstanceOf(CheckpointInvalid);
  });

  it('refuse a JWS the same key signed for another purpose, or that is not a checkpoint', async () => {
    const audit = await key('audit-1');
    const signingKey = await importJWK(audit.privateJwk, 'EdDSA');
    const bytes = new TextEncoder().encode(JSON.stringify(payload));
    const token = await new CompactSign(bytes)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'audit-1', typ: 'JWT' })
      .sign(signingKey);
    await expect(openCheckpoint(token, { keys: [audit.publicJwk] })).rejects.toThrow(/not a checkpoint/);
    const junk = await new CompactSign(new TextEncoder().encode('{"upToSeq":1}'))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'audit-1', typ: 'renkei-audit-checkpoint' })
      .sign(signingKey);
    await expect(openCheckpoint(junk, { keys: [audit.publicJwk] })).rejects.toThrow(/not a checkpoint/);
  });

  it('refuse to sign what is not a checkpoint', async () => {
    const signer = await createAuditSigner((await key('audit-1')).privateJwk);
    await expect(signer.sign({ ...payload, chainHash: 'nope' })).rejects.toThrow();
  });
});
