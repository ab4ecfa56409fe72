import type { Machine } from './machine.js';
import type { ScenarioResult, Table } from './scenario.js';

export const RESULTS_SCHEMA = 'renkei.bench.v1';

/** What one run writes to bench/results/<date>.json. */
export interface RunResults {
  schema: typeof RESULTS_SCHEMA;
  mode: 'full' | 'smoke';
  startedAt: string;
  finishedAt: string;
  /** The arguments the run was given. */
  argv: string[];
  machine: Machine;
  /** One-minute load average when the run ended: with the machine's at the start, how busy the run's time was. */
  loadAverageAtEnd: number;
  scenarios: ScenarioRecord[];
  /** How each process the run started exited when it was stopped (0: drained cleanly). */
  exitCodes: Record<string, number | null>;
}

export interface ScenarioRecord {
  name: string;
  title: string;
  status: 'ok' | 'failed';
  error?: string;
  seconds: number;
  /** The settings it ran with. */
  settings: Record<string, number>;
  result?: ScenarioResult;
}

export const BENCHMARKS_PREAMBLE = `# Benchmarks

Every \`npm run bench\` appends a section here and writes its figures to
\`bench/results/<date>.json\`; bench/README.md says what each scenario measures.

The machines these runs come from are shared: the Kafka broker, PostgreSQL, the
services, the floors and the load processes all run on one small machine, often
beside other engineers' test runs. Absolute rates move from run to run, so read
the **ratios**: each compares the hub with a raw floor measured in the same run,
interleaved with it (floor, hub, floor, hub, …), and is the median of the rounds.
Latency goals are absolute and therefore the most sensitive to a busy machine.
`;

export function renderRun(results: RunResults, resultsFile: string): string {
  const { machine } = results;
  const lines: string[] = [];
  const when = results.startedAt.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  lines.push(`## ${when} — ${results.mode} run, commit ${machine.commit}`, '');
  lines.push(
    `**Machine:** ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB memory, ${machine.os}, ` +
      `Node ${machine.node}, Kafka ${machine.kafka}, PostgreSQL ${machine.postgres}; ` +
      `load average ${machine.loadAverageAtStart} when the run started and ${results.loadAverageAtEnd} when it ended. ${machine.note}`,
    '',
  );
  lines.push(
    `Command: \`npm run bench${results.argv.length > 0 ? ' -- ' + results.argv.join(' ') : ''}\`. Results: \`${resultsFile}\`.`,
    '',
  );

  const goals = results.scenarios.flatMap((scenario) => scenario.result?.goals ?? []);
  if (goals.length > 0) {
    lines.push(
      renderTable({
        columns: ['goal', 'figure', 'met'],
        rows: goals.map((goal) => [goal.goal, goal.figure, goal.met ? 'yes' : '**no**']),
      }),
      '',
    );
  }
  for (const scenario of results.scenarios) {
    lines.push(`### ${scenario.title}`, '');
    if (scenario.status === 'failed' || !scenario.result) {
      lines.push(`Failed: ${scenario.error?.split('\n')[0] ?? 'no result'}`, '');
      continue;
    }
    for (const table of scenario.result.tables) {
      if (table.caption) lines.push(table.caption, '');
      lines.push(renderTable(table), '');
    }
    for (const note of scenario.result.notes ?? []) lines.push(`- ${note}`);
    if (scenario.result.notes?.length) lines.push('');
  }
  const unclean = Object.entries(results.exitCodes).filter(([, code]) => code !== 0);
  if (unclean.length > 0) {
    lines.push(
      `Processes that did not exit 0 when stopped: ${unclean.map(([label, code]) => `${label} (${code})`).join(', ')}.`,
      '',
    );
  }
  return lines.join('\n');
}

export function renderTable(table: Table): string {
  const cell = (value: string | number | null) =>
    (value === null ? '—' : String(value)).replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    `| ${table.columns.map(cell).join(' | ')} |`,
    `| ${table.columns.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}
