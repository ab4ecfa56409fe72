import {
  alertForExport,
  audienceAdmits,
  audienceCeiling,
  namesContributors,
  reportAuthorship,
  warningForExport,
  type Authorship,
  type ExportReader,
  type TaxiiAudience,
} from '@renkei/policy';
import { TLP_LEVELS, type AlertView, type Tlp, type WarningView } from '@renkei/schema';
import {
  exportStixBundle,
  TLP2_MARKING_IDS,
  type StixBundle,
  type StixExport,
  type StixIdentityInput,
  type StixObject,
  type StixReportView,
} from '@renkei/stix';
import type { AlertSource, ReportSource, WarningSource } from '../queries/exports.js';

export interface ExportSources {
  reports: readonly ReportSource[];
  alerts: readonly AlertSource[];
  warnings: readonly WarningSource[];
}

/** Registered names, for the organisations a reader may see named. */
export type OrganisationNames = (organisationId: string) => string | undefined;

export interface StixExportResult extends StixExport {
  /**
   * For each object, when the hub added it: the latest `addedAt` of the items
   * it came from. Only for a collection (TAXII), since finding it costs a
   * second export; empty otherwise.
   */
  dateAdded: Map<string, string>;
}

interface Chosen {
  reports: { view: StixReportView; addedAt: string }[];
  alerts: { view: AlertView; addedAt: string }[];
  warnings: { view: WarningView; addedAt: string }[];
  organisations: Record<string, StixIdentityInput>;
}

/**
 * What of the sources this reader may receive (in this collection, when one is
 * given), each item as the policy shows it to the reader. Nothing is decided
 * here: every choice is a question to `@renkei/policy`.
 */
export function chooseForExport(
  reader: ExportReader,
  sources: ExportSources,
  names: OrganisationNames,
  audience?: TaxiiAudience,
): Chosen {
  const chosen: Chosen = { reports: [], alerts: [], warnings: [], organisations: {} };
  for (const report of sources.reports) {
    const authorship = reportAuthorship(reader, report);
    if (authorship === null) continue;
    if (audience && !audienceAdmits(audience, { kind: 'report', ...report })) continue;
    chosen.reports.push({ view: reportView(report, authorship, names), addedAt: report.addedAt });
  }
  for (const { record, addedAt } of sources.alerts) {
    const view = alertForExport(reader, record);
    if (view === null) continue;
    if (audience && !audienceAdmits(audience, { kind: 'alert', tlp: view.tlp })) continue;
    chosen.alerts.push({ view, addedAt });
    if (namesContributors(reader)) {
      for (const contribution of view.contributions ?? []) {
        chosen.organisations[contribution.organisationId] = {
          kind: 'named',
          key: contribution.organisationId,
          name: names(contribution.organisationId) ?? contribution.organisationId,
          sectors: [contribution.sector],
        };
      }
    }
  }
  for (const { record, addedAt } of sources.warnings) {
    const view = warningForExport(reader, record);
    if (view === null) continue;
    if (audience && !audienceAdmits(audience, { kind: 'warning', tlp: view.tlp, sectors: view.sectors }))
      continue;
    chosen.warnings.push({ view, addedAt });
  }
  return chosen;
}

/**
 * The reader's STIX bundle. Deterministic: the same stored data and reader
 * give the same bytes. In a collection, no object above the collection's TLP
 * ceiling leaves, whatever the selection above let through.
 */
export function buildStixExport(
  reader: ExportReader,
  sources: ExportSources,
  names: OrganisationNames,
  audience?: TaxiiAudience,
): StixExportResult {
  const chosen = chooseForExport(reader, sources, names, audience);
  const result = exportStixBundle({
    reports: chosen.reports.map((r) => r.view),
    alerts: chosen.alerts.map((a) => a.view),
    warnings: chosen.warnings.map((w) => w.view),
    organisations: chosen.organisations,
  });
  const ceiling = audience ? audienceCeiling(audience) : 'RED';
  const objects = result.bundle.objects.filter((object) => withinCeiling(object, ceiling));
  const bundle: StixBundle = { ...result.bundle, objects };
  return { bundle, omitted: result.omitted, dateAdded: audience ? datesAdded(chosen) : new Map() };
}

/** Each object's date added: the latest of the items whose own export holds it. */
function datesAdded(chosen: Chosen): Map<string, string> {
  const dates = new Map<string, string>();
  const note = (objects: readonly StixObject[], addedAt: string) => {
    for (const object of objects) {
      const known = dates.get(object.id);
      if (known === undefined || known < addedAt) dates.set(object.id, addedAt);
    }
  };
  for (const { view, addedAt } of chosen.reports)
    note(exportStixBundle({ reports: [view] }).bundle.objects, addedAt);
  for (const { view, addedAt } of chosen.alerts) {
    note(exportStixBundle({ alerts: [view], organisations: chosen.organisations }).bundle.objects, addedAt);
  }
  for (const { view, addedAt } of chosen.warnings)
    note(exportStixBundle({ warnings: [view] }).bundle.objects, addedAt);
  return dates;
}

const MARKING_LEVEL = new Map<string, Tlp>(
  Object.entries(TLP2_MARKING_IDS).map(([tlp, id]) => [id, tlp as Tlp]),
);

function withinCeiling(object: StixObject, ceiling: Tlp): boolean {
  if (object.type === 'marking-definition') {
    const level = MARKING_LEVEL.get(object.id);
    return level === undefined || TLP_LEVELS.indexOf(level) <= TLP_LEVELS.indexOf(ceiling);
  }
  const refs = Array.isArray(object.object_marking_refs) ? (object.object_marking_refs as string[]) : [];
  return refs.every((ref) => {
    const level = MARKING_LEVEL.get(ref);
    return level !== undefined && TLP_LEVELS.indexOf(level) <= TLP_LEVELS.indexOf(ceiling);
  });
}

function reportView(report: ReportSource, authorship: Authorship, names: OrganisationNames): StixReportView {
  const author: StixIdentityInput | undefined =
    authorship === 'named'
      ? {
          kind: 'named',
          key: report.organisationId,
          name: names(report.organisationId) ?? report.organisationId,
          sectors: [report.sector],
        }
      : authorship === 'anonymised'
        ? // One identity per sector: nothing in it tells two organisations of a sector apart.
          { kind: 'anonymised', key: `sector:${report.sector}`, sectors: [report.sector] }
        : undefined;
  return {
    id: report.id,
    title: report.title,
    ...(report.description ? { description: report.description } : {}),
    category: report.category,
    severity: report.severity,
    tlp: report.tlp,
    detectedAt: report.detectedAt,
    receivedAt: report.receivedAt,
    indicators: [...report.indicators].sort((a, b) =>
      a.type === b.type ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : a.type < b.type ? -1 : 1,
    ),
    exercise: report.exercise,
    ...(author ? { author } : {}),
    labels: report.labels ?? [],
  };
}
