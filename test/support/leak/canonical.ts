import type { Exchange } from './observe.js';
import type { StepSpan } from './worlds.js';

/**
 * What is set aside before two worlds are compared: parts of an answer that
 * are the time or the identity of the request itself, or of the connection,
 * and differ between any two runs of the same history. Each says why.
 */
export interface SetAside {
  header: string;
  why: string;
}

/** Where a time the viewer got was made: a step of the history, or outside every step. */
export type TimeOrigin = { step: number } | { outside: 'before' | 'between' | 'after' };

export interface TimeSeen {
  label: string;
  origin: TimeOrigin;
  /** Where in the exchanges: `#index path request → pointer`. */
  where: string;
}

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})/g;
const ISO_WHOLE = new RegExp(`^${ISO.source}$`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Something that looks like a token a server made up: long, no spaces or dots, letters and digits mixed. */
const TOKEN = /^[A-Za-z0-9_-]{12,}={0,2}$/;

/**
 * Canonicalises one viewer's exchanges in one world, in order:
 *
 * - a time written during the history (the hub's own clock: `receivedAt`,
 *   processing and storage times, headers) becomes `T<step>#<n>`: the step
 *   of the history during which it was written (each world records when it
 *   ran each step) and the order of first appearance among that step's
 *   times in this viewer's answers. Two worlds run the same step at different
 *   wall-clock times, so the time itself differs; which step it belongs to,
 *   and which of that step's times it is, must not. Times from before the
 *   history (detection times chosen by the history, the hub's fixed dates)
 *   stay as they are;
 * - a decimal string (a feed position used as a cursor) stays as it is: a
 *   position in the whole feed counts every event before it, hidden ones too,
 *   so it must be equal in both worlds;
 * - any other token (sealed cursors, TAXII `next`, the bundle's content
 *   hash) becomes `K<n>` by first appearance, after decoding it when it is
 *   plain base64url text, whose contents are canonicalised in turn (a token a
 *   client can read is no more opaque than the time it spells);
 * - ids (UUIDs, STIX ids) stay as they are: report ids are the history's,
 *   alert and STIX ids are name-based, so they are equal in both worlds.
 */
export class Canonicaliser {
  readonly times: TimeSeen[] = [];
  readonly #spans: readonly StepSpan[];
  readonly #timeLabels = new Map<number, string>();
  readonly #perStep = new Map<string, number>();
  readonly #tokens = new Map<string, string>();
  readonly #setAside: Set<string>;
  #where = '';
  #recording = true;

  constructor(spans: readonly StepSpan[], setAside: readonly SetAside[]) {
    this.#spans = [...spans].sort((a, b) => a.start - b.start);
    this.#setAside = new Set(setAside.map((s) => s.header.toLowerCase()));
  }

  exchange(exchange: Exchange, index: number): Exchange {
    this.#where = `#${index} ${exchange.request} (request)`;
    this.#recording = false;
    const request = this.#request(exchange.request);
    this.#recording = true;
    const where = `#${index} ${request}`;
    const headers: Record<string, string> = {};
    for (const name of Object.keys(exchange.headers).sort()) {
      if (this.#setAside.has(name)) continue;
      this.#where = `${where} header ${name}`;
      headers[name] = this.#string(exchange.headers[name]!);
    }
    const body = this.#value(exchange.body, `${where} body`);
    return { path: exchange.path, request, status: exchange.status, headers, body };
  }

  #request(request: string): string {
    const [path, query] = request.split('?', 2) as [string, string | undefined];
    if (query === undefined) return path;
    const params = [...new URLSearchParams(query)].map(([name, value]) => `${name}=${this.#string(value)}`);
    return `${path}?${params.join('&')}`;
  }

  #value(value: unknown, where: string): unknown {
    if (typeof value === 'string') {
      this.#where = where;
      return this.#string(value);
    }
    if (Array.isArray(value)) return value.map((item, i) => this.#value(item, `${where}/${i}`));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, this.#value(item, `${where}/${key}`)]),
      );
    }
    return value;
  }

  #string(value: string): string {
    if (ISO_WHOLE.test(value)) return this.#time(value);
    if (/^\d+$/.test(value) || UUID.test(value)) return value;
    const stix = /^([a-z][a-z0-9-]*)--([0-9a-f-]{36})$/.exec(value);
    if (stix) return stix[1] === 'bundle' ? this.#token(value) : value;
    // Mixed case, or letters and digits: what random bytes in base64url look like, and no word of ours.
    if (
      TOKEN.test(value) &&
      ((/[a-z]/.test(value) && /[A-Z]/.test(value)) || (/\d/.test(value) && /[A-Za-z]/.test(value)))
    )
      return this.#token(value);
    return value.replace(ISO, (time) => this.#time(time));
  }

  #token(value: string): string {
    const decoded = readableBase64url(value);
    if (decoded !== undefined)
      return `b64(${decoded
        .split('\n')
        .map((part) => this.#string(part))
        .join('\\n')})`;
    let label = this.#tokens.get(value);
    if (!label) this.#tokens.set(value, (label = `K${this.#tokens.size + 1}`));
    return label;
  }

  #time(text: string): string {
    const ms = Date.parse(text);
    const origin = this.#originOf(ms);
    if ('outside' in origin && origin.outside === 'before') return text;
    let label = this.#timeLabels.get(ms);
    if (!label) {
      const key = 'step' in origin ? `T${origin.step}` : `T(${origin.outside})`;
      const n = (this.#perStep.get(key) ?? 0) + 1;
      this.#perStep.set(key, n);
      this.#timeLabels.set(ms, (label = `${key}#${n}`));
    }
    if (this.#recording) this.times.push({ label, origin, where: this.#where });
    return label;
  }

  #originOf(ms: number): TimeOrigin {
    const spans = this.#spans;
    if (spans.length === 0 || ms < spans[0]!.start) return { outside: 'before' };
    for (const span of spans) if (ms >= span.start && ms <= span.end) return { step: span.step };
    return ms > spans.at(-1)!.end ? { outside: 'after' } : { outside: 'between' };
  }
}

