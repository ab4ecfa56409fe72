export { createLogger, type Logger } from './logger.js';
export {
  ERROR_CODES,
  RenkeiError,
  isRenkeiError,
  type ErrorCode,
  type RenkeiErrorOptions,
} from './errors.js';
export { ReleaseStack, runService, runUntilSignalled, type Closable, type Release } from './lifecycle.js';
export { REPOSITORY_ROOT, stateDirectory } from './paths.js';
