import type { PoolClient } from '@renkei/db';
import type { ReportFacts } from '@renkei/correlation';
import type { Observable } from '@renkei/indicators';
import { TLP_LEVELS, type ReportEnvelope, type ReportSource, type Tlp } from '@renkei/schema';

/**
 * One report per source object (docs/INTEROP.md, "One report per source
 * object"). Every version of an imported source (a STIX container, a MISP
 * event) is a report of its own, named from the version, so Kafka, the
 * ledger and redelivery treat it like any report; what makes the versions one
 * report is how their sightings count, decided here under a lock on the
 * source, in the transaction that stores the version:
 *
 * - a version older than one already stored is stale: every sighting of it is
 *   suppressed, so it never raises or joins an alert;
 * - a value some earlier version already made a live sighting of keeps that
 *   sighting, and the new version's own is suppressed, so re-sending or
 *   editing a source never makes an alert count the organisation twice or
 *   gain a version for what it already holds;
 * - once every part of a version is stored, the live sightings of earlier
 *   versions whose value the version no longer carries are withdrawn: they
 *   stop raising and joining alerts from then on (what an alert already holds
 *   stays: contributions only grow, as nothing a viewer was sent is taken back);
 * - a TLP tightened on an earlier version holds for the new one.
 */

export const STALE_VERSION = 'superseded: a later version of its source was stored first';

/** The advisory-lock key of a source: every version and part of it takes it. */
export function sourceLockKey(organisationId: string, source: ReportSource): string {
  return `source:${organisationId}:${source.id}`;
}

export interface SourcedObservable {
  observable: Observable;
  suppressedBy: string | null;
}

/**
 * Decides, under the source's lock and after the report row is inserted,
 * which of the report's observables are suppressed as a version of their
 * source, and raises `report.tlp` (and the stored row's) to the tightest TLP
 * an earlier version holds now. Changes `observables` in place.
 */
export async function judgeVersion(
  db: PoolClient,
  report: ReportFacts,
  source: ReportSource,
  observables: SourcedObservable[],
): Promise<void> {
  const { rows: newer } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM reports
      WHERE organisation_id = $1 AND source_id = $2 AND source_version > $3`,
    [report.organisationId, source.id, source.version],
  );
  if (newer[0]!.n > 0) {
    for (const item of observables) item.suppressedBy ??= STALE_VERSION;
    return;
  }
  const { rows: earlier } = await db.query<{ type: string; value: string; report_id: string }>(
    `SELECT DISTINCT ON (s.type, s.value) s.type, s.value, s.report_id
       FROM reports r JOIN sightings s ON s.report_id = r.id
      WHERE r.organisation_id = $1 AND r.source_id = $2 AND r.source_version < $3
        AND s.suppressed_by IS NULL
      ORDER BY s.type, s.value, r.source_version`,
    [report.organisationId, source.id, source.version],
  );
  const live = new Map(earlier.map((row) => [`${row.type}:${row.value}`, row.report_id]));
  for (const item of observables) {
    const holder = live.get(item.observable.key);
    if (holder !== undefined) item.suppressedBy ??= `earlier version: counted in report ${holder}`;
  }
  const { rows: tlps } = await db.query<{ tlp: Tlp }>(
    `SELECT DISTINCT tlp FROM reports
      WHERE organisation_id = $1 AND source_id = $2 AND source_version < $3`,
    [report.organisationId, source.id, source.version],
  );
  const tightest = tighter(
    report.tlp,
    tlps.map((row) => row.tlp),
  );
  if (tightest !== report.tlp) {
    report.tlp = tightest;
    await db.query(`UPDATE reports SET tlp = $2 WHERE id = $1`, [report.reportId, tightest]);
  }
}

/**
 * Once every part of a version is stored, withdraws the live sightings of
 * earlier versions whose value no part of it carries. Run after the
 * version's sightings are inserted.
 */
export async function withdrawRemoved(
  db: PoolClient,
  organisationId: string,
  source: ReportSource,
): Promise<number> {
  const { rowCount } = await db.query(
    `WITH version AS (
       SELECT id FROM reports WHERE organisation_id = $1 AND source_id = $2 AND source_version = $3
     ), complete AS (
       SELECT count(DISTINCT source_part) = $4 AS yes
         FROM reports WHERE organisation_id = $1 AND source_id = $2 AND source_version = $3
     )
     UPDATE sightings s
        SET suppressed_by = 'withdrawn: not in version ' || $5 || ' of its source'
       FROM reports r
      WHERE (SELECT yes FROM complete)
        AND r.id = s.report_id AND r.organisation_id = $1 AND r.source_id = $2 AND r.source_version < $3
        AND s.suppressed_by IS NULL
        AND NOT EXISTS (SELECT 1 FROM sightings k
                         WHERE k.report_id IN (SELECT id FROM version) AND k.type = s.type AND k.value = s.value)`,
    [organisationId, source.id, source.version, source.parts, source.version],
  );
  return rowCount ?? 0;
}

/** {@link withdrawRemoved} once for each source version among these reports. */
export async function withdrawRemovedOf(db: PoolClient, envelopes: readonly ReportEnvelope[]): Promise<void> {
  const versions = new Map<string, { organisationId: string; source: ReportSource }>();
  for (const { organisationId, report } of envelopes) {
    if (report.source)
      versions.set(`${organisationId}|${report.source.id}|${report.source.version}`, {
        organisationId,
        source: report.source,
      });
  }
  for (const { organisationId, source } of versions.values())
    await withdrawRemoved(db, organisationId, source);
}

function tighter(tlp: Tlp, others: readonly Tlp[]): Tlp {
  return [tlp, ...others].reduce((a, b) => (TLP_LEVELS.indexOf(b) > TLP_LEVELS.indexOf(a) ? b : a));
}
