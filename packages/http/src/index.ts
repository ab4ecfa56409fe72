export {
  createHttpApp,
  MAX_BODY_BYTES,
  websocketErrorLevel,
  type HttpApp,
  type HttpAppOptions,
  type HttpServer,
} from './app.js';
export {
  errorReplySchema,
  installErrorReplies,
  invalidField,
  invalidRequest,
  toErrorReply,
  type ErrorReply,
  type TransientErrorTest,
} from './errors.js';
export { findUnstorableText } from './json-body.js';
export { errorReplies } from './replies.js';
export { annotateRequest } from './annotations.js';
export { normaliseOrigin, originListSchema } from './origins.js';
