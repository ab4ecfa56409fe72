export { createLogger, type Logger } from './logger.js';
export {
  ERROR_CODES,
  RenkeiError,
  isRenkeiError,
  type ErrorCode,
  type HttpErrorCode,
  type RenkeiErrorOptions,
} from './errors.js';
export {
  LIFECYCLE_CHANNEL,
  publishLifecycleStep,
  ReleaseStack,
  runService,
  runUntilSignalled,
  serviceHandle,
  ServiceOutcome,
  type Closable,
  type LifecycleStep,
  type Release,
  type RunOptions,
  type ServiceHandle,
} from './lifecycle.js';
export { REPOSITORY_ROOT, stateDirectory } from './paths.js';
export { missingDependencies, watchDependency, type DependencyWatch, type ReadinessCheck } from './watch.js';
export { Wakeable } from './wakeable.js';
