import { z } from 'zod';
import { organisationIdSchema, tlpSchema } from './vocabulary.js';

/**
 * Partner feeds (issue 21, item 7): what the hub pulls from partners on a
 * schedule and imports as the partner organisation's reports. Not the live
 * alert feed (`feed.ts`): that is what the hub pushes to its members.
 */
export const PARTNER_FEED_KINDS = ['taxii', 'misp'] as const;
export const partnerFeedKindSchema = z.enum(PARTNER_FEED_KINDS);
export type PartnerFeedKind = z.infer<typeof partnerFeedKindSchema>;

/**
 * How the hub signs in to the partner: a bearer token (a Renkei hub's token,
 * most TAXII servers' API keys) or HTTP Basic. Stored sealed, never answered.
 */
export const partnerFeedCredentialsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('bearer'), token: z.string().min(1).max(8192) }),
  z.strictObject({
    kind: z.literal('basic'),
    username: z
      .string()
      .min(1)
      .max(256)
      .refine(
        (value) => !value.includes(':'),
        'may not contain ":" (HTTP Basic separates the password with it)',
      ),
    password: z.string().min(1).max(1024),
  }),
]);
export type PartnerFeedCredentials = z.infer<typeof partnerFeedCredentialsSchema>;

/** http or https, no credentials in the URL (they go in `credentials`, where they are sealed and never shown). */
const feedUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'may not carry a user or password: give them as credentials');

/** Between a minute and a day; an hour unless said. */
export const DEFAULT_FEED_POLL_SECONDS = 3600;
const pollIntervalSchema = z.number().int().min(60).max(86_400).default(DEFAULT_FEED_POLL_SECONDS);

const common = {
  name: z.string().trim().min(1).max(200),
  /** The partner organisation (registered here) whose reports the feed's data becomes. */
  organisationId: organisationIdSchema,
  /** The TLP declared for what the partner leaves unmarked; stricter markings inside win. */
  defaultTlp: tlpSchema,
  credentials: partnerFeedCredentialsSchema.optional(),
  pollIntervalSeconds: pollIntervalSchema,
};

/** The body of `POST /v1/feeds`. */
export const partnerFeedSubmissionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('taxii'),
    /** The TAXII 2.1 collection's URL: `…/<api-root>/collections/<id>/`; objects are read under `objects/`. */
    url: feedUrlSchema.refine(
      (value) => /\/collections\/[^/]+\/?$/.test(new URL(value).pathname),
      'must be a TAXII 2.1 collection URL, ending in /collections/<id>/',
    ),
    ...common,
  }),
  z.strictObject({
    kind: z.literal('misp'),
    /** The MISP feed's directory: `manifest.json` and `<event uuid>.json` are read under it. */
    url: feedUrlSchema,
    ...common,
  }),
]);
export type PartnerFeedSubmission = z.input<typeof partnerFeedSubmissionSchema>;
export type ParsedPartnerFeedSubmission = z.output<typeof partnerFeedSubmissionSchema>;

const time = z.iso.datetime({ offset: true });

/** Where a feed's polling stands, as `GET /v1/feeds` shows it. */
export const partnerFeedStatusSchema = z.strictObject({
  /** When the last poll ended (successfully or not); null before the first. */
  lastPollAt: time.nullable(),
  lastSuccessAt: time.nullable(),
  /** When the next poll is due (later after failures: the backoff). */
  nextPollAt: time.nullable(),
  /** Seconds since the last successful poll (since the feed was added, before one): how stale the hub's copy may be. */
  lagSeconds: z.number().int().min(0),
  consecutiveFailures: z.number().int().min(0),
  /** The last poll's error; null once a poll succeeds again. */
  lastError: z.string().nullable(),
  /** TAXII: the `added_after` the next poll sends; MISP: how many events the manifest checkpoint holds. */
  checkpoint: z.strictObject({
    addedAfter: time.nullable(),
    events: z.number().int().min(0),
  }),
  itemsRead: z.number().int().min(0),
  reportsAccepted: z.number().int().min(0),
  /** A `renkei feed sync` not yet served. */
  syncPending: z.boolean(),
});
export type PartnerFeedStatus = z.infer<typeof partnerFeedStatusSchema>;

/** A registered feed. Its credentials are never answered: only that they are set, and of which kind. */
export const partnerFeedSchema = z.strictObject({
  id: z.uuid(),
  kind: partnerFeedKindSchema,
  name: z.string(),
  url: z.string(),
  organisationId: organisationIdSchema,
  defaultTlp: tlpSchema,
  pollIntervalSeconds: z.number().int(),
  credentials: z.strictObject({ kind: z.enum(['bearer', 'basic']), set: z.literal(true) }).nullable(),
  createdBy: z.string(),
  createdAt: time,
  status: partnerFeedStatusSchema,
});
export type PartnerFeed = z.infer<typeof partnerFeedSchema>;

export const partnerFeedListSchema = z.strictObject({ items: z.array(partnerFeedSchema) });

/** The answer to `POST /v1/feeds/:id/sync`. */
export const partnerFeedSyncAnswerSchema = z.strictObject({
  id: z.uuid(),
  requestedAt: time,
});
