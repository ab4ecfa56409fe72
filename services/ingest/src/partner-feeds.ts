import { advisoryLeadership, type Pool } from '@renkei/db';
import type { HubMetrics } from '@renkei/metrics';
import {
  feedGetJson,
  FeedPollError,
  isDue,
  listFeeds,
  nextPollAfterFailure,
  nextPollAfterSuccess,
  openCredentials,
  PARTNER_FEEDS_CHANNEL,
  pollMisp,
  pollTaxii,
  recordPoll,
  type BackoffPolicy,
  type ImportOutcome,
  type PollResult,
  type StoredFeed,
} from '@renkei/partner-feeds';
import type { OrganisationRegistry } from '@renkei/registry';
import { isRenkeiError, Wakeable, type Closable, type Logger } from '@renkei/runtime';
import type { ImportAnswer, Principal } from '@renkei/schema';
import { asBundle, importMisp, importStix, type ImportDeps } from './routes/imports.js';

// Any fixed number; the same in every ingest of the hub.
const PARTNER_FEEDS_LEADER_LOCK = 0x50464544; // "PFED"

export interface PartnerFeedPollerOptions {
  pool: Pool;
  /** The leader's lock and LISTEN connection (ingest's own role). */
  databaseUrl: string;
  logger: Logger;
  metrics?: HubMetrics;
  registry: Pick<OrganisationRegistry, 'get'>;
  /** The same batcher and import-id key as `POST /v1/stix/bundles` and `POST /v1/misp/events`. */
  imports: ImportDeps;
  /** `deriveHubKey(secret, CREDENTIALS_KEY_PURPOSE)`: opens what the gateway sealed. */
  credentialsKey: Uint8Array;
  /** How often the feeds are read to find those due (a sync or a new feed wakes it sooner). */
  checkEveryMs: number;
  backoff: BackoffPolicy;
  http: { timeoutMs: number; maxBytes: number };
  /** TAXII: objects per page asked for, and per poll at most. */
  pageLimit: number;
  maxObjects: number;
  /** MISP: events per poll at most. */
  maxEvents: number;
}

/**
 * Polls partner feeds (issue 21, item 7) in ingest, the one service whose
 * Kafka principal may write the reports topic: what a feed brings is imported
 * exactly as a push of the same data by the partner organisation would be,
 * with the feed's default TLP declared. One ingest of the hub leads the
 * polling (an advisory lock), so two ingests never poll a feed twice at
 * once; another takes over when it stops. It leads only while a feed exists.
 */
