import { isAnalyst, viewAlert } from '@renkei/policy';
import {
  SEVERITIES,
  type AlertRecord,
  type AlertSummary,
  type Principal,
  type Severity,
  type TriageStatus,
} from '@renkei/schema';

const CLOSED: readonly TriageStatus[] = ['resolved', 'false-positive'];
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The feed's counters and heat map for one viewer, over every alert it may
 * see: severities are those of the viewer's own view (a report it may not
 * know of changes no count), and the per-report figures are for analysts
 * only, who may read every report. Pure, so the rules are tested without a database.
 */
export function summariseAlerts(
  viewer: Principal,
  alerts: Iterable<{ record: AlertRecord; status: TriageStatus }>,
  now: number,
): AlertSummary {
  const open = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  let openExercise = 0;
  let total = 0;
  const analyst = isAnalyst(viewer);
  // Each report once, however many alerts it is in.
  const reports = new Map<string, { sector: string; category: string; receivedAt: number }>();
  for (const { record, status } of alerts) {
    const view = viewAlert(viewer, record);
    if (!view) continue;
    total += 1;
    if (!CLOSED.includes(status)) {
      if (view.exercise) openExercise += 1;
      else open[view.severity] += 1;
    }
    // Drill traffic is never a real statistic: exercise alerts count apart and their reports not at all.
    if (analyst && !record.exercise)
      for (const contribution of record.contributions)
        reports.set(contribution.reportId, {
          sector: contribution.sector,
          category: contribution.category,
          receivedAt: Date.parse(contribution.receivedAt),
        });
  }
  if (!analyst)
    return {
      at: new Date(now).toISOString(),
      open,
      openExercise,
      total,
      reportsLastHour: null,
      heatMap: null,
    };
  let reportsLastHour = 0;
  const cells = new Map<string, number>();
  for (const report of reports.values()) {
    const age = now - report.receivedAt;
    if (age <= HOUR_MS) reportsLastHour += 1;
    if (age > DAY_MS) continue;
    const key = `${report.sector}\u0000${report.category}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  const heatMap = [...cells]
    .map(([key, count]) => {
      const [sector, category] = key.split('\u0000') as [string, string];
      return { sector, category, count } as NonNullable<AlertSummary['heatMap']>[number];
    })
    .sort((a, b) => a.sector.localeCompare(b.sector) || a.category.localeCompare(b.category));
  return { at: new Date(now).toISOString(), open, openExercise, total, reportsLastHour, heatMap };
}
