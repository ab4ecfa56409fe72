/**
 * `npm run faults`: the fault suite. Each scenario runs against processes this
 * command starts (the services on ports of their own), a PostgreSQL cluster it
 * creates (pg_createcluster on a free port; dropped at the end) and Kafka
 * brokers of its own (kafka.sh with a private state dir and ports; secured as
 * the hub is by default, each service its own principal, unless
 * KAFKA_SECURITY=plaintext): never the shared PostgreSQL at 5432 or the shared
 * broker at 9092. Scenarios run one at a time. Prints a table and writes docs/RELIABILITY.md.
 *
 *   npm run faults                                # every scenario, full size (about half an hour)
 *   npm run faults -- --smoke                     # every scenario, small: checks it all still runs
 *   npm run faults -- --only postgres-stop --set postgres-stop.stopSeconds=60
 *   npm run faults -- --list                      # scenarios and their settings
 *   npm run faults -- --note 'before the fixes'   # a sentence for docs/RELIABILITY.md
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { topicNames } from '@renkei/bus';
import { createPool, ensureDatabase, migrate, type Pool } from '@renkei/db';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { createTestKeys, registerOrganisations, TEST_ORGANISATIONS } from '@renkei/testing';
import { answersLogged, FAULTS_STATE_DIR, Hub, LOG_DIR } from './lib/hub.js';
import { startPrivateKafka, type PrivateKafka } from './lib/kafka.js';
import { Submitter } from './lib/load.js';
import { LoopWatch } from './lib/loop-watch.js';
import { createPrivateCluster } from './lib/postgres.js';
import { FAULT_SCENARIOS, type FaultContext, type FaultRow, type FaultScenario } from './scenarios.js';
import { describeScenarios, selectScenarios, settingOverrides } from '../../bench/lib/scenario-args.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    markdown: { type: 'string' },
    /** A sentence for the document, under the run's date (what this run was of). */
    note: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
  strict: true,
});

if (args.list) {
  console.log(describeScenarios(FAULT_SCENARIOS));
  process.exit(0);
}

const selected = selectScenarios(FAULT_SCENARIOS, args.only);
const overrides = settingOverrides(FAULT_SCENARIOS, args.set);

const runStarted = performance.now();
const log = (message: string) =>
  console.log(`[faults +${((performance.now() - runStarted) / 1000).toFixed(1).padStart(6)}s] ${message}`);
const mode = args.smoke ? 'smoke' : 'full';
const startedAt = new Date();
// The code that runs is the code at the start: commits made during a long run must not be credited with it.
const startCommit = commit();
log(
  `${mode} run of ${selected.map((s) => s.name).join(', ')}; service logs in ${path.relative(REPOSITORY_ROOT, LOG_DIR)}`,
);

