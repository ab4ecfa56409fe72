import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, failuresInRow, restartDelay } from '../src/backoff.js';

describe('restart backoff', () => {
  it('doubles from the base up to the ceiling', () => {
    const policy = { baseMs: 500, maxMs: 30_000, stableMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((failures) => restartDelay(failures, policy))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
    expect(restartDelay(0, policy)).toBe(0);
  });

  it('counts failures in a row, and starts again from one after a stable run', () => {
    expect(failuresInRow(0, 100, DEFAULT_BACKOFF)).toBe(1);
    expect(failuresInRow(4, 100, DEFAULT_BACKOFF)).toBe(5);
    expect(failuresInRow(4, DEFAULT_BACKOFF.stableMs, DEFAULT_BACKOFF)).toBe(1);
  });
});
