/**
 * A campaign's pairs, kept in its record as the lower triangle of the
 * contributions' adjacency matrix, one bit per two contributions, in base64.
 * The pairs of a campaign of 500 reports of two organisations are 62,500;
 * as index pairs in JSON they made the record 800 KB (four times its size,
 * near Kafka's default message limit) and cost the correlator ten times its
 * time; as bits they are 21 KB whatever the pairs.
 */

/** Bit of the pair (i, j), i < j: rows in order, row j holding its j earlier columns. */
const bitOf = (i: number, j: number) => (j * (j - 1)) / 2 + i;

/** The pairs (indices into the contributions, the smaller first) as stored. */
export function encodeAlertPairs(count: number, pairs: Iterable<readonly [number, number]>): string {
  const bytes = new Uint8Array(Math.ceil((count * (count - 1)) / 2 / 8));
  for (const [a, b] of pairs) {
    const [i, j] = a < b ? [a, b] : [b, a];
    if (i === j || j >= count) throw new RangeError(`no pair (${a}, ${b}) among ${count} contributions`);
    const bit = bitOf(i, j);
    bytes[bit >> 3]! |= 1 << (bit & 7);
  }
  return toBase64(bytes);
}

/** The pairs a record stores, each as (smaller index, larger index), in row order. */
export function decodeAlertPairs(count: number, encoded: string): [number, number][] {
  const bytes = fromBase64(encoded);
  const pairs: [number, number][] = [];
  const total = (count * (count - 1)) / 2;
  for (let byte = 0; byte < bytes.length; byte += 1) {
    // Most of a large campaign's matrix is zero: whole bytes at a time.
    if (bytes[byte] === 0) continue;
    for (let bit = byte * 8; bit < Math.min(total, byte * 8 + 8); bit += 1) {
      if (((bytes[byte]! >> (bit & 7)) & 1) === 0) continue;
      // Row j starts at bit j(j-1)/2.
      let j = Math.floor((1 + Math.sqrt(1 + 8 * bit)) / 2);
      if ((j * (j - 1)) / 2 > bit) j -= 1;
      else if ((j * (j + 1)) / 2 <= bit) j += 1;
      pairs.push([bit - (j * (j - 1)) / 2, j]);
    }
  }
  return pairs;
}

// Node's Buffer where there is one (the services); the browser's btoa/atob in the console.
interface NodeBuffer {
  from(data: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string };
  from(data: string, encoding: 'base64'): Uint8Array;
}
const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

function toBase64(bytes: Uint8Array): string {
  if (nodeBuffer) return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(encoded: string): Uint8Array {
  if (nodeBuffer) return nodeBuffer.from(encoded, 'base64');
  return Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
}
