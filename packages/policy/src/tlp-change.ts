import { TLP_LEVELS, type Tlp } from '@renkei/schema';
import { isAnalyst, REPORTING_ROLES, type Viewer } from './visibility.js';

/**
 * A report's TLP may only be tightened: what was shared cannot be unshared by
 * loosening, and a looser label would widen the audience of every alert that
 * holds the report. Same rank never restricts another (the leak the issue
 * names), so the order is total: CLEAR < GREEN < AMBER < AMBER+STRICT < RED.
 */
export type TlpChangeJudgement = 'tightens' | 'unchanged' | 'loosens';

export function judgeTlpChange(current: Tlp, requested: Tlp): TlpChangeJudgement {
  const from = TLP_LEVELS.indexOf(current);
  const to = TLP_LEVELS.indexOf(requested);
  if (to > from) return 'tightens';
  return to === from ? 'unchanged' : 'loosens';
}

/** Whether `requested` is strictly more restrictive than `current`. */
export function tightensTlp(current: Tlp, requested: Tlp): boolean {
  return judgeTlpChange(current, requested) === 'tightens';
}

/**
 * Only the reporting organisation (someone of it who may report) or an
 * analyst may change a report's TLP. Anyone else may not even learn that the
 * report exists, so callers answer them as for a missing report.
 */
export function canChangeReportTlp(viewer: Viewer, report: { organisationId: string }): boolean {
  if (isAnalyst(viewer)) return true;
  return (
    viewer.organisationId === report.organisationId &&
    viewer.roles.some((role) => REPORTING_ROLES.includes(role))
  );
}

/** The TLP a report has after a series of changes in any order: the most restrictive asked for. */
export function tlpAfterChanges(original: Tlp, changes: readonly Tlp[]): Tlp {
  return [original, ...changes].reduce((a, b) => (tightensTlp(a, b) ? b : a));
}
