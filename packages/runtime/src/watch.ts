import type { Logger } from 'pino';
import type { Closable } from './lifecycle.js';

/** Something readiness depends on, named as `/readyz` names it when it is missing. */
export interface ReadinessCheck {
  /** `postgres`, `kafka`, `kafka-consumer`… */
  readonly name: string;
  isHealthy(): boolean;
}

export interface DependencyWatch extends Closable, ReadinessCheck {}

/**
 * What `/readyz` reports: the names of the checks that fail, in the order
 * given (an empty list means ready).
 */
export function missingDependencies(checks: readonly ReadinessCheck[]): { missing: string[] } {
  return { missing: checks.filter((check) => !check.isHealthy()).map((check) => check.name) };
}

export interface WatchOptions {
  /** Names the dependency in logs (`postgres`, `kafka`). */
  name: string;
  /** Resolves when the dependency answers. */
  check: () => Promise<unknown>;
  intervalMs: number;
  /** A check slower than this counts as a failure. */
  checkTimeoutMs?: number;
  /**
   * Failing without a break for this long calls `onLost` once. 0 (the
   * default) never does: the service stays up, not ready, and recovers when
   * the dependency answers again. Orchestrators that would rather restart
   * the process set it.
   */
  lossTimeoutMs?: number;
  onLost: (lastError: unknown) => void;
  logger: Logger;
  now?: () => number;
}

/**
 * Checks a dependency at a fixed interval. Readiness reads `isHealthy()`.
 * With a `lossTimeoutMs`, a dependency that stays away longer is reported
 * lost, so the service can stop and let its orchestrator restart it; without
 * one it is only logged, when it goes and when it comes back.
 */
export function watchDependency({
  name,
  check,
  intervalMs,
  checkTimeoutMs = Math.max(1_000, intervalMs),
  lossTimeoutMs = 0,
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
      if (!healthy) {
        logger.info(
          { dependency: name, awayMs: now() - (failingSince ?? now()) },
          'dependency answers again',
        );
      }
      healthy = true;
      failingSince = undefined;
    } catch (error) {
      if (healthy) logger.warn({ dependency: name, err: error }, 'dependency does not answer');
      healthy = false;
      failingSince ??= now();
      if (lossTimeoutMs > 0 && !reported && now() - failingSince >= lossTimeoutMs) {
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
    name,
    isHealthy: () => healthy,
    async close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
