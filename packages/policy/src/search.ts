import type { AlertRecord, AlertView, Tlp } from '@renkei/schema';
import { TLP_SHARED_WITH_EVERYONE } from './alert-views.js';
import { isAnalyst, viewAlert, type Viewer } from './visibility.js';

/**
 * How one report appears in a viewer's search or lookup answer:
 * - `named`: listed with its organisation (the viewer's own; any, to analysts);
 * - `anonymised`: listed without its organisation (others' CLEAR and GREEN);
 * - `counted`: not listed, only counted as "also reported elsewhere" in the
 *   summary of an indicator the viewer reported itself (others' AMBER), as
 *   an AMBER contribution counts in an alert view's `organisationCount`;
 * - null: nothing at all (others' AMBER+STRICT and RED; AMBER of an
 *   indicator the viewer did not report).
 */
export type SearchPresence = 'named' | 'anonymised' | 'counted' | null;

export function reportInSearch(
  viewer: Viewer,
  report: { organisationId: string; tlp: Tlp },
  { viewerReportedIt }: { viewerReportedIt: boolean },
): SearchPresence {
  if (isAnalyst(viewer) || report.organisationId === viewer.organisationId) return 'named';
  if (TLP_SHARED_WITH_EVERYONE.includes(report.tlp)) return 'anonymised';
  return report.tlp === 'AMBER' && viewerReportedIt ? 'counted' : null;
}

/**
 * What SQL reads for a search or lookup, as {@link reportInSearch} decides
 * it: `organisationId` null reads every report named (analysts); otherwise
 * that organisation's reports are named, others' at `readable` levels are
 * anonymised, and others' at `counted` levels only count for an indicator
 * the organisation reported itself. Nothing else goes further than the join
 * that reads its TLP, so a report the viewer may not know of costs a search
 * one index probe per value it shares with it, and no aggregate, sort or byte
 * of the answer.
 */
export interface SearchScope {
  organisationId: string | null;
  readable: readonly Tlp[];
  counted: readonly Tlp[];
}

export function searchScope(viewer: Viewer): SearchScope {
  if (isAnalyst(viewer)) return { organisationId: null, readable: [], counted: [] };
  return { organisationId: viewer.organisationId, readable: TLP_SHARED_WITH_EVERYONE, counted: ['AMBER'] };
}

/**
 * Whether a member's alert text search may match alert titles. An alert's
 * title counts organisations and reports, and a member's view recomputes it
 * from what the member may know, so which records match a text depends on
 * reports the member may not know of; members find alerts by indicator
 * (whose views list it), analysts by title too.
 */
export function searchesAlertTitles(viewer: Viewer): boolean {
  return isAnalyst(viewer);
}

/**
 * The alert as this viewer may see it when it carries the indicator sought
 * (`type:value`): its view must list the indicator, so an alert that holds it
 * only through reports hidden from the viewer is not found by it.
 */
export function alertCarrying(
  viewer: Viewer,
  alert: AlertRecord,
  indicator: { type: string; value: string },
): AlertView | null {
  const view = viewAlert(viewer, alert);
  if (!view) return null;
  return view.indicators.some((i) => i.type === indicator.type && i.value === indicator.value) ? view : null;
}
