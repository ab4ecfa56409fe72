export {
  authorizationHeader,
  CREDENTIALS_KEY_PURPOSE,
  openCredentials,
  sealCredentials,
} from './credentials.js';
export { feedGetJson, type FeedHttpOptions } from './http.js';
export {
  feedCheckpointSchema,
  FeedPollError,
  laterTimestamp,
  mispEventsToFetch,
  pollMisp,
  pollTaxii,
  TAXII_ACCEPT,
  taxiiObjectsUrl,
  type FeedCheckpoint,
  type FetchedJson,
  type GetJson,
  type ImportOutcome,
  type MispPollOptions,
  type PollResult,
  type TaxiiPollOptions,
} from './poll.js';
export {
  deleteFeed,
  findFeed,
  insertFeed,
  listFeeds,
  PARTNER_FEEDS_CHANNEL,
  recordPoll,
  requestSync,
  type NewFeed,
  type PollRecord,
  type StoredFeed,
} from './queries.js';
export {
  DEFAULT_BACKOFF,
  isDue,
  nextPollAfterFailure,
  nextPollAfterSuccess,
  type BackoffPolicy,
  type DueInput,
} from './schedule.js';
