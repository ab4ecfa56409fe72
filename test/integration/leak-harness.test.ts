import { describe, expect, it } from 'vitest';
import { Canonicaliser, firstDifference } from '../support/leak/canonical.js';
import { describeHistory, endOfHistory, generateHistory } from '../support/leak/history.js';
import type { Exchange } from '../support/leak/observe.js';

/**
 * The differential leak test is only as good as its canonicalisation: these
 * check, without any service, that what must differ between two runs is
 * set aside and that what leaks is not.
 */
// The history runs on 7 December; detection times it chose lie before.
const BASE = Date.parse('2026-12-07T00:00:00Z') - 1_000_000;
const spans = [
  { step: 0, start: BASE + 1_000_000, end: BASE + 1_000_100 },
  { step: 1, start: BASE + 1_000_200, end: BASE + 1_000_300 },
  { step: 2, start: BASE + 1_000_400, end: BASE + 1_000_500 },
];
const at = (ms: number) => new Date(BASE + ms).toISOString();
const exchange = (body: unknown, headers: Record<string, string> = {}, request = '/v1/x'): Exchange => ({
  path: 'x',
  request,
  status: 200,
  headers,
  body,
});
const canonical = (world: typeof spans, ...exchanges: Exchange[]) => {
  const canon = new Canonicaliser(world, [{ header: 'date', why: 'the time of the request' }]);
  return { exchanges: exchanges.map((e, i) => canon.exchange(e, i)), times: canon.times };
};

