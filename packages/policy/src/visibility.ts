import type {
  AlertRecord,
  AlertText,
  AlertView,
  EventFrame,
  FeedEvent,
  Principal,
  Role,
  Sector,
  Tlp,
  WarningRecord,
  WarningView,
} from '@renkei/schema';
import { historyFor, TLP_SHARED_WITH_EVERYONE, type ViewerHistory } from './alert-views.js';
import { describeViewText } from './describe.js';

/**
 * Who sees what, decided here and nowhere else: every path out of the hub
 * (REST, the stream, exports) asks this module for the viewer's view.
 *
 * TLP 2.0 applied to a hub. Analysts see every alert, named. Anyone else sees
 * an alert recomputed from the contributions they may know of: their own
 * organisation's reports, CLEAR and GREEN reports, and, as a bare count, AMBER
 * reports of an indicator they reported too. AMBER+STRICT and RED reports of
 * others change nothing they receive. Organisations are never named to them.
 */
export { TLP_SHARED_WITH_EVERYONE };

/** Roles allowed to submit reports. Administrators manage the hub, they do not report. */
export const REPORTING_ROLES: readonly Role[] = ['reporter', 'ceptar', 'analyst'];

/** Roles that receive shared warnings for their sector. */
export const WARNING_RECIPIENT_ROLES: readonly Role[] = ['reporter', 'ceptar'];

/** A viewer is a principal whose organisation and sector come from the registry. */
export type Viewer = Principal;

export function isAnalyst(viewer: Viewer): boolean {
  return viewer.roles.includes('analyst');
}

export function isWarningRecipient(viewer: Viewer): boolean {
  return viewer.roles.some((role) => WARNING_RECIPIENT_ROLES.includes(role));
}

/**
 * Viewers with the same audience receive the same view of every event, so a
 * view is computed (and serialised) once per audience, not once per socket.
 */
export function audienceOf(viewer: Viewer): string {
  if (isAnalyst(viewer)) return 'analysts';
  return `org:${viewer.organisationId}:${viewer.sector}:${isWarningRecipient(viewer) ? 'recipient' : 'member'}`;
}

/** Analysts read every report; everyone else only their own organisation's. */
export function canReadReport(viewer: Viewer, report: { organisationId: string }): boolean {
  return isAnalyst(viewer) || viewer.organisationId === report.organisationId;
}

/**
 * The alert TLPs worth fetching for this viewer (null: every level). SQL may
 * pre-filter with this and nothing else; the view still comes from {@link viewAlert}.
 * An alert's TLP is its most restrictive report's, and an alert with one RED
 * report may still hold GREEN ones a member may see: nobody's list can be cut by it.
 */
export function alertTlpsFor(_viewer: Viewer): readonly Tlp[] | null {
  return null;
}

/**
 * Whether every version of every alert changes what this viewer sees (true
 * for analysts): then a list needs only each alert's latest version. For
 * anyone else a list places each alert at {@link viewedVersion}.
 */
export function seesEveryVersion(viewer: Viewer): boolean {
  return isAnalyst(viewer);
}

/**
 * The version of the record that last changed what this viewer sees, or null
 * when the viewer sees nothing. Lists order a viewer's alerts by that
 * version's feed position, so a change the viewer may not know of never moves one.
 */
export function viewedVersion(viewer: Viewer, alert: AlertRecord): number | null {
  if (isAnalyst(viewer)) return alert.version;
  return historyFor(viewer.organisationId, alert).lastChangedIn;
}

/**
 * The analyst's title and reasons as codes: from the whole record, since an
 * analyst may know of every report. The English words stay the correlator's.
 */
function analystText(alert: AlertRecord): AlertText {
  const detected = alert.contributions.map((c) => c.detectedAt).sort((a, b) => Date.parse(a) - Date.parse(b));
  return describeViewText({
    kind: alert.kind,
    exercise: alert.exercise,
    indicators: alert.indicators,
    organisationCount: alert.organisationCount,
    countedOnly: 0,
    sectors: alert.sectors,
    reportCount: alert.contributions.length,
    categories: [...new Set(alert.contributions.map((c) => c.category))].sort(),
    firstDetectedAt: detected[0]!,
    lastDetectedAt: detected.at(-1)!,
  });
}

