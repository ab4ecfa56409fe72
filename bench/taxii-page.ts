/**
 * The cost of one TAXII objects page, which builds the collection's export
 * from the items read: the policy's choice, one bundle, each object's date
 * added (one small export per item) and the page, against the floor of
 * exporting the same views once. Medians of several rounds in one run.
 *
 *   node_modules/.bin/tsx bench/taxii-page.ts             # 1000 and 10000 reports, 5 rounds
 *   node_modules/.bin/tsx bench/taxii-page.ts 2000 3
 */
// Relative imports: the root package does not depend on the gateway's internals.
import { exportStixBundle } from '../packages/stix/src/index.js';
import { buildStixExport } from '../services/gateway/src/stix/build.js';
import { dated, pageObjects } from '../services/gateway/src/taxii/paging.js';
import type { ReportSource } from '../services/gateway/src/queries/exports.js';

const sizes = process.argv[2] ? [Number(process.argv[2])] : [1_000, 10_000];
const rounds = Number(process.argv[3] ?? 5);
const reader = {
  subject: 'u',
  organisationId: 'water-ceptar',
  sector: 'water' as const,
  roles: ['ceptar' as const],
};
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function reports(count: number): ReportSource[] {
  return Array.from({ length: count }, (_, i) => ({
    id: uuid(i + 1),
    organisationId: i % 3 === 0 ? 'water-ceptar' : `org-${i % 40}`,
    sector: i % 2 ? 'finance' : 'water',
    title: `Report ${i}`,
    description: null,
    category: 'phishing',
    severity: 'high',
    tlp: i % 4 === 0 ? 'AMBER' : 'GREEN',
    detectedAt: '2026-11-01T00:00:00.000Z',
    receivedAt: '2026-11-01T00:00:00.000Z',
    exercise: false,
    indicators: Array.from({ length: 5 }, (_, j) => ({
      type: 'domain' as const,
      value: `d${i}-${j}.example`,
    })),
    addedAt: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
  }));
}

function median(run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

for (const size of sizes) {
  const sources = { reports: reports(size), alerts: [], warnings: [] };
  const names = () => undefined;
  let objects = 0;
  const page = median(() => {
    const { bundle, dateAdded } = buildStixExport(reader, sources, names, { kind: 'community' });
    const all = dated(bundle.objects, dateAdded);
    objects = all.length;
    pageObjects(all, { limit: 100 });
  });
  const views = buildStixExport(reader, sources, names).bundle; // warm-up and a count
  const floor = median(() => {
    exportStixBundle({
      reports: sources.reports.map(
        ({ organisationId: _o, sector: _s, addedAt: _a, description: _d, ...view }) => view,
      ),
    });
  });
  console.log(
    JSON.stringify({
      reports: size,
      objectsInCollection: objects,
      objectsInExport: views.objects.length,
      taxiiPageMs: Math.round(page),
      exportOnceMs: Math.round(floor),
      ratio: Math.round((page / floor) * 100) / 100,
    }),
  );
}