/** The text a base64url token spells, when it spells printable text; otherwise undefined. */
function readableBase64url(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) return undefined;
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').compare(bytes) !== 0) return undefined;
  // Printable text (and line breaks): what a server writes on purpose, not random bytes.
  return /^[\x20-\x7e\n\u00a0-\uffff]*$/.test(text) && /[\x20-\x7e]{4}/.test(text) ? text : undefined;
}

/** The first place two values differ, as a pointer and both sides; undefined when equal. */
export function firstDifference(
  a: unknown,
  b: unknown,
  pointer = '',
): { pointer: string; a: unknown; b: unknown } | undefined {
  if (Object.is(a, b)) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    // Lists of identified objects (STIX, TAXII): first say which objects only one side has.
    const ids = (list: unknown[]) =>
      list.every(
        (item) => item && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string',
      )
        ? list.map((item) => (item as { id: string }).id)
        : undefined;
    const [idsA, idsB] = [ids(a), ids(b)];
    if (idsA && idsB && a.length > 0 && b.length > 0) {
      const onlyA = idsA.filter((id) => !idsB.includes(id));
      const onlyB = idsB.filter((id) => !idsA.includes(id));
      if (onlyA.length || onlyB.length)
        return { pointer: `${pointer} (ids)`, a: { only: onlyA }, b: { only: onlyB } };
    }
    for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
      if (i >= a.length || i >= b.length)
        return {
          pointer: `${pointer}/${i}`,
          a: i < a.length ? a[i] : '(absent)',
          b: i < b.length ? b[i] : '(absent)',
        };
      const found = firstDifference(a[i], b[i], `${pointer}/${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const x = (a as Record<string, unknown>)[key];
      const y = (b as Record<string, unknown>)[key];
      if (x === undefined || y === undefined) {
        if (x === y) continue;
        return { pointer: `${pointer}/${key}`, a: x ?? '(absent)', b: y ?? '(absent)' };
      }
      const found = firstDifference(x, y, `${pointer}/${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return { pointer, a, b };
}
