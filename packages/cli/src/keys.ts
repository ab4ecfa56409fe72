import { parseArgs } from 'node:util';
import {
  ACCEPTED_ALGORITHMS,
  ensureSigningKey,
  keyFilesIn,
  KeyRetirementError,
  retireKey,
  rotateSigningKey,
  type SigningAlgorithm,
} from '@renkei/auth';
import { stateDirectory } from '@renkei/runtime';
import { auditFromCli } from './registry-access.js';
import { UsageError } from './usage.js';

export const KEYS_USAGE = `  keys  create the signing key and public key set if missing; prints the key set's path
  keys rotate [--alg EdDSA|ES256]
        sign new tokens with a new key; the old one keeps verifying until retired
  keys retire KID
        stop honouring tokens signed by an old key (running services follow within seconds)`;

/** `renkei keys [rotate|retire]`: the hub's signing keys; rotations and retirements are audited. */
export async function keysCommand(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const files = keyFilesIn(stateDirectory(env));
  const [action, ...rest] = args;
  switch (action) {
    case undefined:
      await ensureSigningKey(files);
      return files.publicKeySet;
    case 'rotate': {
      let values;
      try {
        ({ values } = parseArgs({
          args: rest,
          options: { alg: { type: 'string', default: 'EdDSA' } },
          strict: true,
        }));
      } catch (error) {
        throw new UsageError(`${(error as Error).message}\n\n${KEYS_USAGE}`);
      }
      if (!ACCEPTED_ALGORITHMS.includes(values.alg as SigningAlgorithm)) {
        throw new UsageError(`--alg: must be one of ${ACCEPTED_ALGORITHMS.join(', ')}`);
      }
      const rotation = await rotateSigningKey(files, values.alg as SigningAlgorithm);
      await auditFromCli(env, {
        kind: 'key.rotated',
        object: rotation.kid,
        outcome: 'success',
        details: { previousKid: rotation.previousKid ?? null, algorithm: values.alg },
      });
      return [
        `new signing key ${rotation.kid} (${values.alg}) in ${files.publicKeySet}`,
        ...(rotation.previousKid
          ? [`${rotation.previousKid} keeps verifying until: renkei keys retire ${rotation.previousKid}`]
          : []),
      ].join('\n');
    }
    case 'retire': {
      const [kid, ...extra] = rest;
      if (!kid || extra.length > 0) throw new UsageError(`keys retire: give one key id\n\n${KEYS_USAGE}`);
      try {
        await retireKey(files, kid);
      } catch (error) {
        if (error instanceof KeyRetirementError) throw new UsageError(error.message);
        throw error;
      }
      await auditFromCli(env, { kind: 'key.retired', object: kid, outcome: 'success' });
      return `retired ${kid}: tokens it signed are refused`;
    }
    default:
      throw new UsageError(`keys: unknown action ${JSON.stringify(action)}\n\n${KEYS_USAGE}`);
  }
}
