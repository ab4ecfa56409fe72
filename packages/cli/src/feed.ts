import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  describeIssues,
  fieldIssues,
  partnerFeedCredentialsSchema,
  partnerFeedListSchema,
  partnerFeedSchema,
  partnerFeedSubmissionSchema,
  partnerFeedSyncAnswerSchema,
  type PartnerFeed,
} from '@renkei/schema';
import { CommandFailure, describeError, tokenFrom } from './interop.js';
import { gatewayCall } from './gateway-call.js';
import { UsageError } from './usage.js';

export const FEED_USAGE = `  feed add taxii|misp --name NAME --url URL --org ORG --tlp TLP [--interval SECONDS] [--credentials-file FILE]
        register a partner feed (admin token): a TAXII 2.1 collection URL (…/collections/<id>/) or a MISP
        feed directory (where manifest.json is); what it brings becomes ORG's reports, TLP declared for what
        it leaves unmarked; FILE holds {"kind":"bearer","token":…} or {"kind":"basic","username":…,"password":…}
  feed list [--json]
        every partner feed: id, kind, partner, lag, failures, last error (credentials only as "set")
  feed remove ID
        stop pulling the feed; what it brought stays
  feed sync ID [--no-wait] [--timeout SECONDS]
        poll the feed now and wait for that poll's outcome
        (all: an admin's --token or $RENKEI_TOKEN; the gateway at --gateway-url or $RENKEI_GATEWAY_URL)`;

