import type { Queryable } from '@renkei/db';
import {
  alertForExport,
  audienceAdmits,
  reportAuthorship,
  reportExportFilter,
  seesEveryVersion,
  viewedVersion,
  warningSectorFilter,
  warningForExport,
  type ExportReader,
  type TaxiiAudience,
} from '@renkei/policy';
import type { AlertRecord } from '@renkei/schema';
import { breather } from '../breather.js';
import {
  readAlertCandidates,
  readReportCandidates,
  readWarningCandidates,
  type AlertSource,
  type CandidateRead,
  type ReportSource,
  type SourceFilter,
  type SourceKey,
  type SourcePage,
  type WarningSource,
} from '../queries/exports.js';
import type { ExportSources } from './build.js';

/** Candidates read per query: a reader who may see few of them reads several batches. */
const BATCH = 500;

/**
 * The items an export holds for this reader (in this collection, when one is
 * given), oldest first after `since`, at most `limit` of each kind, each at
 * the time the reader's own view of it was added, and where to go on from.
 *
 * Everything here is computed from what the reader receives: SQL reads
 * candidates (pre-filtered only as the policy allows), the policy keeps what
 * the reader may see, and the page, its `more` and `nextSince` come from the
 * kept items alone. An alert is kept at the version that last changed the
 * reader's view (`viewedVersion`), so a report the reader may not know of
 * joining it moves nothing: not its time, not the page, not the header.
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
  const pause = breather();
  const records = new Map<string, AlertRecord>();

  const [reports, alerts, warnings] = await Promise.all([
    wants.reports
      ? viewerPage<ReportSource & { key: SourceKey }, ReportSource>(
          (read) =>
            readReportCandidates(db, {
              ...read,
              organisationId: reportFilter.all ? null : reportFilter.organisationId,
              tlps: reportFilter.all ? null : reportFilter.tlps,
            }),
          ({ key: _key, ...report }) => {
            if (reportAuthorship(reader, report) === null) return null;
            if (audience && !audienceAdmits(audience, { kind: 'report', ...report })) return null;
            return report;
          },
          filter,
          pause,
        )
      : empty,
    wants.alerts && reader !== null
      ? viewerPage(
          (read) => readAlertCandidates(db, { ...read, latestOnly: seesEveryVersion(reader), records }),
          ({ record, version, at }): AlertSource | null => {
            // Each alert once, at the version that last changed this reader's view.
            if (viewedVersion(reader, record) !== version) return null;
            const view = alertForExport(reader, record);
            if (view === null) return null;
            if (audience && !audienceAdmits(audience, { kind: 'alert', tlp: view.tlp })) return null;
            return { record, addedAt: at };
          },
          filter,
          pause,
        )
      : empty,
    wants.warnings && warningFilter !== 'none'
      ? viewerPage(
          (read) =>
            readWarningCandidates(db, {
              ...read,
              sector: warningFilter === 'all' ? null : warningFilter.sector,
            }),
          ({ record, addedAt }): WarningSource | null => {
            const view = warningForExport(reader, record);
            if (view === null) return null;
            if (
              audience &&
              !audienceAdmits(audience, { kind: 'warning', tlp: view.tlp, sectors: view.sectors })
            )
              return null;
            return { record, addedAt };
          },
          filter,
          pause,
        )
      : empty,
  ]);
  // Where to go on from: the earliest last item among the kinds that had more. Items
  // of other kinds after it come again on the next page, with the same ids.
  const lasts = [reports, alerts, warnings as SourcePage<{ addedAt: string }>]
    .filter((kind) => kind.more)
    .map((kind) => kind.items.at(-1)!.addedAt)
    .sort();
  return {
    sources: { reports: reports.items, alerts: alerts.items, warnings: warnings.items },
    nextSince: lasts[0] ?? null,
  };
}

/**
 * The reader's page of one kind: candidates read in order, a batch at a
 * time, each kept or not by `keep`, until `limit` are kept or the
 * candidates run out. `more` says a kept item follows, never a candidate
 * the reader may not see. A page never ends inside a millisecond: readers
 * go on from the last time they saw, so kept items sharing the page's last
 * millisecond (a chunk of reports stored in one transaction shares its time)
 * would never be read; the page takes them all instead.
 */
export async function viewerPage<Candidate extends { key: SourceKey }, Item extends { addedAt: string }>(
  read: (read: CandidateRead) => Promise<Candidate[]>,
  keep: (candidate: Candidate) => Item | null,
  { since, limit }: SourceFilter,
  pause: () => Promise<void> | undefined = () => undefined,
  batch = BATCH,
): Promise<SourcePage<Item>> {
  const items: Item[] = [];
  let after: SourceKey | null = null;
  for (;;) {
    const candidates = await read({ since, after, size: batch });
    for (const candidate of candidates) {
      // The policy's replay of a large alert is CPU work: others get their turn between items.
      const paused = pause();
      if (paused) await paused;
      const item = keep(candidate);
      if (item === null) continue;
      if (items.length >= limit && item.addedAt !== items.at(-1)!.addedAt) return { items, more: true };
      items.push(item);
    }
    if (candidates.length < batch) return { items, more: false };
    after = candidates.at(-1)!.key;
  }
}
