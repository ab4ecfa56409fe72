import { SEVERITIES, type EventFrame, type StreamFilter } from '@renkei/schema';

/**
 * Whether a frame passes a connection's subscription filter. The filter
 * narrows alerts, judged on the view the viewer receives (its severity,
 * kind, sectors and exercise flag as the policy shaped them). Triage
 * updates, warnings and acknowledgements always pass: a filter on alert
 * properties says nothing about them.
 */
export function matchesFilter(filter: StreamFilter, frame: EventFrame): boolean {
  if (frame.type !== 'alert') return true;
  const { alert } = frame;
  if (filter.minSeverity && SEVERITIES.indexOf(alert.severity) < SEVERITIES.indexOf(filter.minSeverity))
    return false;
  if (filter.kinds && !filter.kinds.includes(alert.kind)) return false;
  if (filter.sectors && !alert.sectors.some((sector) => filter.sectors!.includes(sector))) return false;
  if (filter.exercise !== undefined && alert.exercise !== filter.exercise) return false;
  return true;
}

/** The filter as applied: lists without repeats, so `subscribed` echoes what the gateway compares with. */
export function normaliseFilter(filter: StreamFilter): StreamFilter {
  return {
    ...(filter.minSeverity ? { minSeverity: filter.minSeverity } : {}),
    ...(filter.kinds ? { kinds: [...new Set(filter.kinds)] } : {}),
    ...(filter.sectors ? { sectors: [...new Set(filter.sectors)] } : {}),
    ...(filter.exercise === undefined ? {} : { exercise: filter.exercise }),
  };
}

export function isEmptyFilter(filter: StreamFilter): boolean {
  return Object.keys(filter).length === 0;
}
