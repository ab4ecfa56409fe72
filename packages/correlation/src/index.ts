export { nameBasedId, RENKEI_ID_NAMESPACE } from './ids.js';
export { highestSeverity, mostRestrictiveTlp } from './order.js';
export { DEFAULT_CORRELATION_SETTINGS, sightingLimit, type CorrelationSettings } from './settings.js';
export { alertIdFor, correlationKeys, exerciseScope, lockKeys } from './keys.js';
export type { Bounded, CorrelationState, ReportFacts, Sighting, WatchlistEntry } from './state.js';
export {
  applyDelta,
  compareReports,
  describeAlert,
  spreadSeverity,
  type AlertDelta,
  type AlertSubject,
  type AlertWords,
  type AlertWrite,
} from './build.js';
export {
  backfillWatchlistEntry,
  correlateReport,
  END_OF_TIME_MS,
  overCap,
  surgeDay,
  surgeDaysAround,
  surgeIsFull,
  surgeMembers,
  watchlistCovers,
  type CorrelationOutcome,
  type IncomingReport,
} from './engine.js';
export { MemoryCorrelationState } from './memory.js';
export { chunkWrites, correlateChunk, detectedWithin, type ChunkBase } from './chunk.js';
