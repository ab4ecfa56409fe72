export { backoffDelay, crowdedDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export {
  createStreamClientWith,
  StreamClientError,
  type Connect,
  type StreamClient,
  type StreamClientErrorCode,
  type StreamClientOptions,
  type StreamEvent,
  type StreamStatus,
  type Transport,
  type TransportHandlers,
} from './client.js';
