export { MAX_MISP_ATTRIBUTES, importMispEvent } from './import.js';
export type {
  MispAttributeOutcome,
  MispImportError,
  MispImportOptions,
  MispImportResult,
  MispImportedReport,
  MispReason,
  MispReasonCode,
  MispReportRefusalCode,
} from './types.js';
