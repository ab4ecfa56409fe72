import { REPORT_HOPS, type ReportHop } from '@renkei/metrics';
import type { Stack } from './scenario.js';
import { round } from './stats.js';

const METRIC = 'renkei_report_hop_seconds_bucket';

/** Cumulative bucket counts of one hop: upper bound (seconds; Infinity for +Inf) → count. */
export type HopBuckets = Map<number, number>;
export type HopHistograms = Map<ReportHop, HopBuckets>;

/**
 * Reads `renkei_report_hop_seconds` from Prometheus text. Buckets of the same
 * hop from several processes (two processes may relay the feed over a run)
 * are added up.
 */
export function parseHopHistograms(text: string, into: HopHistograms = new Map()): HopHistograms {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${METRIC}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels = Object.fromEntries(
      [...line.slice(METRIC.length + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    const hop = labels.hop as ReportHop | undefined;
    if (!hop || !(REPORT_HOPS as readonly string[]).includes(hop) || labels.le === undefined) continue;
    const bound = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
    const count = Number(line.slice(close + 1).trim());
    const buckets = into.get(hop) ?? new Map<number, number>();
    buckets.set(bound, (buckets.get(bound) ?? 0) + count);
    into.set(hop, buckets);
  }
  return into;
}

/** What happened between two readings. */
export function subtractHops(after: HopHistograms, before: HopHistograms): HopHistograms {
  const result: HopHistograms = new Map();
  for (const [hop, buckets] of after) {
    const earlier = before.get(hop);
    result.set(
      hop,
      new Map([...buckets].map(([bound, count]) => [bound, count - (earlier?.get(bound) ?? 0)])),
    );
  }
  return result;
}

export function addHops(histograms: readonly HopHistograms[]): HopHistograms {
  const result: HopHistograms = new Map();
  for (const histogram of histograms)
    for (const [hop, buckets] of histogram) {
      const sum = result.get(hop) ?? new Map<number, number>();
      for (const [bound, count] of buckets) sum.set(bound, (sum.get(bound) ?? 0) + count);
      result.set(hop, sum);
    }
  return result;
}

/**
 * A quantile of a cumulative histogram in milliseconds, interpolated linearly
 * inside its bucket (as Prometheus' histogram_quantile does); null without
 * observations. Its precision is the bucket's width.
 */
export function hopQuantileMs(buckets: HopBuckets | undefined, quantile: number): number | null {
  if (!buckets) return null;
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = quantile * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      // Past the last finite bound Prometheus answers that bound; so does this.
      if (!Number.isFinite(bound)) return round(lowerBound * 1000, 1);
      const share = count === lowerCount ? 1 : (rank - lowerCount) / (count - lowerCount);
      return round((lowerBound + (bound - lowerBound) * share) * 1000, 1);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return null;
}

export function hopCount(buckets: HopBuckets | undefined): number {
  if (!buckets) return 0;
  return buckets.get(Number.POSITIVE_INFINITY) ?? 0;
}

/** The hop histograms of every process of a stack, added up. */
export async function scrapeHops(stack: Stack): Promise<HopHistograms> {
  return (await scrapeStack(stack)).hops;
}

/**
 * The hop histograms, and each process's longest event-loop delay (ms) since
 * its previous scrape: a stall of a whole process is time no hop measures
 * (a request waiting to be read, an event waiting to be handled).
 */
export async function scrapeStack(
  stack: Stack,
): Promise<{ hops: HopHistograms; loopMaxMs: Map<string, number> }> {
  const hops: HopHistograms = new Map();
  const loopMaxMs = new Map<string, number>();
  for (const process of stack.processes) {
    if (!process.metricsUrl) continue;
    const response = await fetch(`${process.metricsUrl}/metrics`);
    const text = await response.text();
    parseHopHistograms(text, hops);
    const longest = longestLoopDelayMs(text);
    if (longest !== null) loopMaxMs.set(serviceOf(process.label), longest);
  }
  return { hops, loopMaxMs };
}

/** `ingest-4` → `ingest`: the stack's processes are labelled with a counter. */
const serviceOf = (label: string) => label.replace(/-\d+$/u, '');

/** `renkei_event_loop_delay_seconds{quantile="1"}` in ms, null when absent. */
export function longestLoopDelayMs(text: string): number | null {
  // Every service adds its own label (`service="…"`), in an order prom-client chooses.
  const line = text
    .split('\n')
    .find((l) => l.startsWith('renkei_event_loop_delay_seconds{') && /[{,]quantile="1"[,}]/u.test(l));
  if (!line) return null;
  const value = Number(line.slice(line.lastIndexOf('}') + 1).trim());
  return Number.isFinite(value) ? round(value * 1000, 1) : null;
}
