export {
  appendAlertVersionsToFeed,
  appendToFeed,
  FEED_CHANNEL,
  feedBounds,
  OUTBOX_CHANNEL,
  pruneFeed,
  readFeed,
  sequenceOutbox,
  type FeedBounds,
  type FeedEntry,
} from './queries.js';
export { startFeedRelay, type FeedRelay, type FeedRelayOptions } from './relay.js';
export { startFeedFollower, type FeedFollower, type FeedFollowerOptions } from './follower.js';
