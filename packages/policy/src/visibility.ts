import type {
  AlertRecord,
  AlertView,
  EventFrame,
  FeedEvent,
  Principal,
  Role,
  Tlp,
  WarningRecord,
  WarningView,
} from '@renkei/schema';

/**
 * Who sees what, decided here and nowhere else: every path out of the hub
 * (REST, the stream, exports) asks this module for the viewer's view.
 *
 * Interim rule until the full TLP 2.0 policy lands: people outside the GSOC
 * see only alerts every one of whose reports was CLEAR or GREEN.
 */
export const TLP_SHARED_WITH_EVERYONE: readonly Tlp[] = ['CLEAR', 'GREEN'];

/** Roles allowed to submit reports. Administrators manage the hub, they do not report. */
export const REPORTING_ROLES: readonly Role[] = ['reporter', 'ceptar', 'analyst'];

/** Roles that receive shared warnings for their sector. */
export const WARNING_RECIPIENT_ROLES: readonly Role[] = ['reporter', 'ceptar'];

/** A viewer is a principal whose organisation and sector come from the registry. */
export type Viewer = Principal;

export function isAnalyst(viewer: Viewer): boolean {
  return viewer.roles.includes('analyst');
}

/**
 * Viewers with the same audience receive the same view of every event, so a
 * view is computed (and serialised) once per audience, not once per socket.
 */
export function audienceOf(viewer: Viewer): string {
  if (isAnalyst(viewer)) return 'analysts';
  const recipient = viewer.roles.some((role) => WARNING_RECIPIENT_ROLES.includes(role));
  return `org:${viewer.organisationId}:${viewer.sector}:${recipient ? 'recipient' : 'member'}`;
}

/** Analysts read every report; everyone else only their own organisation's. */
export function canReadReport(viewer: Viewer, report: { organisationId: string }): boolean {
  return isAnalyst(viewer) || viewer.organisationId === report.organisationId;
}

/**
 * The alert TLPs worth fetching for this viewer (null: every level). SQL may
 * pre-filter with this and nothing else; the view still comes from {@link viewAlert}.
 */
export function alertTlpsFor(viewer: Viewer): readonly Tlp[] | null {
  return isAnalyst(viewer) ? null : TLP_SHARED_WITH_EVERYONE;
}

/** The alert's latest version as this viewer may see it, or null. */
export function viewAlert(viewer: Viewer, alert: AlertRecord): AlertView | null {
  const analyst = isAnalyst(viewer);
  if (!analyst && !TLP_SHARED_WITH_EVERYONE.includes(alert.tlp)) return null;
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
    reportIds: alert.contributions.filter((c) => canReadReport(viewer, c)).map((c) => c.reportId),
    relatedAlertIds: alert.relatedAlertIds,
    tooCommon: alert.tooCommon,
    createdAt: alert.createdAt,
    updatedAt: alert.updatedAt,
    exercise: alert.exercise,
    ...(analyst
      ? {
          contributions: alert.contributions.map(
            ({ addedInVersion: _version, ...contribution }) => contribution,
          ),
          watchlistEntryId: alert.watchlistEntryId,
        }
      : {}),
  };
}

/**
 * The view to push when this record is new: null when the viewer may not see
 * the alert, or when its latest version changed nothing the viewer may know.
 */
export function viewAlertChange(viewer: Viewer, alert: AlertRecord): AlertView | null {
  return viewAlert(viewer, alert);
}

/** Whether the warning is for this viewer: analysts, and recipients in its sectors. */
export function viewWarning(viewer: Viewer, warning: WarningRecord): WarningView | null {
  const forViewer =
    isAnalyst(viewer) ||
    (viewer.roles.some((role) => WARNING_RECIPIENT_ROLES.includes(role)) &&
      (warning.sectors === 'all' || warning.sectors.includes(viewer.sector)));
  if (!forViewer) return null;
  const { publishedBy: _publishedBy, ...view } = warning;
  return view;
}

/**
 * The stream's one entry point: the frame this viewer receives for a feed
 * event, or null. The result depends only on {@link audienceOf} the viewer.
 */
export function viewFeedEvent(viewer: Viewer, event: FeedEvent): EventFrame | null {
  const cursor = event.position;
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
      return isAnalyst(viewer) ? { type: 'warning-ack', cursor, ack: event.payload } : null;
  }
}
