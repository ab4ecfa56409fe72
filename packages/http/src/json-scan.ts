/**
 * How deep containers may nest in a body. The deepest input the hub reads (a
 * MISP event's object attributes' tags, a STIX object's extensions) is about
 * ten levels; 64 leaves room for any honest client while keeping every later
 * walk over the value shallow.
 */
export const MAX_JSON_DEPTH = 64;

/** Keys that name JavaScript's object machinery; refused anywhere in a body. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** What {@link scanJsonText} found wrong with a body's structure. `path` leads to the container or key. */
export type JsonStructureFinding =
  | { kind: 'too-deep'; path: PropertyKey[]; maxDepth: number }
  | { kind: 'duplicate-key'; path: PropertyKey[]; key: string }
  | { kind: 'reserved-key'; path: PropertyKey[]; key: string };

interface Container {
  readonly isObject: boolean;
  /** Keys met so far: only objects, made on the first key. */
  keys: Set<string> | undefined;
  /** Where in the container the scan is: the last key read, or the index of the current element. */
  key: string;
  index: number;
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * One pass over a JSON text, before it is parsed: containers nested deeper
 * than `maxDepth`, a key given twice in one object (`JSON.parse` would keep
 * the last silently, so `"tlp":"RED",…,"tlp":"CLEAR"` would be stored CLEAR),
 * and reserved keys. Linear in the text: each character is looked at once
 * (a backslash run once more, by the quote that ends it), the open containers
 * are a stack no deeper than `maxDepth`, and the path to a finding is built
 * from that stack only when there is one.
 *
 * It judges structure only and trusts `JSON.parse` with the syntax: on text
 * that is not JSON it may find nothing (an unterminated string) or stop early,
 * and the parse that follows reports the syntax error.
 */
export function scanJsonText(
  text: string,
  maxDepth: number = MAX_JSON_DEPTH,
): JsonStructureFinding | undefined {
  const stack: Container[] = [];
  // True where a string would be an object's key: after `{` or after a `,` in an object.
  let expectKey = false;
  const length = text.length;
  let at = 0;
  while (at < length) {
    const char = text.charCodeAt(at);
    if (char === QUOTE) {
      const end = closingQuote(text, at);
      if (end < 0) return undefined;
      if (expectKey) {
        expectKey = false;
        const raw = text.slice(at + 1, end);
        let key = raw;
        if (raw.includes('\\')) {
          try {
            key = JSON.parse(text.slice(at, end + 1)) as string;
          } catch {
            return undefined;
          }
        }
        const object = stack[stack.length - 1]!;
        if (RESERVED_KEYS.has(key)) return { kind: 'reserved-key', path: [...pathTo(stack, 1), key], key };
        object.keys ??= new Set();
        if (object.keys.has(key)) return { kind: 'duplicate-key', path: [...pathTo(stack, 1), key], key };
        object.keys.add(key);
        object.key = key;
      }
      at = end + 1;
    } else if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      if (stack.length >= maxDepth) return { kind: 'too-deep', path: pathTo(stack, 0), maxDepth };
      const isObject = char === OPEN_OBJECT;
      stack.push({ isObject, keys: undefined, key: '', index: 0 });
      expectKey = isObject;
      at += 1;
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      stack.pop();
      expectKey = false;
      at += 1;
    } else if (char === COMMA) {
      const top = stack[stack.length - 1];
      if (top?.isObject) expectKey = true;
      else if (top) top.index += 1;
      at += 1;
    } else {
      at += 1;
    }
  }
  return undefined;
}

/** The index of the quote that ends the string opening at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    // A quote preceded by an odd run of backslashes is escaped.
    let before = quote - 1;
    while (text.charCodeAt(before) === BACKSLASH) before -= 1;
    if ((quote - 1 - before) % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** The path to the innermost open container's current position, leaving out the last `skip` containers. */
function pathTo(stack: readonly Container[], skip: number): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let depth = 0; depth < stack.length - skip; depth += 1) {
    const container = stack[depth]!;
    path.push(container.isObject ? container.key : container.index);
  }
  return path;
}
