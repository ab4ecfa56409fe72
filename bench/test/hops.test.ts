import { describe, expect, it } from 'vitest';
import {
  addHops,
  hopCount,
  hopQuantileMs,
  longestLoopDelayMs,
  parseHopHistograms,
  subtractHops,
} from '../lib/hops.js';

const scrape = (counts: Record<string, number>, hop = 'ingest-kafka', service = 'ingest') =>
  Object.entries(counts)
    .map(([le, n]) => `renkei_report_hop_seconds_bucket{le="${le}",hop="${hop}",service="${service}"} ${n}`)
    .join('\n');

describe('hop histograms read from /metrics', () => {
  it('reads cumulative buckets by hop and adds up processes', () => {
    const text = [
      '# HELP renkei_report_hop_seconds …',
      scrape({ '0.001': 1, '0.002': 3, '+Inf': 4 }),
      scrape({ '0.001': 0, '0.002': 1, '+Inf': 1 }, 'ingest-kafka', 'other'),
      'renkei_report_hop_seconds_sum{hop="ingest-kafka",service="ingest"} 0.01',
      'renkei_report_hop_seconds_bucket{le="0.001",hop="not-a-hop",service="x"} 9',
    ].join('\n');
    const hops = parseHopHistograms(text);
    expect([...hops.keys()]).toEqual(['ingest-kafka']);
    expect(hopCount(hops.get('ingest-kafka'))).toBe(5);
    expect(hops.get('ingest-kafka')!.get(0.002)).toBe(4);
  });

  it('interpolates quantiles inside a bucket, as histogram_quantile does', () => {
    const buckets = parseHopHistograms(scrape({ '0.001': 0, '0.002': 10, '0.005': 20, '+Inf': 20 })).get(
      'ingest-kafka',
    );
    expect(hopQuantileMs(buckets, 0.5)).toBe(2); // the 10th of 20 ends the (1, 2] ms bucket
    expect(hopQuantileMs(buckets, 0.25)).toBe(1.5);
    expect(hopQuantileMs(buckets, 0.75)).toBe(3.5);
    expect(hopQuantileMs(buckets, 1)).toBe(5);
  });

  it('answers the last finite bound for what lies beyond it, and null without observations', () => {
    const beyond = parseHopHistograms(scrape({ '0.001': 0, '10': 1, '+Inf': 2 })).get('ingest-kafka');
    expect(hopQuantileMs(beyond, 0.99)).toBe(10_000);
    expect(hopQuantileMs(undefined, 0.5)).toBeNull();
    expect(
      hopQuantileMs(parseHopHistograms(scrape({ '0.001': 0, '+Inf': 0 })).get('ingest-kafka'), 0.5),
    ).toBeNull();
  });

  it('subtracts an earlier reading and adds measurements up', () => {
    const before = parseHopHistograms(scrape({ '0.001': 1, '+Inf': 2 }));
    const after = parseHopHistograms(scrape({ '0.001': 4, '+Inf': 7 }));
    const delta = subtractHops(after, before);
    expect(hopCount(delta.get('ingest-kafka'))).toBe(5);
    expect(delta.get('ingest-kafka')!.get(0.001)).toBe(3);
    expect(hopCount(addHops([delta, delta]).get('ingest-kafka'))).toBe(10);
  });
});

describe('the longest event-loop delay read from /metrics', () => {
  it('reads the quantile="1" line in ms, and nothing when it is absent', () => {
    const text = [
      '# HELP renkei_event_loop_delay_seconds Event-loop delay since the previous scrape',
      'renkei_event_loop_delay_seconds{quantile="0.5"} 0.0101',
      'renkei_event_loop_delay_seconds{quantile="0.99"} 0.031',
      'renkei_event_loop_delay_seconds{quantile="1",service="ingest"} 0.2345',
    ].join('\n');
    expect(longestLoopDelayMs(text)).toBe(234.5);
    expect(longestLoopDelayMs('renkei_event_loop_delay_seconds{quantile="0.5"} 0.01')).toBeNull();
    expect(longestLoopDelayMs('renkei_event_loop_delay_seconds{service="gateway",quantile="1"} 0.05')).toBe(
      50,
    );
  });
});
