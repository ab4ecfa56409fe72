import { randomUUID } from 'node:crypto';
import { advisoryLeadership, withTransaction, type Pool } from '@renkei/db';
import {
  DELIVERY_ID_HEADER,
  deliveryContent,
  EVENT_HEADER,
  nextAttemptAt,
  renderEmail,
  renderTestEmail,
  SIGNATURE_HEADER,
  signWebhook,
  testWebhookBody,
  webhookBody,
  type DeliveryContent,
  type RetryPolicy,
} from '@renkei/delivery';
import { readFeed } from '@renkei/feed';
import type { HubMetrics } from '@renkei/metrics';
import { Wakeable, type Closable, type Logger } from '@renkei/runtime';
import type { DeliveryLanguage } from '@renkei/schema';
import type { Mailer } from './mailer.js';
import {
  hasLiveEndpoints,
  insertDeliveries,
  listEndpoints,
  lockDeliveryHead,
  nextDeliveries,
  planningTargets,
  pruneDeliveries,
  recordAttempt,
  recordTestDelivery,
  setDeliveryHead,
  type AttemptOutcome,
  type DueDelivery,
  type PlannedDelivery,
  type StoredEndpoint,
} from './queries.js';
import { postWebhook, type WebhookGuard } from './webhook.js';

// Any fixed number works; it only has to be the same in every process of the hub.
const DELIVERY_LEADER_LOCK = 0x444c5652; // "DLVR"
const PLAN_BATCH = 200;

/** How one delivery leaves the hub: the webhook guard, the SMTP sender, the time allowed, the hub's address. */
export interface DeliveryChannels {
  guard: WebhookGuard;
  /** Null when no SMTP server is configured: e-mail endpoints cannot be made, and attempts fail. */
  mailer: Mailer | null;
  timeoutMs: number;
  /** The hub's public address, for the links e-mail carries. */
  linkBase: () => string;
}

export interface DeliveryWorkerOptions {
  pool: Pool;
  /** Leadership is held on a connection of its own, outside the pool. */
  databaseUrl: string;
  logger: Logger;
  channels: DeliveryChannels;
  retry: RetryPolicy;
  /** How often to look for new feed events and due retries without being woken. */
  pollEveryMs: number;
  /** Finished deliveries older than this are forgotten (their receipts with them). */
  retentionMs: number;
  metrics?: HubMetrics;
}

export interface DeliveryWorker extends Closable {
  isLeader(): boolean;
  /** Asks the leader to look at the feed now (the follower saw a new event). */
  wake(): void;
}

/** Where an item can be read on the hub; the route needs the organisation's token. */
function linkFor(base: string, content: DeliveryContent): string {
  const root = base.replace(/\/+$/, '');
  return content.type === 'warning'
    ? `${root}/v1/warnings/${content.subjectId}`
    : `${root}/v1/alerts/${content.subjectId}`;
}

/** One attempt at one message to one endpoint; never throws. */
async function attemptOnce(
  channels: DeliveryChannels,
  endpoint: StoredEndpoint,
  deliveryId: string,
  language: DeliveryLanguage,
  message: { type: 'test'; sentAt: string } | { type: 'event'; content: DeliveryContent },
  signal?: AbortSignal,
): Promise<AttemptOutcome> {
  const at = new Date();
  if (endpoint.channel === 'webhook') {
    const body =
      message.type === 'test'
        ? testWebhookBody(deliveryId, endpoint.id, message.sentAt)
        : webhookBody(deliveryId, endpoint.id, message.content);
    const headers = {
      [SIGNATURE_HEADER]: signWebhook(endpoint.secret!, Math.floor(Date.now() / 1000), body),
      [DELIVERY_ID_HEADER]: deliveryId,
      [EVENT_HEADER]: message.type === 'test' ? 'test' : message.content.type,
    };
    return {
      at,
      ...(await postWebhook(endpoint.url!, body, headers, channels.guard, channels.timeoutMs, signal)),
    };
  }
  if (!channels.mailer) {
    return {
      at,
      statusCode: null,
      latencyMs: 0,
      ok: false,
      error: 'no SMTP server is configured (DELIVERY_SMTP_URL)',
    };
  }
  const rendered =
    message.type === 'test'
      ? renderTestEmail(language, deliveryId)
      : renderEmail(message.content, { language, link: linkFor(channels.linkBase(), message.content) });
  return { at, ...(await channels.mailer.send(endpoint.addresses!, rendered, deliveryId)) };
}

