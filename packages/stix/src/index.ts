export { importStixBundle } from './import/import.js';
export type {
  StixImportError,
  StixImportOptions,
  StixImportResult,
  StixImportedReport,
  StixObjectOutcome,
  StixReason,
  StixReasonCode,
  StixReportSource,
} from './import/types.js';
export { mapPattern, type PatternMapping } from './pattern/map.js';
export { TLP1_MARKING_IDS, TLP2_MARKING_IDS, tlpMarkingDefinition } from './tlp.js';
export * from './limits.js';
