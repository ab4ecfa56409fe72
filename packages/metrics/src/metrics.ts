import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds: from a fast local request to a Kafka acknowledgement waiting on a slow broker. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
/** Seconds, finer at the low end: most hops of a quiet hub take a millisecond or two. */
const HOP_BUCKETS = [
  0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5,
  0.75, 1, 2, 5, 10,
];

/**
 * The hops of a report's path, in order, each timed by the process that
 * performs it. Hops between processes run from the time the sender stamped
 * on the Kafka message (or the outbox row) to the receiver's clock: on one
 * machine that is exact; across machines it includes their clock offset.
 */
export const REPORT_HOPS = [
  /** ingest: from the request's submission to its batch leaving (linger, and the batch before it). */
  'ingest-queue',
  /** ingest: the ledger's claim of the batch's rows. */
  'ingest-ledger',
  /** ingest: the produce request until every replica acknowledged. */
  'ingest-kafka',
  /** ingest: the ledger marking the batch accepted, before the answer. */
  'ingest-ledger-accept',
  /** reports topic: the producer's timestamp to the correlator's fetch. */
  'reports-topic',
  /** correlator: fetch to the commit of the transaction that stored the report. */
  'correlator-store',
  /** feed relay: the outbox row written to its sequencing. */
  'feed-sequence',
  /** feed relay: sequenced to Kafka's acknowledgement of the feed message. */
  'feed-publish',
  /** feed topic: the relay's timestamp to the gateway's receipt. */
  'feed-topic',
  /** gateway: receipt to the frame handed to every viewer's socket. */
  'socket-write',
] as const;
export type ReportHop = (typeof REPORT_HOPS)[number];

/** Quantiles of the event-loop delay each scrape reports; 1 is the longest delay. */
const LOOP_DELAY_QUANTILES = [0.5, 0.9, 0.99, 1] as const;

