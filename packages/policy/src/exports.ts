import {
  SECTORS,
  type AlertRecord,
  type AlertView,
  type Sector,
  type Tlp,
  type WarningRecord,
  type WarningView,
} from '@renkei/schema';
import { TLP_SHARED_WITH_EVERYONE } from './alert-views.js';
import { isAnalyst, isWarningRecipient, viewAlert, viewWarning, type Viewer } from './visibility.js';

/**
 * Who sees what in STIX exports and TAXII collections. A reader is a viewer,
 * or null for an anonymous TAXII reader (only ever given what is CLEAR and
 * meant for everyone).
 */
export type ExportReader = Viewer | null;

/**
 * How a report's author appears in an export: `named` (the reader's own
 * organisation, or any to analysts), `anonymised` (an organisation of its
 * sector: others' CLEAR and GREEN reports), `hidden` (anonymous readers of
 * CLEAR reports learn nothing of who reported).
 */
export type Authorship = 'named' | 'anonymised' | 'hidden';

/** Whether this reader may receive the report in an export, and how its author appears; null: not at all. */
export function reportAuthorship(
  reader: ExportReader,
  report: { organisationId: string; tlp: Tlp },
): Authorship | null {
  if (reader === null) return report.tlp === 'CLEAR' ? 'hidden' : null;
  if (isAnalyst(reader) || reader.organisationId === report.organisationId) return 'named';
  return TLP_SHARED_WITH_EVERYONE.includes(report.tlp) ? 'anonymised' : null;
}

/** The alert as this reader may see it in an export: the same view as everywhere else; none for anonymous readers. */
export function alertForExport(reader: ExportReader, alert: AlertRecord): AlertView | null {
  return reader === null ? null : viewAlert(reader, alert);
}

/** A warning for everyone and CLEAR may go to anonymous readers; otherwise the warning's usual recipients. */
export function warningForExport(reader: ExportReader, warning: WarningRecord): WarningView | null {
  if (reader !== null) return viewWarning(reader, warning);
  if (warning.tlp !== 'CLEAR' || warning.sectors !== 'all') return null;
  const { publishedBy: _publishedBy, ...view } = warning;
  return view;
}

/** Whether organisations contributing to an analyst's alert view are named in its sightings. */
export function namesContributors(reader: ExportReader): boolean {
  return reader !== null && isAnalyst(reader);
}

/**
 * TAXII collections, one per audience: `public` (CLEAR, for everyone — and
 * without a token only when the operator allows it), `community` (what the
 * reader may see that is CLEAR or GREEN), `sector` (warnings for one sector)
 * and `organisation` (the reader's own organisation's reports, every TLP).
 */
export type TaxiiAudience =
  | { kind: 'public' }
  | { kind: 'community' }
  | { kind: 'sector'; sector: Sector }
  | { kind: 'organisation'; organisationId: string };

/** The collections this reader may list and read. */
export function taxiiAudiencesFor(
  reader: ExportReader,
  options: { publicWithoutToken: boolean },
): TaxiiAudience[] {
  if (reader === null) return options.publicWithoutToken ? [{ kind: 'public' }] : [];
  const sectors: readonly Sector[] = isAnalyst(reader)
    ? SECTORS
    : isWarningRecipient(reader)
      ? [reader.sector]
      : [];
  return [
    { kind: 'public' },
    { kind: 'community' },
    ...sectors.map((sector) => ({ kind: 'sector' as const, sector })),
    { kind: 'organisation', organisationId: reader.organisationId },
  ];
}

/** The most restrictive TLP an object of this collection may carry. */
export function audienceCeiling(audience: TaxiiAudience): Tlp {
  switch (audience.kind) {
    case 'public':
      return 'CLEAR';
    case 'community':
      return 'GREEN';
    default:
      return 'RED';
  }
}

/**
 * What of the reader's exportable items belongs in this collection. The
 * reader to ask the per-item rules with is {@link audienceReader}: a public
 * collection is read as an anonymous reader would, whoever holds the token.
 */
export function audienceAdmits(
  audience: TaxiiAudience,
  item:
    | { kind: 'report'; organisationId: string; tlp: Tlp }
    | { kind: 'alert'; tlp: Tlp }
    | { kind: 'warning'; tlp: Tlp; sectors: readonly Sector[] | 'all' },
): boolean {
  switch (audience.kind) {
    case 'public':
      return item.tlp === 'CLEAR' && item.kind !== 'alert';
    case 'community':
      return item.kind !== 'warning' && TLP_SHARED_WITH_EVERYONE.includes(item.tlp);
    case 'sector':
      return item.kind === 'warning' && (item.sectors === 'all' || item.sectors.includes(audience.sector));
    case 'organisation':
      return item.kind === 'report' && item.organisationId === audience.organisationId;
  }
}

/** Who a collection is read as: the public one as an anonymous reader, the others as the reader. */
export function audienceReader(audience: TaxiiAudience, reader: ExportReader): ExportReader {
  return audience.kind === 'public' ? null : reader;
}

/**
 * What SQL may pre-filter reports with for this reader: every report, or
 * those of one organisation plus those at the listed levels. Each row still
 * goes through {@link reportAuthorship}.
 */
export function reportExportFilter(
  reader: ExportReader,
): { all: true } | { all: false; organisationId: string | null; tlps: readonly Tlp[] } {
  if (reader === null) return { all: false, organisationId: null, tlps: ['CLEAR'] };
  if (isAnalyst(reader)) return { all: true };
  return { all: false, organisationId: reader.organisationId, tlps: TLP_SHARED_WITH_EVERYONE };
}