export interface FeedIo {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** `renkei feed …`: partner feeds, through the gateway's admin routes (so every change is validated and audited there). */
export async function feedCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: FeedIo = {},
): Promise<string> {
  const [action, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        name: { type: 'string' },
        org: { type: 'string' },
        tlp: { type: 'string' },
        interval: { type: 'string' },
        'credentials-file': { type: 'string' },
        'gateway-url': { type: 'string' },
        json: { type: 'boolean', default: false },
        'no-wait': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '120' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${FEED_USAGE}`);
  }
  const { values, positionals } = parsed;
  const token = tokenFrom(values.token, env);
  const base = values['gateway-url'] ?? env.RENKEI_GATEWAY_URL ?? 'http://127.0.0.1:7401';
  const request = async (method: string, route: string, body?: unknown) => {
    const { status, text } = await gatewayCall(io.fetch, new URL(route, base), token, method, body);
    const payload: unknown = text ? JSON.parse(text) : undefined;
    return { status, payload };
  };
  const one = (what: string) => {
    if (positionals.length !== 1) throw new UsageError(`feed ${what}: give one feed id\n\n${FEED_USAGE}`);
    return positionals[0]!;
  };

  switch (action) {
    case 'add': {
      if (positionals.length !== 1) throw new UsageError(`feed add: taxii or misp\n\n${FEED_USAGE}`);
      // --url is the feed's; the gateway is --gateway-url here.
      const credentials = values['credentials-file']
        ? await readCredentials(values['credentials-file'])
        : undefined;
      const submission = partnerFeedSubmissionSchema.safeParse({
        kind: positionals[0],
        name: values.name,
        url: values.url,
        organisationId: values.org,
        defaultTlp: values.tlp,
        ...(values.interval === undefined ? {} : { pollIntervalSeconds: Number(values.interval) }),
        ...(credentials ? { credentials } : {}),
      });
      if (!submission.success) {
        throw new UsageError(describeIssues(fieldIssues(submission.error).map(asOption)));
      }
      const { status, payload } = await request('POST', '/v1/feeds', submission.data);
      if (status !== 201) throw new CommandFailure(describeError(status, payload));
      const feed = partnerFeedSchema.parse(payload);
      return `added feed ${feed.id} (${feed.kind}, for ${feed.organisationId}, ${feed.defaultTlp} unless marked); the first poll starts now`;
    }
    case 'list': {
      const { status, payload } = await request('GET', '/v1/feeds');
      if (status !== 200) throw new CommandFailure(describeError(status, payload));
      const { items } = partnerFeedListSchema.parse(payload);
      if (values.json) return JSON.stringify({ items }, null, 2);
      return formatFeeds(items);
    }
    case 'remove': {
      const id = one('remove');
      const { status, payload } = await request('DELETE', `/v1/feeds/${encodeURIComponent(id)}`);
      if (status !== 204) throw new CommandFailure(describeError(status, payload));
      return `removed feed ${id}`;
    }
    case 'sync': {
      const id = one('sync');
      const timeoutSeconds = Number(values.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
        throw new UsageError('--timeout: a number of seconds, more than 0');
      }
      const { status, payload } = await request('POST', `/v1/feeds/${encodeURIComponent(id)}/sync`);
      if (status !== 202) throw new CommandFailure(describeError(status, payload));
      const { requestedAt } = partnerFeedSyncAnswerSchema.parse(payload);
      if (values['no-wait']) return `poll of feed ${id} asked for at ${requestedAt}`;
      const deadline = Date.now() + timeoutSeconds * 1000;
      const sleep = io.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
      for (;;) {
        const listed = await request('GET', '/v1/feeds');
        if (listed.status !== 200) throw new CommandFailure(describeError(listed.status, listed.payload));
        const feed = partnerFeedListSchema.parse(listed.payload).items.find((f) => f.id === id);
        if (!feed) throw new CommandFailure(`feed ${id} was removed meanwhile`);
        const { status: state } = feed;
        // Served once a poll that began after the request has ended: compared on the database's
        // clock alone (the request's time, as that poll read it), so skew between hosts does not matter.
        if (!state.syncPending) {
          const summary = `polled feed ${id}: ${state.itemsRead} items read and ${state.reportsAccepted} reports accepted since it was added`;
          if (state.consecutiveFailures > 0) {
            throw new CommandFailure(
              `${summary}; this poll failed (${state.consecutiveFailures} in a row): ${state.lastError}`,
            );
          }
          return state.lastError ? `${summary}\n${state.lastError}` : summary;
        }
        if (Date.now() > deadline) {
          throw new CommandFailure(
            `feed ${id} was not polled within ${timeoutSeconds} s: is ingest running? (the poll was asked for)`,
          );
        }
        await sleep(500);
      }
    }
    default:
      throw new UsageError(`feed: unknown action ${JSON.stringify(action ?? '')}\n\n${FEED_USAGE}`);
  }
}

/** A schema field as the option that sets it. */
function asOption(issue: { field: string; message: string }) {
  const options: Record<string, string> = {
    kind: 'taxii|misp',
    organisationId: '--org',
    defaultTlp: '--tlp',
    pollIntervalSeconds: '--interval',
    name: '--name',
    url: '--url',
  };
  const field = issue.field.startsWith('credentials')
    ? '--credentials-file'
    : (options[issue.field] ?? issue.field);
  return { ...issue, field };
}

async function readCredentials(file: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--credentials-file: ${(error as Error).message}`);
  }
  const credentials = partnerFeedCredentialsSchema.safeParse(parsed);
  if (!credentials.success) {
    throw new UsageError(
      describeIssues(
        fieldIssues(credentials.error).map((issue) => ({
          ...issue,
          field: `--credentials-file ${issue.field}`,
        })),
      ),
    );
  }
  return credentials.data;
}

/** One line per feed, for people. */
export function formatFeeds(feeds: readonly PartnerFeed[]): string {
  if (feeds.length === 0) return 'no partner feeds';
  return feeds
    .map((feed) =>
      [
        feed.id,
        feed.kind,
        feed.organisationId,
        feed.defaultTlp,
        `every ${feed.pollIntervalSeconds}s`,
        `lag ${feed.status.lagSeconds}s`,
        `failures ${feed.status.consecutiveFailures}`,
        `reports ${feed.status.reportsAccepted}`,
        feed.credentials ? `credentials ${feed.credentials.kind} set` : 'no credentials',
        feed.url,
        feed.status.lastError ? `error: ${feed.status.lastError}` : '',
      ]
        .filter(Boolean)
        .join('\t'),
    )
    .join('\n');
}
