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
export {
  exportStixBundle,
  type StixBundle,
  type StixExport,
  type StixExportInput,
  type StixIdentityInput,
  type StixObject,
  type StixReportView,
} from './export.js';
export { validateStixBundle, type StixValidation, type StixValidationIssue } from './validate.js';
export { mapPattern, type PatternMapping } from './pattern/map.js';
export { formatPattern } from './pattern/write.js';
export {
  importedReportId,
  partKey,
  reportParts,
  UNVERSIONED,
  type ImportIds,
  type ReportParts,
  type SourceNaming,
} from './ids.js';
export { TLP1_MARKING_IDS, TLP2_MARKING_IDS, tlpMarkingDefinition } from './tlp.js';
export * from './limits.js';
