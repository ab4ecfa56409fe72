/**
 * The policy's cost per event: a non-analyst's view is replayed from every
 * version of the record, so it grows with versions × contributions. Measured
 * against the analyst's view (the record as it is) in the same run, for
 * alerts of growing size, with one view per audience as the stream makes them.
 *
 *   npm run bench:policy
 */
import { performance } from 'node:perf_hooks';
import { TLP_LEVELS, type AlertContribution, type AlertRecord, type Principal } from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { viewAlertChange } from '@renkei/policy';

const AUDIENCES = 100;

function record(organisations: number): AlertRecord {
  const contributions: AlertContribution[] = Array.from({ length: organisations }, (_, index) =>
    contributionFixture({
      organisationId: `org-${index}`,
      sector: index % 2 === 0 ? 'finance' : 'water',
      tlp: TLP_LEVELS[index % TLP_LEVELS.length]!,
      addedInVersion: Math.max(1, index),
    }),
  );
  const version = Math.max(1, organisations - 1);
  return alertRecordFixture({
    version,
    contributions,
    history: Array.from({ length: version }, (_, index) => ({
      version: index + 1,
      at: new Date(Date.parse('2026-11-28T00:00:00Z') + index * 60_000).toISOString(),
      change: 'contribution' as const,
    })),
  });
}

const viewers: Principal[] = Array.from({ length: AUDIENCES }, (_, index) => ({
  subject: `viewer-${index}`,
  organisationId: `org-${index}`,
  sector: 'finance',
  roles: ['reporter'],
}));
const analyst: Principal = {
  subject: 'a',
  organisationId: 'gsoc',
  sector: 'central-government',
  roles: ['analyst'],
};

function rate(run: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(50, iterations); i += 1) run();
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) run();
  return iterations / ((performance.now() - started) / 1000);
}

console.log(`views of one alert version for ${AUDIENCES} audiences (one per organisation), per second`);
for (const organisations of [2, 5, 10, 25]) {
  const alert = record(organisations);
  const iterations = Math.max(20, Math.floor(20_000 / (organisations * organisations)));
  // A fresh record object per event, as the feed brings: the policy caches per record object.
  const recomputed = rate(() => {
    const event = { ...alert };
    for (const viewer of viewers) JSON.stringify(viewAlertChange(viewer, event));
  }, iterations);
  const baseline = rate(() => {
    const event = { ...alert };
    for (let i = 0; i < AUDIENCES; i += 1) JSON.stringify(viewAlertChange(analyst, event));
  }, iterations);
  console.log(
    `${String(organisations).padStart(3)} organisations, ${String(alert.version).padStart(2)} versions: ` +
      `${(recomputed * AUDIENCES).toFixed(0).padStart(9)} views/s recomputed, ` +
      `${(baseline * AUDIENCES).toFixed(0).padStart(9)} views/s as analyst (ratio ${(recomputed / baseline).toFixed(2)})`,
  );
}
