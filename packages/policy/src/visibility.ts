import type { AlertRecord, AlertView, Principal, Role, Tlp } from '@renkei/schema';

/**
 * Interim rule until the full TLP 2.0 policy lands: people outside the GSOC see
 * only alerts every one of whose reports was CLEAR or GREEN.
 */
export const TLP_SHARED_WITH_EVERYONE: readonly Tlp[] = ['CLEAR', 'GREEN'];

/** Roles allowed to submit reports. Administrators manage the hub, they do not report. */
export const REPORTING_ROLES: readonly Role[] = ['reporter', 'ceptar', 'analyst'];

export function isAnalyst(principal: Principal): boolean {
  return principal.roles.includes('analyst');
}

/** Analysts read every report; everyone else only their own organisation's. */
export function canReadReport(principal: Principal, report: { organisationId: string }): boolean {
  return isAnalyst(principal) || principal.organisationId === report.organisationId;
}

export function canSeeAlert(principal: Principal, alert: Pick<AlertRecord, 'tlp'>): boolean {
  return isAnalyst(principal) || TLP_SHARED_WITH_EVERYONE.includes(alert.tlp);
}

/**
 * The alert as this viewer may see it, or null. Organisations are never named
 * in a view; its reportIds are only those the viewer may read.
 */
export function viewAlert(principal: Principal, alert: AlertRecord): AlertView | null {
  if (!canSeeAlert(principal, alert)) return null;
  return {
    id: alert.id,
    version: alert.version,
    kind: alert.kind,
    severity: alert.severity,
    tlp: alert.tlp,
    title: alert.title,
    indicators: alert.indicators,
    sectors: alert.sectors,
    organisationCount: alert.organisationCount,
    reportIds: alert.contributions.filter((c) => canReadReport(principal, c)).map((c) => c.reportId),
    createdAt: alert.createdAt,
    updatedAt: alert.updatedAt,
    exercise: alert.exercise,
  };
}
