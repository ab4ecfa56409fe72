import type { Pool } from '@renkei/db';
import { knownReportIds, reportAuthorship, viewWarning, warningForExport, type Viewer } from '@renkei/policy';
import type { AlertRecord, Role, Tlp, WarningRecord } from '@renkei/schema';
import { LEAK_ORGANISATIONS, sectorOf, type Step } from './history.js';

/** A non-analyst viewer of the test: an organisation's user with one role. */
export interface LeakViewer {
  org: string;
  role: Role;
}

export const LEAK_VIEWERS: readonly LeakViewer[] = LEAK_ORGANISATIONS.flatMap((o) => [
  { org: o.id, role: 'reporter' as const },
  { org: o.id, role: 'ceptar' as const },
]);

export const viewerName = (viewer: LeakViewer) => `${viewer.org}/${viewer.role}`;

export function principalOf(viewer: LeakViewer): Viewer {
  return {
    subject: `${viewer.org}-${viewer.role}`,
    organisationId: viewer.org,
    sector: sectorOf(viewer.org),
    roles: [viewer.role],
  };
}

/**
 * The steps of the history a viewer may know of, asked of the policy about
 * what world A (the whole history) stored: a report is known when it is the
 * viewer's own, when an export may show it to the viewer or to anyone at any
 * TLP it had, or when some alert's view may count it at some version
 * (`knownReportIds`); a TLP change goes with its report; a warning is known
 * when the viewer or an anonymous reader may receive it. World B of the
 * viewer holds exactly these steps; nothing the viewer observes may differ.
 */
export async function knownSteps(
  pool: Pool,
  steps: readonly Step[],
  viewer: LeakViewer,
): Promise<Set<number>> {
  const principal = principalOf(viewer);
  const { rows: alerts } = await pool.query<{ record: AlertRecord }>('SELECT record FROM alerts');
  const countable = new Set<string>();
  for (const { record } of alerts) for (const id of knownReportIds(viewer.org, record)) countable.add(id);

  const labels = new Map<string, Tlp[]>();
  for (const step of steps) {
    if (step.kind === 'report') labels.set(step.id, [step.tlp]);
    if (step.kind === 'tlp') labels.get(step.reportId)?.push(step.tlp);
  }
  const knownReports = new Set<string>();
  for (const step of steps) {
    if (step.kind !== 'report') continue;
    const exported = labels
      .get(step.id)!
      .some(
        (tlp) =>
          reportAuthorship(principal, { organisationId: step.org, tlp }) !== null ||
          reportAuthorship(null, { organisationId: step.org, tlp }) !== null,
      );
    if (exported || countable.has(step.id)) knownReports.add(step.id);
  }

  const { rows: warnings } = await pool.query<{ record: WarningRecord }>('SELECT record FROM warnings');
  const knownWarnings = new Set(
    warnings
      .filter(
        ({ record }) => viewWarning(principal, record) !== null || warningForExport(null, record) !== null,
      )
      .map(({ record }) => record.id),
  );

  const known = new Set<number>();
  steps.forEach((step, index) => {
    const id = step.kind === 'report' ? step.id : step.kind === 'tlp' ? step.reportId : step.id;
    if (step.kind === 'warning' ? knownWarnings.has(id) : knownReports.has(id)) known.add(index);
  });
  return known;
}