describe('the leak harness', () => {
  it('compares times by the step that wrote them, not by value', () => {
    const other = spans.map((s) => ({ ...s, start: s.start + 5_000, end: s.end + 5_000 }));
    const a = canonical(spans, exchange({ t: at(1_000_050), u: at(1_000_250), v: at(1_000_050) }));
    const b = canonical(other, exchange({ t: at(1_005_010), u: at(1_005_299), v: at(1_005_010) }));
    expect(a.exchanges).toEqual(b.exchanges);
    expect(a.exchanges[0]!.body).toEqual({ t: 'T0#1', u: 'T1#1', v: 'T0#1' });
    // Two times of one step stay apart, and which came first is kept.
    const c = canonical(other, exchange({ t: at(1_005_010), u: at(1_005_299), v: at(1_005_011) }));
    expect(firstDifference(a.exchanges, c.exchanges)?.pointer).toBe('/0/body/v');
  });

  it('says which step wrote each time, so a hidden step shows wherever its time does', () => {
    const { times } = canonical(spans, exchange({}, { 'renkei-next-since': at(1_000_450) }));
    expect(times).toEqual([
      { label: 'T2#1', origin: { step: 2 }, where: '#0 /v1/x header renkei-next-since' },
    ]);
  });

  it('keeps times from before the history and sets aside only the listed headers', () => {
    const { exchanges, times } = canonical(
      spans,
      exchange(
        { detectedAt: '2026-11-24T01:00:00.000Z' },
        { date: 'Mon, 07 Dec 2026 00:00:00 GMT', 'x-y': '1' },
      ),
    );
    expect(exchanges[0]!.body).toEqual({ detectedAt: '2026-11-24T01:00:00.000Z' });
    expect(exchanges[0]!.headers).toEqual({ 'x-y': '1' });
    expect(times).toEqual([]);
  });

  it('names a time outside every step: a time of the request that was not set aside', () => {
    const { times } = canonical(spans, exchange({ now: at(2_000_000), gap: at(1_000_150) }));
    expect(times.map((t) => t.origin)).toEqual([{ outside: 'after' }, { outside: 'between' }]);
  });

  it('compares decimal cursors as they are, so positions that count hidden events differ', () => {
    const a = canonical(
      spans,
      exchange({ items: [{ cursor: '9' }], nextAfter: '9' }, {}, '/v1/alerts?after=3'),
    );
    const b = canonical(
      spans,
      exchange({ items: [{ cursor: '6' }], nextAfter: '6' }, {}, '/v1/alerts?after=3'),
    );
    expect(firstDifference(a.exchanges, b.exchanges)).toEqual({
      pointer: '/0/body/items/0/cursor',
      a: '9',
      b: '6',
    });
  });

  it('labels opaque tokens by first appearance, and reads tokens that are plain base64url text', () => {
    const sealedA = ['Qx3vV9k2_aL0pZr7YtB1cw', 'u8Hn2Kd0-Wq5Zx1mPb4Rtg'];
    const sealedB = ['Zm9vYmFyYmF6cXV4eHl6Ab', 'Lk2Jh7Gf5Ds3Ap1Qw9Er0T'];
    const a = canonical(spans, exchange({ cursor: sealedA[0], again: sealedA[0], next: sealedA[1] }));
    const b = canonical(spans, exchange({ cursor: sealedB[0], again: sealedB[0], next: sealedB[1] }));
    expect(a.exchanges).toEqual(b.exchanges);
    expect(a.exchanges[0]!.body).toEqual({ cursor: 'K1', again: 'K1', next: 'K2' });
    // A TAXII `next` that spells a time and an id is compared by what it spells.
    const next = Buffer.from(`${at(1_000_450)}\nindicator--00000000-0000-5000-8000-000000000000`).toString(
      'base64url',
    );
    const { exchanges, times } = canonical(spans, exchange({ next }));
    expect(exchanges[0]!.body).toEqual({
      next: 'b64(T2#1\\nindicator--00000000-0000-5000-8000-000000000000)',
    });
    expect(times[0]!.origin).toEqual({ step: 2 });
  });

  it('keeps ids and words as they are', () => {
    const body = {
      id: '3580ab6d-df1b-5dcd-beed-6d81588c70c6',
      stix: 'grouping--eccd3461-94ef-57e4-a2e7-0942e2ec7288',
      sector: 'central-government',
      subject: 'finance-ceptar-reporter',
      type: 'application/stix+json;version=2.1',
    };
    expect(canonical(spans, exchange(body)).exchanges[0]!.body).toEqual(body);
    // A bundle id is a hash of content that holds times: a token, not an id.
    expect(
      canonical(spans, exchange({ id: 'bundle--eccd3461-94ef-57e4-a2e7-0942e2ec7288' })).exchanges[0]!.body,
    ).toEqual({ id: 'K1' });
  });

  it('names the objects only one side has', () => {
    expect(firstDifference([{ id: 'a' }, { id: 'b' }], [{ id: 'a' }])).toEqual({
      pointer: ' (ids)',
      a: { only: ['b'] },
      b: { only: [] },
    });
  });

  it('makes the same history of one seed every time, ending with a warning to every sector', () => {
    const history = generateHistory(42);
    expect(describeHistory(generateHistory(42))).toBe(describeHistory(history));
    expect(describeHistory(generateHistory(43))).not.toBe(describeHistory(history));
    expect(history.at(-1)).toMatchObject({
      kind: 'warning',
      sectors: 'all',
      tlp: 'CLEAR',
      id: endOfHistory(history),
    });
    const kinds = new Set(history.map((step) => step.kind));
    expect(kinds).toEqual(new Set(['report', 'tlp', 'warning']));
    const tlps = new Set(history.flatMap((step) => (step.kind === 'report' ? [step.tlp] : [])));
    expect(tlps.size).toBeGreaterThanOrEqual(4);
    // A tightening comes after its report and tightens.
    const order = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
    const current = new Map<string, string>();
    for (const step of history) {
      if (step.kind === 'report') current.set(step.id, step.tlp);
      if (step.kind !== 'tlp') continue;
      expect(current.has(step.reportId)).toBe(true);
      expect(order.indexOf(step.tlp)).toBeGreaterThan(order.indexOf(current.get(step.reportId)!));
      current.set(step.reportId, step.tlp);
    }
  });
});
