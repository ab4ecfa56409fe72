export {
  checkRetentionEnv,
  DAY_MS,
  HOUR_MS,
  RETENTION_CLASSES,
  retentionEnv,
  retentionSettings,
  type RetentionClass,
  type RetentionSettings,
} from './settings.js';
export {
  classOf,
  cutoffsAt,
  feedPurgeBound,
  isExpired,
  isOpen,
  oldestKeptRunCreatedAt,
  REPORTS_TOPIC_REBUILD_MS,
  topicRetentionMs,
  type Cutoffs,
  type FeedEventFacts,
  type Horizon,
  type RowFacts,
  type RunState,
  type TriageStatus,
} from './rules.js';
export {
  purgeAuditClass,
  RETENTION_ACTOR,
  runPurgePass,
  startRetention,
  type AuditPurgeOutcome,
  type ClassOutcome,
  type PassOutcome,
  type PurgeOptions,
  type RetentionRunner,
} from './purge.js';
export { countDue, readLastRuns, readOldest, readRetentionStatus, type ClassStatus, type LastRun } from './status.js';
