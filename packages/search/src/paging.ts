/** The groups of a search answer, in the order the answer lists them. */
export const SEARCH_GROUPS = ['indicators', 'reports', 'alerts', 'warnings'] as const;
export type SearchGroup = (typeof SEARCH_GROUPS)[number];

/** The deepest a search pages into one group: past it, a group says no more. */
export const MAX_SEARCH_OFFSET = 10_000;

/**
 * Where the next page of one group starts, packed into the 64 bits the hub's
 * sealer takes: the group (8 bits), a fingerprint of the search it belongs to
 * (24 bits) and the offset (32 bits). Sealed, it is opaque and unforgeable; the
 * fingerprint makes a token of one search useless for another (a 2^-24 chance
 * that one opens elsewhere, and then it only pages that other search).
 */
export interface PagePosition {
  group: SearchGroup;
  offset: number;
}

export function packPage(position: PagePosition, fingerprint: number): bigint {
  const group = SEARCH_GROUPS.indexOf(position.group);
  if (group < 0) throw new RangeError(`no search group ${String(position.group)}`);
  if (!Number.isInteger(position.offset) || position.offset < 0 || position.offset > MAX_SEARCH_OFFSET)
    throw new RangeError(`a page offset is 0..${MAX_SEARCH_OFFSET}`);
  return (BigInt(group + 1) << 56n) | (BigInt(fingerprint & 0xffffff) << 32n) | BigInt(position.offset);
}

/** The position a packed page stands for, or undefined when it belongs to another search or is no page. */
export function unpackPage(packed: bigint, fingerprint: number): PagePosition | undefined {
  const group = SEARCH_GROUPS[Number(packed >> 56n) - 1];
  const print = Number((packed >> 32n) & 0xffffffn);
  const offset = Number(packed & 0xffffffffn);
  if (group === undefined || packed >> 56n > 255n) return undefined;
  if (print !== (fingerprint & 0xffffff) || offset > MAX_SEARCH_OFFSET) return undefined;
  return { group, offset };
}

/**
 * 24 bits naming one search: the same parameters (the query as read, the
 * filters, the page size), the same fingerprint. Parameters are given as
 * entries so their order is the caller's, not an object's.
 */
export function searchFingerprint(parameters: readonly (readonly [string, unknown])[]): number {
  // FNV-1a: the token is sealed, so the fingerprint needs no secrecy, only
  // spread; and no node:crypto keeps the package loadable in a browser.
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(JSON.stringify(parameters))) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return (hash ^ (hash >>> 24)) & 0xffffff;
}
