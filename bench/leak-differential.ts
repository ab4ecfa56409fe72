/**
 * The differential leak check at sizes CI cannot afford (`npm run leak-check`):
 * runs one or more seeds' histories against real hubs (see
 * test/support/leak/index.ts) and prints every finding with the seed and
 * history that reproduce it. Exits 1 when anything leaked.
 *
 *   npm run leak-check -- --seed 7 --reports 60 --tlp-changes 12 --warnings 6 --seeds 3 --every-object
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import {
  CI_SIZE,
  formatLeakReport,
  LEAK_VIEWERS,
  runLeakCheck,
  viewerName,
  type LeakCheckResult,
} from '../test/support/leak/index.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string', default: '1' },
    reports: { type: 'string', default: '40' },
    'tlp-changes': { type: 'string', default: '10' },
    warnings: { type: 'string', default: '5' },
    'every-object': { type: 'boolean', default: false },
    'every-moment': { type: 'boolean', default: false },
    control: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    viewers: { type: 'string' },
    'quiet-ms': { type: 'string', default: '300' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    'npm run leak-check -- [--seed N] [--seeds K] [--reports N] [--tlp-changes N] [--warnings N]\n' +
      '  [--every-object] [--every-moment] [--viewers org/role,…] [--control] [--keep] [--json file]\n' +
      `CI runs ${CI_SIZE.reports} reports, ${CI_SIZE.tlpChanges} TLP changes and ${CI_SIZE.warnings} warnings per seed.`,
  );
  process.exit(0);
}

execFileSync(path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh'), ['start'], { stdio: 'inherit' });

const first = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const size = {
  reports: Number(values.reports),
  tlpChanges: Number(values['tlp-changes']),
  warnings: Number(values.warnings),
};
const results: LeakCheckResult[] = [];
for (let n = 0; n < Number(values.seeds); n += 1) {
  const seed = first + n;
  const started = Date.now();
  const result = await runLeakCheck({
    seed,
    size,
    everyObject: values['every-object'],
    everyMoment: values['every-moment'],
    control: values.control,
    keepDatabases: values.keep,
    ...(values.viewers
      ? { viewers: LEAK_VIEWERS.filter((v) => values.viewers!.split(',').includes(viewerName(v))) }
      : {}),
    quietMs: Number(values['quiet-ms']),
    log: (message) => console.log(`  ${message}`),
  });
  results.push(result);
  console.log(formatLeakReport(result));
  console.log(
    `seed ${seed}: ${((Date.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(result.timings)}; ` +
      `waiting per path (ms) ${JSON.stringify(result.requestMs)}\n`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
const leaked = results.filter((r) => r.findings.length > 0).map((r) => r.seed);
console.log(leaked.length ? `findings for seeds ${leaked.join(', ')}` : 'no findings');
process.exit(leaked.length ? 1 : 0);
