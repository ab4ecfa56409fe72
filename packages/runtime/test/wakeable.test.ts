import { describe, expect, it } from 'vitest';
import { Wakeable } from '../src/index.js';

describe('Wakeable', () => {
  const timed = async (work: Promise<void>) => {
    const started = performance.now();
    await work;
    return performance.now() - started;
  };

  it('sleeps the whole pause when nobody wakes it', async () => {
    expect(await timed(new Wakeable().pause(50))).toBeGreaterThanOrEqual(45);
  });

  it('ends a running pause on wake', async () => {
    const sleep = new Wakeable();
    const paused = timed(sleep.pause(10_000));
    sleep.wake();
    expect(await paused).toBeLessThan(1_000);
  });

  it('keeps a wake that came during a round for the next pause, until the next round begins', async () => {
    const sleep = new Wakeable();
    sleep.wake();
    expect(await timed(sleep.pause(10_000))).toBeLessThan(1_000);
    sleep.beginRound();
    expect(await timed(sleep.pause(50))).toBeGreaterThanOrEqual(45);
  });

  it('never sleeps once closed', async () => {
    const sleep = new Wakeable();
    const paused = timed(sleep.pause(10_000));
    sleep.close();
    expect(await paused).toBeLessThan(1_000);
    sleep.beginRound();
    expect(await timed(sleep.pause(10_000))).toBeLessThan(1_000);
  });
});
