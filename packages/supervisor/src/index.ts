export { DEFAULT_BACKOFF, failuresInRow, restartDelay, type BackoffPolicy } from './backoff.js';
export { supervisorFiles } from './paths.js';
export {
  readState,
  serviceStateSchema,
  supervisorStateSchema,
  writeState,
  type ServiceState,
  type SupervisorState,
} from './state.js';
export { describeStatus, type Readiness } from './status.js';
export {
  startSupervisor,
  type SupervisedService,
  type Supervisor,
  type SupervisorOptions,
} from './supervisor.js';