const releases: { what: string; release: () => Promise<unknown> }[] = [];
async function releaseAll(): Promise<void> {
  for (const { what, release } of releases.splice(0).reverse())
    await release().catch((error: unknown) =>
      log(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`),
    );
}
process.once('SIGINT', () => {
  log('interrupted: stopping what the run started');
  void releaseAll().finally(() => process.exit(130));
});

const keys = await createTestKeys();
releases.push({ what: 'remove the signing keys', release: () => keys.remove() });
const cluster = await createPrivateCluster(log);
releases.push({ what: `drop the cluster ${cluster.name}`, release: () => cluster.drop() });
const tokens = {
  first: await keys.token(
    { org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'], sub: 'faults' },
    '12h',
  ),
  second: await keys.token(
    { org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'], sub: 'faults' },
    '12h',
  ),
  analyst: await keys.token(
    { org: 'gsoc', sector: 'central-government', roles: ['analyst'], sub: 'faults' },
    '12h',
  ),
};

let singleKafka: Promise<PrivateKafka> | undefined;
const kafka = () => {
  singleKafka ??= startPrivateKafka(1, log).then((started) => {
    releases.push({ what: 'remove the private broker', release: () => started.remove() });
    return started;
  });
  return singleKafka;
};

const rows: FaultRow[] = [];
for (const scenario of selected) {
  log(`${scenario.name}: ${scenario.title}`);
  const loadBefore = loadavg()[0]!;
  rows.push(await runScenario(scenario));
  const row = rows.at(-1)!;
  // Latencies on a shared machine mean little without how busy it was (other work included).
  row.notes.push(
    `load average (1 min) ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end, on ${availableParallelism()} cores`,
  );
  log(`${scenario.name}: ${verdict(row)}${row.failures.length ? ` (${row.failures.join('; ')})` : ''}`);
}
await releaseAll();

const table = renderTable(rows);
console.log(`\n${table}\n`);
for (const row of rows) for (const line of details(row)) console.log(line);
const markdownFile = path.resolve(
  args.markdown ??
    (args.smoke
      ? path.join(FAULTS_STATE_DIR, 'RELIABILITY.md')
      : path.join(REPOSITORY_ROOT, 'docs/RELIABILITY.md')),
);
mkdirSync(path.dirname(markdownFile), { recursive: true });
writeFileSync(
  markdownFile,
  await prettier.format(renderDocument(rows), { parser: 'markdown', proseWrap: 'preserve' }),
);
log(`wrote ${path.relative(REPOSITORY_ROOT, markdownFile)}`);
process.exit(rows.every((row) => verdict(row) === 'pass') ? 0 : 1);

async function runScenario(scenario: FaultScenario): Promise<FaultRow> {
  const started = performance.now();
  const scoped: { what: string; release: () => Promise<unknown> }[] = [];
  const ingestLabels: string[] = [];
  const watches: LoopWatch[] = [];
  const context: FaultContext = {
    smoke: args.smoke,
    setting(name) {
      const override = overrides.get(`${scenario.name}.${name}`);
      if (override !== undefined) return override;
      const setting = scenario.settings[name];
      if (!setting) throw new Error(`${scenario.name} reads a setting it does not declare: ${name}`);
      return args.smoke ? setting.smoke : setting.full;
    },
    log: (message) => log(`[${scenario.name}] ${message}`),
    clock: () => performance.now() - started,
    cluster,
    kafka,
    async kafkaCluster() {
      const started3 = await startPrivateKafka(3, log);
      scoped.push({ what: 'remove the three-node cluster', release: () => started3.remove() });
      return started3;
    },
    tokens,
    async startHub(options = {}) {
      const database = `renkei_faults_${randomBytes(4).toString('hex')}`;
      const url = `${cluster.serverUrl}/${database}`;
      await ensureDatabase(url);
      const pool: Pool = createPool(url, { max: 4 });
      // A pool that loses its server (the database scenarios) must not take the run down with it.
      pool.on('error', () => undefined);
      scoped.push({ what: 'close the oracle pool', release: () => pool.end() });
      await migrate(pool);
      await registerOrganisations({ pool }, [
        TEST_ORGANISATIONS.gsoc,
        TEST_ORGANISATIONS.mlitCsirt,
        TEST_ORGANISATIONS.financeCeptar,
      ]);
      const prefix = `faults-${randomBytes(4).toString('hex')}.`;
      const broker = options.kafka ?? (await kafka());
      const brokers = broker.brokers;
      // Secured brokers: the admin makes the topics and grants the ACLs, as `renkei topics` does.
      await broker.prepare(prefix);
      const hub = await Hub.start({
        databaseUrl: url,
        brokers,
        kafkaEnv: broker.clientEnv,
        prefix,
        jwksFile: keys.jwksFile,
        correlators: options.correlators ?? 1,
        env: options.env ?? {},
        clock: context.clock,
      });
      scoped.push({ what: 'stop the hub', release: () => hub.close() });
      ingestLabels.push(hub.ingest.label);
      const watch = new LoopWatch(hub.ingest.metricsUrl, context.clock);
      watches.push(watch);
      scoped.push({ what: 'stop watching the event loops', release: async () => watch.stop() });
      context.log(`hub up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return { hub, pool, prefix, topic: { kafka: broker.client(), name: topicNames(prefix).reports } };
    },
    submitter(hub, retryForMs = 60_000) {
      const submitter = new Submitter({
        origin: () => hub.ingest.url,
        tokens,
        retryForMs,
        clock: context.clock,
        tag: `${scenario.name}-${randomBytes(3).toString('hex')}`,
      });
      scoped.push({ what: 'close the clients', release: () => submitter.close() });
      return submitter;
    },
  };
  try {
    const row = await scenario.run(context);
    for (const label of ingestLabels) {
      const { statuses, slowestMs } = answersLogged(label);
      row.notes.push(
        `${label} logged its answers to POST /v1/reports as ${JSON.stringify(statuses)}, the slowest in ${Math.round(slowestMs)} ms`,
      );
    }
    for (const watch of watches) row.notes.push(watch.summary());
    return row;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${scenario.name} could not run: ${message}`);
    return {
      scenario: scenario.name,
      done: scenario.title,
      recovery: '',
      exits: [],
      failures: [`error: ${message}`],
      notes: [],
    };
  } finally {
    for (const { what, release } of scoped.reverse())
      await release().catch((error: unknown) =>
        log(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`),
      );
    // A database scenario may leave the cluster stopped when it fails half-way: the next one needs it.
    if (!(await cluster.answers())) await cluster.start().catch(() => undefined);
  }
}

function verdict(row: FaultRow): 'pass' | 'FAIL' | 'ERROR' {
  if (row.failures.some((failure) => failure.startsWith('error:'))) return 'ERROR';
  return row.failures.length === 0 && row.exits.length === 0 ? 'pass' : 'FAIL';
}

