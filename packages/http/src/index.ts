export { createHttpApp, MAX_BODY_BYTES, type HttpApp, type HttpAppOptions } from './app.js';
export { installErrorReplies, invalidRequest, toErrorReply, type ErrorReply } from './errors.js';