function analystView(alert: AlertRecord): AlertView {
  return {
    id: alert.id,
    version: alert.version,
    kind: alert.kind,
    severity: alert.severity,
    tlp: alert.tlp,
    title: alert.title,
    reasons: alert.reasons,
    indicators: alert.indicators,
    sectors: alert.sectors,
    organisationCount: alert.organisationCount,
    reportIds: alert.contributions.map((contribution) => contribution.reportId),
    relatedAlertIds: alert.relatedAlertIds,
    tooCommon: alert.tooCommon,
    createdAt: alert.createdAt,
    updatedAt: alert.updatedAt,
    exercise: alert.exercise,
    contributions: alert.contributions.map(({ addedInVersion: _version, ...contribution }) => contribution),
    watchlistEntryId: alert.watchlistEntryId,
    text: analystText(alert),
  };
}

/** The alert's latest version as this viewer may see it, or null. */
export function viewAlert(viewer: Viewer, alert: AlertRecord): AlertView | null {
  if (isAnalyst(viewer)) return analystView(alert);
  const history = historyFor(viewer.organisationId, alert);
  return history.content ? recomputedView(alert, history) : null;
}

/**
 * The view to push when this record is new: null when the viewer may not see
 * the alert, or when its latest version changed nothing the viewer may know.
 */
export function viewAlertChange(viewer: Viewer, alert: AlertRecord): AlertView | null {
  if (isAnalyst(viewer)) return analystView(alert);
  const history = historyFor(viewer.organisationId, alert);
  if (!history.content || history.lastChangedIn !== alert.version) return null;
  return recomputedView(alert, history);
}

/** A non-analyst's view: what it may know, numbered and timed by the versions that changed it. */
function recomputedView(alert: AlertRecord, history: ViewerHistory): AlertView {
  const { content } = history;
  return {
    id: alert.id,
    version: history.versions,
    kind: content!.kind,
    severity: content!.severity,
    tlp: content!.tlp,
    title: content!.title,
    reasons: content!.reasons,
    indicators: content!.indicators,
    sectors: content!.sectors,
    organisationCount: content!.organisationCount,
    reportIds: content!.reportIds,
    relatedAlertIds: content!.relatedAlertIds,
    tooCommon: content!.tooCommon,
    createdAt: history.createdAt!,
    updatedAt: history.updatedAt!,
    exercise: content!.exercise,
    ...(content!.text ? { text: content!.text } : {}),
  };
}

/**
 * Which warnings are worth fetching for this viewer: every one (analysts),
 * those targeting its sector (recipients), or none. SQL may pre-filter with
 * this; each warning's view still comes from {@link viewWarning}.
 */
export function warningSectorFilter(viewer: Viewer): 'all' | 'none' | { sector: Sector } {
  if (isAnalyst(viewer)) return 'all';
  return isWarningRecipient(viewer) ? { sector: viewer.sector } : 'none';
}

/** Whether the warning is for this viewer: analysts, and recipients in its sectors. */
export function viewWarning(viewer: Viewer, warning: WarningRecord): WarningView | null {
  const forViewer =
    isAnalyst(viewer) ||
    (isWarningRecipient(viewer) && (warning.sectors === 'all' || warning.sectors.includes(viewer.sector)));
  if (!forViewer) return null;
  const { publishedBy: _publishedBy, ...view } = warning;
  return view;
}

/**
 * The stream's one entry point: the frame this viewer receives for a feed
 * event, or null. The result depends only on {@link audienceOf} the viewer.
 * `cursor` is what the frame carries: the gateway passes the event's
 * position sealed with the hub secret, since a member is never given a raw
 * position (dense positions would count the events it did not receive).
 */
export function viewFeedEvent(
  viewer: Viewer,
  event: FeedEvent,
  cursor: string = event.position,
): EventFrame | null {
  switch (event.kind) {
    case 'alert': {
      const alert = viewAlertChange(viewer, event.payload);
      return alert ? { type: 'alert', cursor, alert } : null;
    }
    case 'alert-update':
      return isAnalyst(viewer) ? { type: 'alert-update', cursor, update: event.payload } : null;
    case 'warning': {
      const warning = viewWarning(viewer, event.payload);
      return warning ? { type: 'warning', cursor, warning } : null;
    }
    case 'warning-ack':
      // A colleague's acknowledgement is the organisation's: its other users stop being asked for it.
      return isAnalyst(viewer) || viewer.organisationId === event.payload.organisationId
        ? { type: 'warning-ack', cursor, ack: event.payload }
        : null;
    case 'exercise': {
      const payload = event.payload;
      if (payload.audience === 'control') {
        return isAnalyst(viewer) ? { type: 'exercise', cursor, exercise: payload } : null;
      }
      // A task goes to its organisation only: never the scoring, never another's task.
      return viewer.organisationId === payload.organisationId
        ? { type: 'exercise', cursor, exercise: { audience: 'participant', task: payload.task } }
        : null;
    }
  }
}
