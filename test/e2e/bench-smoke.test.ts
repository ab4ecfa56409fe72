import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { RESULTS_SCHEMA, type RunResults } from '../../bench/lib/results.js';
import { SCENARIOS } from '../../bench/scenarios.js';

/**
 * `npm run bench -- --smoke` runs every scenario end to end with a tiny load,
 * so the benchmark cannot rot between the runs that matter. Its figures mean
 * nothing on a shared machine and are never asserted: only that it ran.
 */
describe('the benchmark in smoke mode', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every scenario and writes a result for each', { timeout: 300_000 }, async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'renkei-bench-smoke-'));
    const resultsFile = path.join(dir, 'results.json');
    const markdownFile = path.join(dir, 'BENCHMARKS.md');
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--smoke', '--results', resultsFile, '--markdown', markdownFile],
        { cwd: REPOSITORY_ROOT, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, output: stdout + stderr }),
      );
    });
    expect(run.code, run.output).toBe(0);

    const results = JSON.parse(await readFile(resultsFile, 'utf8')) as RunResults;
    expect(results.schema).toBe(RESULTS_SCHEMA);
    expect(results.mode).toBe('smoke');
    expect(results.scenarios.map((scenario) => scenario.name)).toEqual(SCENARIOS.map((s) => s.name));
    for (const scenario of results.scenarios) {
      expect(scenario.status, `${scenario.name}: ${scenario.error}`).toBe('ok');
      expect(scenario.result?.tables.length, scenario.name).toBeGreaterThan(0);
      for (const goal of scenario.result?.goals ?? []) expect(typeof goal.met).toBe('boolean');
    }
    expect(Object.values(results.exitCodes), 'every process drained and exited 0').toEqual(
      Object.values(results.exitCodes).map(() => 0),
    );

    const markdown = await readFile(markdownFile, 'utf8');
    expect(markdown).toMatch(/^# Benchmarks/);
    for (const scenario of SCENARIOS) expect(markdown).toContain(`### ${scenario.title}`);
  });
});
