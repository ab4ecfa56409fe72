import { createHash } from 'node:crypto';

/** Namespace of the hub's name-based ids (a fixed random UUID). */
export const RENKEI_ID_NAMESPACE = '5b0d4c7e-2f4a-4d38-9a61-6c0f2f8e7a13';

/**
 * RFC 9562 version-5 UUID: the same name always gives the same id, so any
 * number of correlator processes raise an alert under one id.
 */
export function nameBasedId(name: string, namespace: string = RENKEI_ID_NAMESPACE): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(namespace)) {
    throw new Error(`not a UUID: ${namespace}`);
  }
  const namespaceBytes = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