export function startPartnerFeedPoller(options: PartnerFeedPollerOptions): Closable & { wake(): void } {
  const log = options.logger.child({ component: 'partner-feeds' });
  const sleep = new Wakeable();
  const wake = () => sleep.wake();
  const closing = new AbortController();
  let closed = false;
  const leadership = advisoryLeadership({
    databaseUrl: options.databaseUrl,
    lockKey: PARTNER_FEEDS_LEADER_LOCK,
    applicationName: 'renkei-partner-feeds',
    logger: log,
    onChange: wake,
    listen: PARTNER_FEEDS_CHANNEL,
  });
  const known = new Set<string>();

  const observe = (feeds: readonly StoredFeed[]) => {
    const metrics = options.metrics;
    if (!metrics) return;
    const now = new Set(feeds.map((feed) => feed.view.id));
    for (const id of known) {
      if (!now.has(id)) {
        metrics.partnerFeedLag.remove({ feed: id });
        metrics.partnerFeedFailures.remove({ feed: id });
        known.delete(id);
      }
    }
    for (const { view } of feeds) {
      known.add(view.id);
      metrics.partnerFeedLag.set({ feed: view.id }, view.status.lagSeconds);
      metrics.partnerFeedFailures.set({ feed: view.id }, view.status.consecutiveFailures);
    }
  };

  const pollOne = async (feed: StoredFeed): Promise<void> => {
    const { view } = feed;
    const feedLog = log.child({ feedId: view.id, kind: view.kind });
    const syncServed = view.status.syncPending ? feed.syncRequestedAt : null;
    let result: PollResult | undefined;
    let failure: unknown;
    try {
      result = await pollFeed(feed);
      failure = result.error;
    } catch (error) {
      failure = error;
    }
    const polledAt = new Date();
    const failed = failure !== undefined;
    const failures = failed ? feed.consecutiveFailures + 1 : 0;
    const refused = result?.refused ?? [];
    const lastError = failed
      ? describe(failure)
      : refused.length > 0
        ? `refused ${refused.length}: ${refused.slice(0, 3).join('; ')}`.slice(0, 2000)
        : null;
    await recordPoll(options.pool, {
      feedId: view.id,
      checkpoint: result?.checkpoint ?? null,
      polledAt,
      succeeded: !failed,
      nextPollAt: failed
        ? nextPollAfterFailure(polledAt, view.pollIntervalSeconds, failures, options.backoff)
        : nextPollAfterSuccess(polledAt, view.pollIntervalSeconds, result?.more),
      consecutiveFailures: failures,
      lastError,
      syncServed,
      itemsRead: result?.itemsRead ?? 0,
      reportsAccepted: result?.reportsAccepted ?? 0,
    });
    options.metrics?.partnerFeedPolls.inc({ feed: view.id, outcome: failed ? 'failure' : 'success' });
    if (result?.reportsAccepted)
      options.metrics?.partnerFeedReports.inc({ feed: view.id }, result.reportsAccepted);
    const summary = {
      itemsRead: result?.itemsRead ?? 0,
      reportsAccepted: result?.reportsAccepted ?? 0,
      reportsAlreadyAccepted: result?.reportsAlreadyAccepted ?? 0,
      refused: refused.length,
    };
    if (failed) feedLog.warn({ err: failure, failures, ...summary }, 'partner feed poll failed: backing off');
    else feedLog.info({ ...summary, more: result?.more ?? false }, 'partner feed polled');
  };

  const pollFeed = async (feed: StoredFeed): Promise<PollResult> => {
    const { view } = feed;
    const organisation = options.registry.get(view.organisationId);
    if (!organisation || !organisation.enabled) {
      throw new FeedPollError(`organisation ${view.organisationId} is not registered or is disabled`);
    }
    const getJson = feedGetJson({
      credentials: feed.sealedCredentials
        ? openCredentials(options.credentialsKey, view.id, feed.sealedCredentials)
        : undefined,
      timeoutMs: options.http.timeoutMs,
      maxBytes: options.http.maxBytes,
      signal: closing.signal,
    });
    // The partner organisation as a reporter: what a push of its own would carry.
    const principal: Principal = {
      subject: `partner-feed:${view.id}`,
      organisationId: organisation.id,
      sector: organisation.sector,
      roles: ['reporter'],
    };
    if (view.kind === 'taxii') {
      return pollTaxii({
        collectionUrl: view.url,
        checkpoint: feed.checkpoint,
        getJson,
        pageLimit: options.pageLimit,
        maxObjects: options.maxObjects,
        importObjects: (objects) =>
          outcomeOf(() => importStix(options.imports, principal, asBundle({ objects }), view.defaultTlp)),
      });
    }
    return pollMisp({
      feedUrl: view.url,
      checkpoint: feed.checkpoint,
      getJson,
      maxEvents: options.maxEvents,
      importEvent: (event) => outcomeOf(() => importMisp(options.imports, principal, event, view.defaultTlp)),
    });
  };

  const loop = async () => {
    let failures = 0;
    while (!closed) {
      sleep.beginRound();
      let wait = options.checkEveryMs;
      try {
        const feeds = await listFeeds(options.pool);
        if (feeds.length === 0) {
          if (leadership.isLeading()) {
            await leadership.stepDown();
            observe([]);
            log.info('no partner feeds: not leading their polling');
          }
        } else if (!leadership.isLeading() && (await leadership.tryToLead())) {
          log.info('leading partner feed polling');
        }
        if (leadership.isLeading()) {
          observe(feeds);
          const now = new Date();
          for (const feed of feeds) {
            if (closed) break;
            const due = isDue(
              {
                nextPollAt: feed.nextPollAt ? new Date(feed.nextPollAt) : null,
                syncRequestedAt: feed.syncRequestedAt ? new Date(feed.syncRequestedAt) : null,
                lastSyncServedAt: feed.lastSyncServedAt ? new Date(feed.lastSyncServedAt) : null,
              },
              now,
            );
            if (due) await pollOne(feed);
          }
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures === 1) log.warn({ err: error }, 'partner feed round failed; retrying');
        await leadership.stepDownIfLost();
        wait = Math.min(options.checkEveryMs * 2 ** Math.min(failures, 5), 60_000);
      }
      await sleep.pause(wait);
    }
    await leadership.stepDown();
  };

  const running = loop();
  return {
    wake,
    async close() {
      closed = true;
      sleep.close();
      // A partner that is slow to answer must not hold ingest's shutdown.
      closing.abort();
      await running;
    },
  };
}

/** An import's answer as the poll counts it; a refusal (the push's 400 or 422) is the partner's data at fault. */
async function outcomeOf(run: () => Promise<ImportAnswer>): Promise<ImportOutcome> {
  let answer: ImportAnswer;
  try {
    answer = await run();
  } catch (error) {
    if (
      isRenkeiError(error) &&
      (error.code === 'RENKEI_INVALID_REQUEST' || error.code === 'RENKEI_IMPORT_REFUSED')
    ) {
      return { accepted: 0, alreadyAccepted: 0, refused: error.message.slice(0, 500) };
    }
    throw error;
  }
  const refusedReports = answer.reports.filter((r) => r.status === 'refused' || r.status === 'conflict');
  return {
    accepted: answer.reports.filter((r) => r.status === 'accepted').length,
    alreadyAccepted: answer.reports.filter((r) => r.status === 'already-accepted').length,
    ...(refusedReports.length > 0
      ? {
          refused: refusedReports
            .map((r) => `${r.source?.id ?? 'report'}: ${r.reason?.message ?? r.status}`)
            .slice(0, 3)
            .join('; '),
        }
      : {}),
  };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 2000);
}
