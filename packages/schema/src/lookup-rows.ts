// The flat form of a lookup answer, one row per value, shared by every place
// that writes it as a table or a file (`renkei lookup --format csv`, the
// console's CSV download), so a spreadsheet gets the same columns from both.
import type { LookupResult } from './search.js';

/** The columns of a lookup row, in file order. */
export const LOOKUP_COLUMNS = [
  'value',
  'type',
  'canonical',
  'known',
  'reports',
  'organisations',
  'first_seen',
  'last_seen',
  'sectors',
  'alerts',
  'suppressed_by',
  'error',
] as const;
export type LookupColumn = (typeof LOOKUP_COLUMNS)[number];

export function lookupRow(result: LookupResult): Record<LookupColumn, string> {
  const { sightings } = result;
  return {
    value: result.value,
    type: result.canonical?.type ?? '',
    canonical: result.canonical?.value ?? '',
    known: result.known ? 'yes' : 'no',
    reports: sightings ? String(sightings.reportCount) : '',
    organisations: sightings
      ? sightings.organisations.length > 0
        ? sightings.organisations.join(' ')
        : String(sightings.organisationCount)
      : '',
    first_seen: sightings?.firstSeen ?? '',
    last_seen: sightings?.lastSeen ?? '',
    sectors: sightings?.sectors.join(' ') ?? '',
    alerts: result.alerts.map((alert) => `${alert.kind}:${alert.id}`).join(' '),
    suppressed_by: result.suppressedBy ?? '',
    error: result.error ?? '',
  };
}

/** RFC 4180: a header line, then one line per value; fields with a comma, quote or line break quoted. */
export function formatLookupCsv(results: readonly LookupResult[]): string {
  const quote = (field: string) => (/[",\r\n]/u.test(field) ? `"${field.replaceAll('"', '""')}"` : field);
  return [
    LOOKUP_COLUMNS.join(','),
    ...results.map((result) => LOOKUP_COLUMNS.map((c) => quote(lookupRow(result)[c])).join(',')),
  ].join('\r\n');
}
