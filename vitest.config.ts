import { configDefaults, defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/support/sequencer.js';

// Two projects: unit tests need no services; integration tests run the real
// broker, database and services as separate processes.
export default defineConfig({
  test: {
    // The long integration suites start first, so the short ones fill in beside them.
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          // Unit tests first (in parallel, as many as there are cores), then integration.
          sequence: { groupOrder: 0 },
          include: [
            'packages/*/test/**/*.test.ts',
            'services/*/test/unit/**/*.test.ts',
            // Checks of the repository's own files (docker-compose.yml, scripts) that start nothing.
            'test/infra/**/*.test.ts',
            // The benchmark's own pure helpers.
            'bench/test/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, 'packages/*/test/integration/**'],
          environment: 'node',
          // The files of a worker share one module graph instead of importing it anew
          // each: importing took 54 s of a 134 s unit run (2,133 tests, 100 files), and
          // without it the run takes 56 s with a third of the CPU. Unit tests keep no
          // state between files (they pass in any order: --sequence.shuffle).
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'packages/*/test/integration/**/*.test.ts',
            'services/*/test/integration/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, 'test/infra/**'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Suites are independent (each has its own database and topic prefix on the
          // shared broker), so two run at once: on a 2-core machine much of a suite's
          // time is spent waiting on the broker and on spawned services.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
