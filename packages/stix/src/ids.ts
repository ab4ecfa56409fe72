import { v5 as uuidv5 } from 'uuid';

/** Namespace of the STIX ids Renkei exports (a fixed random UUID: changing it changes every id). */
export const STIX_EXPORT_NAMESPACE = 'b48d4886-52b6-4fe0-bf29-42fe978876c7';

/** Namespace of the report ids an import gives when the caller asks for name-based ids. */
export const IMPORT_REPORT_NAMESPACE = 'f0e056a8-f1ff-47cc-b148-2d66a13cc42d';

/**
 * A STIX id that depends only on a stable name, so the same view exported
 * twice gives the same object (STIX 2.1 allows UUIDv5 ids for any object).
 */
export function stixId(type: string, name: string): string {
  return `${type}--${uuidv5(name, STIX_EXPORT_NAMESPACE)}`;
}

/** A report id that depends only on who imported what, so a retried import is stored once. */
export function importedReportId(parts: readonly string[]): string {
  // JSON keeps the parts apart whatever they contain.
  return uuidv5(JSON.stringify(parts), IMPORT_REPORT_NAMESPACE);
}
