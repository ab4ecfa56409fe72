import type { Queryable } from '@renkei/db';
import {
  reportExportFilter,
  warningSectorFilter,
  type ExportReader,
  type TaxiiAudience,
} from '@renkei/policy';
import {
  listAlertSources,
  listReportSources,
  listWarningSources,
  type SourceFilter,
} from '../queries/exports.js';
import type { ExportSources } from './build.js';

/**
 * The stored items an export may draw on, oldest first after `since`, at most
 * `limit` of each kind, pre-filtered only as the policy allows (each item is
 * still judged by the policy when the bundle is built). A collection reads
 * only the kinds it can hold.
 */
export async function loadExportSources(
  db: Queryable,
  reader: ExportReader,
  filter: SourceFilter,
  audience?: TaxiiAudience,
): Promise<{ sources: ExportSources; nextSince: string | null }> {
  const wants = {
    reports: !audience || ['public', 'community', 'organisation'].includes(audience.kind),
    alerts: reader !== null && (!audience || audience.kind === 'community'),
    warnings: !audience || audience.kind === 'public' || audience.kind === 'sector',
  };
  const empty = { items: [], more: false };
  const reportFilter = reportExportFilter(reader);
  const warningFilter = reader === null ? 'all' : warningSectorFilter(reader);
  const [reports, alerts, warnings] = await Promise.all([
    wants.reports
      ? listReportSources(db, {
          ...filter,
          organisationId: reportFilter.all ? null : reportFilter.organisationId,
          tlps: reportFilter.all ? null : reportFilter.tlps,
        })
      : empty,
    wants.alerts ? listAlertSources(db, filter) : empty,
    wants.warnings && warningFilter !== 'none'
      ? listWarningSources(db, {
          ...filter,
          sector: warningFilter === 'all' ? null : warningFilter.sector,
        })
      : empty,
  ]);
  // Where to go on from: the earliest last item among the kinds that had more. Items
  // of other kinds after it come again on the next page, with the same ids.
  const lasts = [reports, alerts, warnings as { items: { addedAt: string }[]; more: boolean }]
    .filter((kind) => kind.more)
    .map((kind) => kind.items.at(-1)!.addedAt)
    .sort();
  return {
    sources: { reports: reports.items, alerts: alerts.items, warnings: warnings.items },
    nextSince: lasts[0] ?? null,
  };
}
