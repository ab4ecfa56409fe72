import type { SupervisorState } from './state.js';

/** Readiness as `/readyz` answered: its status code, or null when nothing answered. */
export type Readiness = Record<string, number | null>;

function duration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m, s] = [
    Math.floor(seconds / 86_400),
    Math.floor((seconds % 86_400) / 3600),
    Math.floor((seconds % 3600) / 60),
    seconds % 60,
  ];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * What `npm run status` prints: the supervisor, then a line per service with
 * its pid, uptime, restarts, readiness and how it last stopped. `healthy` is
 * true when the supervisor runs and every service answers ready.
 */
export function describeStatus(
  state: SupervisorState | undefined,
  supervisorAlive: boolean,
  readiness: Readiness,
  now: number,
): { text: string; healthy: boolean } {
  if (!state || !supervisorAlive) {
    return {
      text: 'Renkei is not running (no supervisor). Start it with: npm run up',
      healthy: false,
    };
  }
  const rows = [['service', 'state', 'pid', 'uptime', 'restarts', 'ready', 'last stop']];
  let healthy = true;
  for (const service of state.services) {
    const status = readiness[service.name];
    const ready = status === 200 ? 'yes' : status == null ? 'no answer' : `no (${status})`;
    if (status !== 200) healthy = false;
    const lastStop = service.lastExit
      ? `${service.lastExit.signal ?? `exit ${service.lastExit.code}`} at ${service.lastExit.at}` +
        (service.nextStartAt ? `; next start in ${duration(Date.parse(service.nextStartAt) - now)}` : '')
      : '-';
    rows.push([
      service.name,
      service.state,
      service.pid === null ? '-' : String(service.pid),
      service.startedAt ? duration(now - Date.parse(service.startedAt)) : '-',
      String(service.restarts),
      ready,
      lastStop,
    ]);
  }
  const header = `Renkei supervisor: pid ${state.pid}, up ${duration(now - Date.parse(state.startedAt))}`;
  return { text: `${header}\n${table(rows)}`, healthy };
}
