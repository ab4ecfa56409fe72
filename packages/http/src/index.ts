export {
  createHttpApp,
  DEFAULT_HTTP_TIMEOUTS,
  DOCS_CONTENT_SECURITY_POLICY,
  httpTimeoutsFrom,
  MAX_BODY_BYTES,
  type HttpApp,
  type HttpAppOptions,
  type HttpServer,
  type HttpTimeouts,
  websocketErrorLevel,
} from './app.js';
export { serveMetrics, type MetricsListener, type MetricsListenerOptions } from './metrics-listener.js';
export {
  errorReplySchema,
  installErrorReplies,
  isClientAbort,
  invalidField,
  invalidRequest,
  toErrorReply,
  type ErrorReply,
  type TransientErrorTest,
} from './errors.js';
export { findUnstorableText, parseJsonText, structureError } from './json-body.js';
export { MAX_JSON_DEPTH, RESERVED_KEYS, scanJsonText, type JsonStructureFinding } from './json-scan.js';
export { errorReplies } from './replies.js';
export { annotateRequest } from './annotations.js';
export { normaliseOrigin, originListSchema } from './origins.js';