/**
 * `POST /v1/deliveries/:id/test`: one attempt, now, outside the endpoint's
 * queue (a test must not wait behind a failing delivery), logged like any other.
 */
export async function sendTestMessage(
  pool: Pool,
  channels: DeliveryChannels,
  endpoint: StoredEndpoint,
  language: DeliveryLanguage,
): Promise<{ deliveryId: string; outcome: AttemptOutcome }> {
  const deliveryId = randomUUID();
  const outcome = await attemptOnce(channels, endpoint, deliveryId, language, {
    type: 'test',
    sentAt: new Date().toISOString(),
  });
  await withTransaction(pool, (db) => recordTestDelivery(db, deliveryId, endpoint.id, outcome));
  return { deliveryId, outcome };
}

/**
 * Delivers the feed to every endpoint, at least once, in order per endpoint.
 * Every gateway runs one; the one holding a session advisory lock leads, so
 * exactly one process plans and sends, and leadership passes on when its
 * connection goes (a killed gateway). Planning reads the feed after
 * `delivery_head` and, in the same transaction that moves the head, stores
 * one delivery per endpoint that the event is for, with the organisation's
 * view as its content: a crash loses nothing and plans nothing twice.
 * Sending takes each endpoint's oldest pending delivery; an endpoint waits
 * only for itself (one attempt in flight each, bounded by the timeout), so
 * a slow or dead receiver delays no other endpoint, and nothing here is on
 * the live stream's path. A crash between a receiver's answer and the
 * record of it sends that delivery again, with the same id.
 */
