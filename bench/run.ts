/**
 * `npm run bench`: every scenario of bench/scenarios.ts in one run, on a stack
 * this command starts for itself (Kafka through kafka.sh, databases and topic
 * prefixes of its own, the services as processes, load from processes of its
 * own). Writes bench/results/<date>.json and appends a section to BENCHMARKS.md.
 *
 *   npm run bench                              # everything, full length (about half an hour)
 *   npm run bench -- --smoke                   # everything, seconds each: checks it all still runs
 *   npm run bench -- --only ingest-http,end-to-end
 *   npm run bench -- --set resources.soakSeconds=60
 *   npm run bench -- --list                    # scenarios and their settings
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { createTestKeys } from '@renkei/testing';
import { BenchResources, scenarioContext } from './lib/context.js';
import { describeMachine } from './lib/machine.js';
import { BENCH_STATE_DIR } from './lib/processes.js';
import {
  BENCHMARKS_PREAMBLE,
  renderRun,
  renderTable,
  RESULTS_SCHEMA,
  type RunResults,
  type ScenarioRecord,
} from './lib/results.js';
import { SCENARIOS } from './scenarios.js';
import { describeScenarios, selectScenarios, settingOverrides } from './lib/scenario-args.js';

const argv = process.argv.slice(2);
const { values: args } = parseArgs({
  args: argv,
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    results: { type: 'string' },
    markdown: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
  strict: true,
});

if (args.list) {
  console.log(describeScenarios(SCENARIOS));
  process.exit(0);
}

const selected = selectScenarios(SCENARIOS, args.only);
const overrides = settingOverrides(SCENARIOS, args.set);

const mode = args.smoke ? 'smoke' : 'full';
const startedAt = new Date();
const stamp = startedAt
  .toISOString()
  .replace(/:/g, '-')
  .replace(/\.\d+Z$/, 'Z');
// A smoke run's figures mean nothing: they stay out of the repository.
const outputDir = args.smoke
  ? path.join(BENCH_STATE_DIR, 'smoke')
  : path.join(REPOSITORY_ROOT, 'bench/results');
const resultsFile = path.resolve(args.results ?? path.join(outputDir, `${stamp}.json`));
const markdownFile = path.resolve(
  args.markdown ??
    (args.smoke ? path.join(outputDir, 'BENCHMARKS.md') : path.join(REPOSITORY_ROOT, 'BENCHMARKS.md')),
);

const runStarted = performance.now();
const log = (message: string) =>
  console.log(`[bench +${((performance.now() - runStarted) / 1000).toFixed(1).padStart(6)}s] ${message}`);

execFileSync(path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh'), ['start'], { stdio: 'inherit' });
const machine = await describeMachine();
log(
  `${mode} run of ${selected.map((s) => s.name).join(', ')} on ${machine.cores} cores, load average ${machine.loadAverageAtStart}`,
);

const runScope = new BenchResources();
const scopes = [runScope];
const keys = await createTestKeys();
runScope.defer('remove the signing keys', () => keys.remove());

// Ctrl-C still removes the databases and topics and stops the processes.
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  log('interrupted: stopping what the run started');
  void Promise.all(scopes.map((scope) => scope.releaseAll(log))).finally(() => process.exit(130));
});

const records: ScenarioRecord[] = [];
for (const scenario of selected) {
  if (interrupted) break;
  const scope = new BenchResources();
  scopes.push(scope);
  const context = scenarioContext(scenario, scope, runScope, { smoke: args.smoke, overrides, log, keys });
  const settings = Object.fromEntries(
    Object.keys(scenario.settings).map((name) => [name, context.setting(name)]),
  );
  log(`${scenario.name}: ${scenario.title}`);
  const began = performance.now();
  const record: ScenarioRecord = {
    name: scenario.name,
    title: scenario.title,
    status: 'ok',
    seconds: 0,
    settings,
  };
  try {
    record.result = await scenario.run(context);
  } catch (error) {
    record.status = 'failed';
    record.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${scenario.name} failed: ${record.error}`);
  } finally {
    await scope.releaseAll(log);
  }
  record.seconds = Math.round((performance.now() - began) / 100) / 10;
  records.push(record);
  for (const goal of record.result?.goals ?? [])
    log(`${goal.met ? 'met    ' : 'NOT MET'} ${goal.goal}: ${goal.figure}`);
}
await runScope.releaseAll(log);

const results: RunResults = {
  schema: RESULTS_SCHEMA,
  mode,
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  argv,
  machine,
  loadAverageAtEnd: Math.round(loadavg()[0]! * 100) / 100,
  scenarios: records,
  exitCodes: Object.assign({}, ...scopes.map((scope) => scope.exitCodes)) as Record<string, number | null>,
};
mkdirSync(path.dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, await formatted(resultsFile, JSON.stringify(results, null, 2)));
mkdirSync(path.dirname(markdownFile), { recursive: true });
const earlier = existsSync(markdownFile) ? readFileSync(markdownFile, 'utf8') : BENCHMARKS_PREAMBLE;
const section = renderRun(results, path.relative(REPOSITORY_ROOT, resultsFile));
writeFileSync(markdownFile, await formatted(markdownFile, `${earlier.trimEnd()}\n\n${section}`));

const goals = records.flatMap((record) => record.result?.goals ?? []);
if (goals.length > 0)
  console.log(
    '\n' +
      renderTable({
        columns: ['goal', 'figure', 'met'],
        rows: goals.map((g) => [g.goal, g.figure, g.met ? 'yes' : 'NO']),
      }),
  );
log(
  `results in ${path.relative(process.cwd(), resultsFile)}; section appended to ${path.relative(process.cwd(), markdownFile)}`,
);
const failed = records.filter((record) => record.status === 'failed');
if (failed.length > 0) {
  log(`failed: ${failed.map((record) => record.name).join(', ')}`);
  process.exitCode = 1;
}

/** As the repository's formatter would write it: a committed run passes the format check. */
async function formatted(file: string, text: string): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}
