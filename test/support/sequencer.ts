import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Suites that take minutes, longest first. Two integration suites run at a
 * time; without a cache of earlier durations (every CI run starts from a
 * fresh clone) vitest starts the largest files first, and the leak test, a
 * small file that drives a long run, started last and set the end of the
 * whole run alone. Starting these first lets the short suites fill in beside
 * them. Files not named keep vitest's order after them.
 */
const LONGEST_FIRST = [
  // Measured on a quiet 2-core machine (full run, 2026-12-07), longest first.
  'test/e2e/console-floor.test.ts',
  'test/e2e/bench-smoke.test.ts',
  'test/e2e/up-down.test.ts',
  'test/e2e/broker-loss.test.ts',
  'test/e2e/leak-differential.test.ts',
  'test/e2e/stream-gateways.test.ts',
  'test/e2e/console.test.ts',
  'test/e2e/exercise.test.ts',
  'test/e2e/backup-restore.test.ts',
  'test/integration/kafka-auth.test.ts',
  'services/ingest/test/integration/app.test.ts',
  'test/e2e/delivery-crash.test.ts',
  'test/e2e/access.test.ts',
  'test/e2e/correlation.test.ts',
  'test/e2e/partner-imports.test.ts',
  'services/correlator/test/integration/storable.test.ts',
  'test/e2e/interop.test.ts',
  'test/integration/bounded-requests.test.ts',
  'test/e2e/exercise-purge.test.ts',
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const index = LONGEST_FIRST.indexOf(path.relative(spec.project.config.root, spec.moduleId));
      return index < 0 ? LONGEST_FIRST.length : index;
    };
    // Stable: within a project, named suites by their rank, the rest as vitest had them.
    return sorted
      .map((spec, order) => ({ spec, order }))
      .sort(
        (a, b) =>
          a.spec.project.config.sequence.groupOrder - b.spec.project.config.sequence.groupOrder ||
          rank(a.spec) - rank(b.spec) ||
          a.order - b.order,
      )
      .map(({ spec }) => spec);
  }
}
