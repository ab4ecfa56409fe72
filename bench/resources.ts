import { pairTokens } from './end-to-end.js';
import { correlatorBacklog, storedReports, waitForCorrelator } from './lib/pipeline.js';
import type { ProcessUsage } from './lib/processes.js';
import type { Scenario } from './lib/scenario.js';
import { median, round, slope } from './lib/stats.js';

const MIB = 2 ** 20;

/** RSS above which the end of the soak counts as grown: this share of the start, and at least this many MiB. */
const GROWTH_SHARE = 0.1;
const GROWTH_MIN_MIB = 16;

interface Sample {
  /** Seconds since the soak started. */
  at: number;
  rssMiB: number;
}

/**
 * What each process costs: CPU seconds per 1,000 reports and its peak RSS,
 * measured over a soak at a steady rate (open loop, reports in pairs that each
 * raise an alert, an analyst watching), and whether its memory grew from the
 * start of the soak to its end.
 */
export const resources: Scenario = {
  name: 'resources',
  title: 'Resources: CPU and memory per process over a soak',
  settings: {
    rate: { description: 'reports per second during the soak', full: 200, smoke: 50 },
    soakSeconds: { description: 'length of the soak', full: 300, smoke: 5 },
    warmUpSeconds: { description: 'load at the same rate before the soak', full: 30, smoke: 1 },
    sampleSeconds: { description: 'how often RSS is read', full: 5, smoke: 1 },
    graceSeconds: { description: 'how long to wait for alerts after the last POST', full: 60, smoke: 15 },
    idleSeconds: {
      description: 'how long to wait for the correlator to catch up with the warm-up',
      full: 180,
      smoke: 30,
    },
  },
  async run(context) {
    // A stack of its own: its processes' peaks and growth belong to this soak alone.
    const [stack, load, tokens] = await Promise.all([
      context.startStack(['ingest', 'correlator', 'gateway']),
      context.load(),
      pairTokens(context),
    ]);
    const rate = context.setting('rate');
    const soakSeconds = context.setting('soakSeconds');
    const graceSeconds = context.setting('graceSeconds');
    const soak = (seconds: number, tag: string) =>
      load.run('pairs-open', {
        ingest: stack.service('ingest').url,
        gateway: stack.service('gateway').url,
        tokens,
        rate,
        seconds,
        graceSeconds,
        tag,
      });

    await soak(context.setting('warmUpSeconds'), 'soak-warm-up');
    const backlogAtStart = (await waitForCorrelator(stack, context.setting('idleSeconds'))).backlog;
    const storedAtStart = await storedReports(stack);
    const processes = stack.processes;
    const before = new Map(processes.map((process) => [process.label, process.usage()]));
    const samples = new Map<string, Sample[]>(processes.map((process) => [process.label, []]));
    const started = performance.now();
    const sample = () => {
      const at = (performance.now() - started) / 1000;
      for (const process of processes)
        samples
          .get(process.label)!
          .push({ at: round(at, 1), rssMiB: round(process.usage().rssBytes / MIB, 1) });
    };
    sample();
    const sampler = setInterval(sample, context.setting('sampleSeconds') * 1000);
    let result;
    try {
      result = await soak(soakSeconds, 'soak');
    } finally {
      clearInterval(sampler);
    }
    sample();
    const after = new Map(processes.map((process) => [process.label, process.usage()]));
    const accepted = result.statuses['202'] ?? 0;
    // Each process is charged for the reports it handled: ingest for those it accepted, the
    // correlator and the gateway (whose work follows the alerts) for those the correlator stored.
    const stored = (await storedReports(stack)) - storedAtStart;
    const backlogAtEnd = await correlatorBacklog(stack);
    const handled = (label: string) => (label.startsWith('ingest') ? accepted : stored);

    const rows = processes.map((process) => {
      const series = samples.get(process.label)!;
      // Only samples taken while the load ran: the grace after it lets queues empty and memory fall.
      const loaded = series.filter((s) => s.at <= soakSeconds);
      // The first and last fifth of the soak, each by its median: one garbage collection moves neither.
      const window = Math.max(1, Math.floor(loaded.length / 5));
      const startMiB = round(median(loaded.slice(0, window).map((s) => s.rssMiB)), 1);
      const endMiB = round(median(loaded.slice(-window).map((s) => s.rssMiB)), 1);
      const grew = endMiB - startMiB > Math.max(GROWTH_SHARE * startMiB, GROWTH_MIN_MIB);
      const used = (key: keyof ProcessUsage) =>
        after.get(process.label)![key] - before.get(process.label)![key];
      return {
        process: process.label.replace(/-\d+$/, ''),
        cpuSecondsPer1000: round((used('cpuSeconds') / Math.max(1, handled(process.label))) * 1000, 3),
        peakRssMiB: round(after.get(process.label)!.peakRssBytes / MIB, 1),
        rssStartMiB: startMiB,
        rssEndMiB: endMiB,
        slopeMiBPerMinute: round(slope(loaded.map((s) => ({ x: s.at / 60, y: s.rssMiB }))), 2),
        grew,
        samples: series,
      };
    });
    const grown = rows.filter((row) => row.grew);
    return {
      figures: {
        rate,
        soakSeconds,
        reportsAccepted: accepted,
        reportsStored: stored,
        correlatorBacklogAtStart: backlogAtStart,
        correlatorBacklogAtEnd: backlogAtEnd,
        alertsMissing: result.alertsMissing,
        alertMs: result.alertMs,
        postMs: result.postMs,
        processes: rows,
      },
      tables: [
        {
          columns: [
            'process',
            'CPU s per 1,000 reports',
            'peak RSS MiB',
            'RSS start → end MiB',
            'slope MiB/min',
            'grew',
          ],
          rows: rows.map((row) => [
            row.process,
            row.cpuSecondsPer1000,
            row.peakRssMiB,
            `${row.rssStartMiB} → ${row.rssEndMiB}`,
            row.slopeMiBPerMinute,
            row.grew ? '**yes**' : 'no',
          ]),
        },
      ],
      goals: [
        {
          goal: `no process's memory grows across a ${formatSeconds(soakSeconds)} soak at ${rate} reports/s`,
          figure:
            grown.length === 0
              ? `none grew (${rows.map((r) => `${r.process} ${r.rssStartMiB} → ${r.rssEndMiB} MiB`).join(', ')})`
              : `grew: ${grown.map((r) => `${r.process} ${r.rssStartMiB} → ${r.rssEndMiB} MiB`).join(', ')}`,
          met: grown.length === 0,
        },
      ],
      notes: [
        `A ${formatSeconds(soakSeconds)} soak at ${rate} reports/s after ${context.setting('warmUpSeconds')} s of warm-up; ${accepted} reports accepted, ${stored} stored by the correlator in the same time, ${result.pairs - result.alertsMissing} of ${result.pairs} alerts arrived (POST → alert p50 ${result.alertMs.p50 ?? '∞'} ms, p99 ${result.alertMs.p99 ?? '∞'} ms).`,
        ...(result.streamClosed
          ? [`The gateway closed the analyst's stream during the soak (${result.streamClosed}).`]
          : []),
        ...(backlogAtEnd > 0 || backlogAtStart > 0
          ? [
              `The correlator did not keep up: ${backlogAtStart} reports were still queued when the soak started and ${backlogAtEnd} when it ended.`,
            ]
          : []),
        `CPU is user plus system time from /proc/<pid>/stat over the soak (its alerts' grace included), per 1,000 reports accepted (ingest) or stored (correlator, gateway); peak RSS is VmHWM, the high-water mark since the process started.`,
        `RSS start and end are the medians of the first and last fifth of the samples taken while the load ran (one every ${context.setting('sampleSeconds')} s); "grew" means the end exceeds the start by more than ${GROWTH_SHARE * 100} % and ${GROWTH_MIN_MIB} MiB. The broker and PostgreSQL serve other work on this machine and are not measured.`,
      ],
    };
  },
};

function formatSeconds(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}-minute` : `${seconds} s`;
}
