import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '@renkei/metrics';

function delays(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const match of text.matchAll(/^renkei_event_loop_delay_seconds\{([^}]*)\} (\S+)$/gm)) {
    const quantile = /quantile="([^"]+)"/.exec(match[1]!)![1]!;
    found.set(quantile, Number(match[2]));
  }
  return found;
}

describe('renkei_event_loop_delay_seconds', () => {
  it('shows a blocked loop once, in the scrape after the stall', async () => {
    const metrics = createMetrics('test');
    await sleep(50);
    await metrics.registry.metrics(); // starts a fresh window
    // The monitor drops its first interval after a reset.
    await sleep(30);
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // Blocks the loop, as a quadratic walk over a body would.
    }
    await sleep(30);
    const stalled = delays(await metrics.registry.metrics());
    expect([...stalled.keys()].sort()).toEqual(['0.5', '0.9', '0.99', '1']);
    expect(stalled.get('1')).toBeGreaterThanOrEqual(0.1);
    expect(stalled.get('0.5')).toBeLessThanOrEqual(stalled.get('1')!);

    await sleep(100);
    const after = delays(await metrics.registry.metrics());
    expect(after.get('1')).toBeLessThan(0.1);
  });

  it('carries the service label like every other series', async () => {
    const text = await createMetrics('gateway').registry.metrics();
    expect(text).toMatch(/renkei_event_loop_delay_seconds\{quantile="0\.99",service="gateway"\} /);
  });
});
