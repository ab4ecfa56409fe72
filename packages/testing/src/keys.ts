import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureSigningKey, keyFilesIn, loadTokenVerifier, mintToken, type TokenVerifier } from '@renkei/auth';
import type { Role, Sector } from '@renkei/schema';

export interface TestKeys {
  /** Pass to services as AUTH_JWKS_FILE. */
  jwksFile: string;
  token(who: { org: string; sector: Sector; roles: Role[]; sub?: string }, ttl?: string): Promise<string>;
  remove(): Promise<void>;
}

const TEST_ISSUER = 'renkei';
const TEST_AUDIENCE = 'renkei-api';

/** A key set of the suite's own, so tests never touch the developer's keys. */
export async function createTestKeys(): Promise<TestKeys> {
  const dir = await mkdtemp(path.join(tmpdir(), 'renkei-keys-'));
  const files = keyFilesIn(dir);
  const signingKey = await ensureSigningKey(files);
  return {
    jwksFile: files.publicKeySet,
    token: (who, ttl = '1h') =>
      mintToken(
        signingKey,
        { sub: who.sub ?? `${who.org}-tester`, org: who.org, sector: who.sector, roles: who.roles },
        { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, ttl },
      ),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The verifier a service in this process would use for tokens of these keys (issuer and audience as minted). */
export function testTokenVerifier(keys: TestKeys): Promise<TokenVerifier> {
  return loadTokenVerifier({
    AUTH_JWKS_FILE: keys.jwksFile,
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
  });
}