/**
 * Every series the hub exposes, named in one place and created in every
 * process (a series a service never touches stays at zero), so dashboards and
 * alarms can be written once. docs/OPERATIONS.md says what each means.
 */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'renkei_process_' });
  const registers = [registry];
  const pools: PoolCounts[] = [];
  // Samples how late the loop runs a 10 ms timer: every request, heartbeat
  // and Kafka callback of the process waits this long.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  return {
    /** Pools whose counts the `renkei_db_pool_connections` gauge reads at every scrape. */
    pools,
    registry,
    httpRequestDuration: new Histogram({
      name: 'renkei_http_request_duration_seconds',
      help: 'HTTP requests by method, route and status, with their latency',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    kafkaProduced: new Counter({
      name: 'renkei_kafka_messages_produced_total',
      help: 'Messages Kafka acknowledged, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    kafkaConsumed: new Counter({
      name: 'renkei_kafka_messages_consumed_total',
      help: 'Messages consumed and committed, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    consumerLag: new Gauge({
      name: 'renkei_kafka_consumer_lag',
      help: 'Messages on a partition not yet committed by the consumer group',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
    }),
    batchSize: new Histogram({
      name: 'renkei_batch_size',
      help: 'Items per batch, by stage (ingest: reports per Kafka send; correlator: reports per transaction)',
      labelNames: ['stage'] as const,
      buckets: SIZE_BUCKETS,
      registers,
    }),
    batchLinger: new Histogram({
      name: 'renkei_batch_linger_seconds',
      help: 'How long the first item of a batch waited for the batch to be sent, by stage',
      labelNames: ['stage'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    hopSeconds: new Histogram({
      name: 'renkei_report_hop_seconds',
      help: "How long each hop of a report's path took, by hop (see REPORT_HOPS); a batch's hop is observed once per report in it",
      labelNames: ['hop'] as const,
      buckets: HOP_BUCKETS,
      registers,
    }),
    partnerFeedLag: new Gauge({
      name: 'renkei_partner_feed_lag_seconds',
      help: "Seconds since a partner feed's last successful poll (since it was added, before one); set by the leading ingest",
      labelNames: ['feed'] as const,
      registers,
    }),
    partnerFeedFailures: new Gauge({
      name: 'renkei_partner_feed_consecutive_failures',
      help: "A partner feed's failed polls in a row (0 after a success); set by the leading ingest",
      labelNames: ['feed'] as const,
      registers,
    }),
    partnerFeedPolls: new Counter({
      name: 'renkei_partner_feed_polls_total',
      help: 'Polls of partner feeds, by feed and outcome (success, failure)',
      labelNames: ['feed', 'outcome'] as const,
      registers,
    }),
    partnerFeedReports: new Counter({
      name: 'renkei_partner_feed_reports_total',
      help: 'Reports a partner feed brought that Kafka accepted for the first time, by feed',
      labelNames: ['feed'] as const,
      registers,
    }),
    alertsRaised: new Counter({
      name: 'renkei_alerts_raised_total',
      help: 'Alert versions written, by rule',
      labelNames: ['kind'] as const,
      registers,
    }),
    streamConnections: new Gauge({
      name: 'renkei_stream_connections',
      help: 'Open WebSocket stream connections',
      registers,
    }),
    streamDisconnects: new Counter({
      name: 'renkei_stream_disconnects_total',
      help: 'Stream connections the gateway closed, by reason (slow, invalid-frames, expired, draining, …)',
      labelNames: ['reason'] as const,
      registers,
    }),
    streamFrames: new Counter({
      name: 'renkei_stream_frames_sent_total',
      help: 'Event frames written to stream sockets',
      registers,
    }),
    deliveryLag: new Gauge({
      name: 'renkei_delivery_lag_seconds',
      help: "Age of each delivery endpoint's oldest undelivered event (0: none waiting); set by the delivering gateway",
      labelNames: ['endpoint'] as const,
      registers,
    }),
    deliveryAttempts: new Counter({
      name: 'renkei_delivery_attempts_total',
      help: 'Webhook and e-mail delivery attempts, by endpoint and outcome (ok, error)',
      labelNames: ['endpoint', 'outcome'] as const,
      registers,
    }),
    deliveryFailures: new Counter({
      name: 'renkei_delivery_failed_total',
      help: 'Deliveries given up after the retry period, by endpoint',
      labelNames: ['endpoint'] as const,
      registers,
    }),
    feedPublished: new Counter({
      name: 'renkei_feed_events_published_total',
      help: 'Feed events the relay published to Kafka (leader only)',
      registers,
    }),
    retentionPurged: new Counter({
      name: 'renkei_retention_rows_purged_total',
      help: 'Rows the retention purge removed, by class (reports, alerts, exercises, feed-events, audit); set by the process that ran the pass',
      labelNames: ['class'] as const,
      registers,
    }),
    retentionLastRun: new Gauge({
      name: 'renkei_retention_last_run_timestamp_seconds',
      help: 'When this process last finished a retention pass (0: never)',
      registers,
    }),
    retentionOldestAge: new Gauge({
      name: 'renkei_retention_oldest_row_age_seconds',
      help: 'Age of the oldest row of each retention class after the last pass this process ran',
      labelNames: ['class'] as const,
      registers,
    }),
    eventLoopDelay: new Gauge({
      name: 'renkei_event_loop_delay_seconds',
      help: 'Event-loop delay since the previous scrape, by quantile (quantile="1": the longest), from perf_hooks.monitorEventLoopDelay',
      labelNames: ['quantile'] as const,
      registers,
      collect() {
        for (const quantile of LOOP_DELAY_QUANTILES) {
          const nanoseconds =
            loopDelay.count === 0 ? 0 : quantile === 1 ? loopDelay.max : loopDelay.percentile(quantile * 100);
          this.set({ quantile: String(quantile) }, nanoseconds / 1e9);
        }
        // Each scrape reports the window since the last one, so a stall shows once, where it happened.
        loopDelay.reset();
      },
    }),
    dbPool: new Gauge({
      name: 'renkei_db_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, waiting clients)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const sum = (read: (pool: PoolCounts) => number) =>
          pools.reduce((total, pool) => total + read(pool), 0);
        this.set(
          { state: 'total' },
          sum((pool) => pool.totalCount),
        );
        this.set(
          { state: 'idle' },
          sum((pool) => pool.idleCount),
        );
        this.set(
          { state: 'waiting' },
          sum((pool) => pool.waitingCount),
        );
      },
    }),
  };
}

export type HubMetrics = ReturnType<typeof createMetrics>;

/** What the pool gauges read; a pg.Pool fits. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Reads the pool's counts at every scrape. */
export function observePool(metrics: HubMetrics, pool: PoolCounts): void {
  metrics.pools.push(pool);
}

/** Observes `seconds` for a hop `count` times (once per report of a batch); negative clock skew counts as 0. */
export function observeHop(
  metrics: HubMetrics | undefined,
  hop: ReportHop,
  seconds: number,
  count = 1,
): void {
  if (!metrics) return;
  const value = Math.max(0, seconds);
  for (let i = 0; i < count; i += 1) metrics.hopSeconds.observe({ hop }, value);
}