function renderTable(all: FaultRow[]): string {
  const header = [
    'scenario',
    'what was done',
    '202s',
    '503s / other',
    'stored once / lost / duplicated',
    'alerts expected / got',
    'POST p99',
    'recovery',
    'verdict',
  ];
  const lines = all.map((row) => {
    const o = row.oracle;
    const other = o
      ? Object.entries(o.non202)
          .map(([status, n]) => `${n}× ${status}`)
          .join(', ') || '0'
      : '';
    return [
      row.scenario,
      row.done,
      o ? String(o.accepted) : '',
      other + (o && o.gaveUp ? ` (${o.gaveUp} ids never 202)` : ''),
      o ? `${o.storedOnce} / ${o.lost} / ${o.duplicated}` : '',
      o ? `${o.alertsExpected} / ${o.alertsGot}` : '',
      row.p99Ms === undefined ? '' : `${Math.round(row.p99Ms)} ms`,
      row.recovery,
      verdict(row),
    ];
  });
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [header, header.map(() => '---'), ...lines]
    .map((cells) => `| ${cells.map(escape).join(' | ')} |`)
    .join('\n');
}

function details(row: FaultRow): string[] {
  const lines = [...row.failures, ...row.exits, ...row.notes];
  if (row.oracle)
    lines.push(
      `ledger not accepted: ${row.oracle.ledgerNotAccepted}; audited other than once: ${row.oracle.auditNotOnce}` +
        (row.oracle.alertsUnanswered
          ? `; ${row.oracle.alertsUnanswered} alerts of pairs with a report never answered 202 (stored though refused: allowed, a 503 may or may not be stored)`
          : ''),
    );
  if (row.stream)
    lines.push(
      `stream: ${row.stream.expected} events in the feed; missing ${row.stream.missing}, repeated ${row.stream.repeated}, out of order ${row.stream.outOfOrder}`,
    );
  return lines.map((line) => `- **${row.scenario}** (${verdict(row)}): ${line}`);
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPOSITORY_ROOT })
      .toString()
      .trim();
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: REPOSITORY_ROOT })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPOSITORY_ROOT,
    })
      .toString()
      .trim();
    return `${sha} on ${branch}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

function renderDocument(all: FaultRow[]): string {
  const settings = [...overrides.entries()].map(([key, value]) => `\`${key}=${value}\``).join(', ');
  return `# Reliability

What the hub does when one of its parts fails, measured by the fault suite
(\`npm run faults\`, code in \`test/faults/\`). Each scenario starts its own
services on ports of their own, a fresh database on a PostgreSQL cluster the
run creates (\`pg_createcluster\` on a free port, dropped at the end) and Kafka
brokers of its own (\`infra/kafka/kafka.sh\` with a private state directory and
ports), never the shared PostgreSQL or broker, and runs one scenario at a time.

## How to run

\`\`\`
npm run faults                       # every scenario, full size (about half an hour)
npm run faults -- --smoke            # every scenario, small (checks that it all still runs)
npm run faults -- --only broker-cluster,postgres-stop
npm run faults -- --set postgres-stop.stopSeconds=60
npm run faults -- --list             # scenarios and their settings
\`\`\`

A full run writes this file; a smoke run writes \`.renkei/faults/RELIABILITY.md\`
unless \`--markdown\` names another. The command exits 1 when a scenario fails.
Service logs are in \`.renkei/faults/logs/<start time>/\`, one file per process.

## The oracle

The clients send reports in pairs: two organisations (an agency CSIRT and a
CEPTAR) name the same fresh indicator, so every pair whose two reports were
answered 202 must raise exactly one alert, and nothing else correlates. A client
retries a POST with the **same id** where a real one would (no answer, 429 or
5xx), with capped exponential backoff and jitter, for a bounded time. Then, for
the set of ids answered 202:

- **stored once**: each is in \`reports\`; **lost**: answered 202, never stored;
  **duplicated**: a report counted twice (a pair's alert past version 1, or one
  report causing two alert versions);
- **alerts**: one per correlating pair;
- the ledger row of each is \`accepted\` and \`report.submitted\` is audited exactly once;
- stream clients (gateway scenario) receive every alert event of the feed once, in position order.

A service that exits without being told to is restarted by the run with the
backoff of \`npm run up\`'s supervisor (\`packages/supervisor\`), and the exit
fails the scenario: the hub is meant to degrade, not exit.

## Scenarios

${FAULT_SCENARIOS.map(
  (scenario) =>
    `- \`${scenario.name}\`: ${scenario.title}. Settings: ${Object.entries(scenario.settings)
      .map(([name, s]) => `\`${name}\` ${s.full} (smoke ${s.smoke}): ${s.description}`)
      .join('; ')}.`,
).join('\n')}

## Last run

${mode} run${settings ? ` with ${settings}` : ''}, started ${startedAt.toISOString()}, commit ${startCommit}.
${args.note ? `\n${args.note}\n` : ''}
${renderTable(all)}

${all.flatMap(details).join('\n')}
`;
}
