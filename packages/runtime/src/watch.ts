import type { Logger } from 'pino';
import type { Closable } from './lifecycle.js';

export interface DependencyWatch extends Closable {
  /** True while the last check succeeded. */
  isHealthy(): boolean;
}

export interface WatchOptions {
  /** Names the dependency in logs (`postgres`, `kafka`). */
  name: string;
  /** Resolves when the dependency answers. */
  check: () => Promise<unknown>;
  intervalMs: number;
  /** A check slower than this counts as a failure. */
  checkTimeoutMs?: number;
  /** Failing without a break for this long calls `onLost` once. */
  lossTimeoutMs: number;
  onLost: (lastError: unknown) => void;
  logger: Logger;
  now?: () => number;
}

/**
 * Checks a dependency at a fixed interval. Readiness reads `isHealthy()`; a
 * dependency that stays away longer than `lossTimeoutMs` is reported lost, so
 * the service can stop and let its supervisor restart it rather than linger.
 */
export function watchDependency({
  name,
  check,
  intervalMs,
  checkTimeoutMs = Math.max(1_000, intervalMs),
  lossTimeoutMs,
  onLost,
  logger,
  now = Date.now,
}: WatchOptions): DependencyWatch {
  let healthy = true;
  let failingSince: number | undefined;
  let reported = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const runCheck = async () => {
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise((_, reject) => {
          timeout = setTimeout(
            () => reject(new Error(`${name} did not answer within ${checkTimeoutMs} ms`)),
            checkTimeoutMs,
          );
        }),
      ]);
      if (!healthy) logger.info({ dependency: name }, 'dependency answers again');
      healthy = true;
      failingSince = undefined;
    } catch (error) {
      if (healthy) logger.warn({ dependency: name, err: error }, 'dependency does not answer');
      healthy = false;
      failingSince ??= now();
      if (!reported && now() - failingSince >= lossTimeoutMs) {
        reported = true;
        onLost(error);
      }
    } finally {
      clearTimeout(timeout);
    }
  };

  const loop = async () => {
    if (closed) return;
    await runCheck();
    if (!closed) timer = setTimeout(() => void loop(), intervalMs);
  };
  timer = setTimeout(() => void loop(), intervalMs);

  return {
    isHealthy: () => healthy,
    async close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