export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { pool, logger, channels, metrics } = options;
  const log = logger.child({ component: 'delivery' });
  let closed = false;
  let lastPrune = 0;
  const sleep = new Wakeable();
  const wake = () => sleep.wake();
  const leadership = advisoryLeadership({
    databaseUrl: options.databaseUrl,
    lockKey: DELIVERY_LEADER_LOCK,
    applicationName: 'renkei-delivery',
    logger: log,
    onChange: wake,
  });
  const inFlight = new Map<string, Promise<void>>();
  const closing = new AbortController();
  // Counts finished attempts. A read of the queue that began before an
  // endpoint's attempt finished shows that attempt's delivery as it was
  // before; such an endpoint waits for the next read rather than repeat it.
  let finishedCount = 0;
  const finishedAt = new Map<string, number>();

  /** Plans deliveries for one batch of feed events; true when there may be more. */
  const plan = () =>
    withTransaction(pool, async (db) => {
      const head = await lockDeliveryHead(db);
      const targets = await planningTargets(db);
      if (targets.length === 0) return false;
      // No endpoint wants anything up to the youngest start: planning goes on from there.
      const earliest = targets.reduce(
        (least, { endpoint }) =>
          BigInt(endpoint.startPosition) < least ? BigInt(endpoint.startPosition) : least,
        BigInt(targets[0]!.endpoint.startPosition),
      );
      const from = BigInt(head) > earliest ? BigInt(head) : earliest;
      const events = await readFeed(db, from.toString(), PLAN_BATCH);
      if (events.length === 0) {
        if (from > BigInt(head)) await setDeliveryHead(db, from.toString());
        return false;
      }
      if (BigInt(events[0]!.position) > from + 1n) {
        // Retention removed events no gateway had planned (every gateway was down longer than the feed keeps).
        log.warn(
          { from: from.toString(), resumeFrom: events[0]!.position },
          'feed events were forgotten before delivery',
        );
      }
      const planned: PlannedDelivery[] = [];
      for (const event of events) {
        for (const { endpoint, organisation } of targets) {
          if (BigInt(event.position) <= BigInt(endpoint.startPosition)) continue;
          const content = deliveryContent(endpoint.send, organisation, event);
          if (content)
            planned.push({ id: randomUUID(), endpointId: endpoint.id, position: event.position, content });
        }
      }
      await insertDeliveries(db, planned);
      await setDeliveryHead(db, events.at(-1)!.position);
      if (planned.length > 0)
        log.debug({ from: events[0]!.position, planned: planned.length }, 'deliveries planned');
      return events.length === PLAN_BATCH;
    });

  const deliver = async (due: DueDelivery) => {
    const attempt = due.attempts + 1;
    const outcome = await attemptOnce(
      channels,
      due.endpoint,
      due.id,
      due.language,
      { type: 'event', content: due.content },
      closing.signal,
    );
    // Cut short by closing: not an attempt the receiver failed. It stays pending and goes again,
    // with its id, from whichever gateway leads next.
    if (closing.signal.aborted && !outcome.ok) return;
    const first = due.firstAttemptAt ? Date.parse(due.firstAttemptAt) : outcome.at.getTime();
    const retryAt = outcome.ok ? null : nextAttemptAt(options.retry, first, attempt, Date.now());
    await recordAttempt(pool, due.id, attempt, outcome, retryAt === null ? null : new Date(retryAt));
    const endpointLabel = { endpoint: due.endpoint.id };
    metrics?.deliveryAttempts.inc({ ...endpointLabel, outcome: outcome.ok ? 'ok' : 'error' });
    const facts = {
      deliveryId: due.id,
      endpointId: due.endpoint.id,
      attempt,
      statusCode: outcome.statusCode,
      latencyMs: outcome.latencyMs,
    };
    if (outcome.ok) log.info(facts, 'delivered');
    else if (retryAt === null) {
      metrics?.deliveryFailures.inc(endpointLabel);
      log.warn({ ...facts, error: outcome.error }, 'delivery failed: retry period over, giving up');
    } else
      log.info(
        { ...facts, error: outcome.error, retryAt: new Date(retryAt).toISOString() },
        'delivery attempt failed',
      );
  };

  /** Starts every due delivery whose endpoint is idle; returns when the next one falls due. */
  const dispatch = async (): Promise<number> => {
    const readAt = finishedCount;
    const due = await nextDeliveries(pool);
    const now = Date.now();
    let nextDue = Number.POSITIVE_INFINITY;
    if (metrics) {
      const endpoints = await listEndpoints(pool, null);
      // Reset and set in one synchronous step, so a scrape never sees the gauge half-written.
      metrics.deliveryLag.reset();
      for (const endpoint of endpoints) metrics.deliveryLag.set({ endpoint: endpoint.id }, 0);
      for (const delivery of due)
        metrics.deliveryLag.set(
          { endpoint: delivery.endpoint.id },
          (now - Date.parse(delivery.createdAt)) / 1000,
        );
    }
    for (const delivery of due) {
      const endpointId = delivery.endpoint.id;
      if (inFlight.has(endpointId) || (finishedAt.get(endpointId) ?? -1) >= readAt) continue;
      const at = Date.parse(delivery.nextAttemptAt);
      if (at > now) {
        nextDue = Math.min(nextDue, at);
        continue;
      }
      const running = deliver(delivery)
        .catch((error: unknown) =>
          log.warn({ err: error, deliveryId: delivery.id }, 'delivery attempt not recorded'),
        )
        .finally(() => {
          finishedAt.set(endpointId, finishedCount);
          finishedCount += 1;
          inFlight.delete(endpointId);
          wake();
        });
      inFlight.set(endpointId, running);
    }
    return nextDue - now;
  };

  const loop = async () => {
    let failures = 0;
    while (!closed) {
      sleep.beginRound();
      let wait = options.pollEveryMs;
      try {
        // Leading holds a connection of its own: only worth it while some endpoint exists (a hub
        // without any, and every test suite that starts gateways, spends no connection on it).
        if (!(await hasLiveEndpoints(pool))) {
          if (leadership.isLeading()) {
            await leadership.stepDown();
            metrics?.deliveryLag.reset();
            log.info('no delivery endpoints: not leading delivery');
          }
        } else if (!leadership.isLeading() && (await leadership.tryToLead())) log.info('leading delivery');
        if (leadership.isLeading()) {
          while (!closed && (await plan()));
          wait = Math.max(10, Math.min(wait, await dispatch()));
        }
        if (Date.now() - lastPrune > 3_600_000) {
          lastPrune = Date.now();
          const pruned = await pruneDeliveries(pool, options.retentionMs);
          if (pruned > 0) log.info({ pruned }, 'old deliveries forgotten');
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures === 1) log.warn({ err: error }, 'delivery round failed; retrying');
        await leadership.stepDownIfLost();
        wait = Math.min(options.pollEveryMs * 2 ** Math.min(failures, 5), 30_000);
      }
      await sleep.pause(wait);
    }
    await Promise.allSettled(inFlight.values());
    await leadership.stepDown();
  };

  const running = loop();
  return {
    isLeader: () => leadership.isLeading(),
    wake,
    async close() {
      closed = true;
      sleep.close();
      // A receiver that is slow to answer must not hold the gateway's shutdown for DELIVERY_TIMEOUT_MS.
      closing.abort();
      await running;
    },
  };
}
