import type { Logger } from 'pino';
import { createLogger } from './logger.js';

export type Release = () => Promise<void> | void;

/** What every long-running part of the hub hands back: a way to stop it. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Resources are released in the reverse of the order they were acquired, and
 * every release runs even when an earlier one fails; the first error wins.
 */
export class ReleaseStack implements Closable {
  readonly #releases: Release[] = [];
  #closing: Promise<void> | undefined;

  defer(release: Release): void {
    if (this.#closing) throw new Error('cannot add a release to a closing stack');
    this.#releases.push(release);
  }

  /** Acquires a resource and registers its release in one step. */
  async use<T>(acquire: () => Promise<T> | T, release: (resource: T) => Promise<void> | void): Promise<T> {
    const resource = await acquire();
    this.defer(() => release(resource));
    return resource;
  }

  close(): Promise<void> {
    // Claimed before any release runs, so a release that calls close() or
    // defer() sees a closing stack rather than starting a second pass.
    this.#closing ??= Promise.resolve().then(() => this.#releaseAll());
    return this.#closing;
  }

  async #releaseAll(): Promise<void> {
    let firstError: unknown;
    while (this.#releases.length > 0) {
      const release = this.#releases.pop()!;
      try {
        await release();
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }
}

/**
 * Runs a service until SIGTERM or SIGINT. The first signal closes it gracefully;
 * a second one, or a close that takes longer than `forceAfterMs`, exits at once.
 */
export async function runUntilSignalled(
  logger: Logger,
  start: () => Promise<Closable>,
  { forceAfterMs = 20_000 }: { forceAfterMs?: number } = {},
): Promise<void> {
  let service: Closable;
  try {
    service = await start();
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    process.exitCode = 1;
    return;
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      exitNow(() => logger.warn({ signal }, 'second signal: exiting without draining'));
    }
    stopping = true;
    logger.info({ signal }, 'draining');
    const force = setTimeout(
      () => exitNow(() => logger.error({ forceAfterMs }, 'drain took too long: exiting')),
      forceAfterMs,
    );
    force.unref();
    service.close().then(
      () => {
        logger.info('stopped');
        clearTimeout(force);
        process.exitCode ??= 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while draining');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Exits even when the last words cannot be written (stdout closed under us). */
function exitNow(lastWords: () => void): never {
  try {
    lastWords();
  } finally {
    process.exit(1);
  }
}

/**
 * The whole of a service's main.ts: validate the configuration once, make the
 * logger, start, and stop on a signal. A bad variable ends the process with a
 * log line naming it instead of a stack trace.
 */
export async function runService<Config extends { LOG_LEVEL: string }>(
  service: string,
  loadConfig: () => Config,
  start: (config: Config, logger: Logger) => Promise<Closable>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    createLogger(service).fatal(
      { err: error },
      error instanceof Error ? error.message : 'invalid configuration',
    );
    process.exitCode = 1;
    return;
  }
  const logger = createLogger(service, config.LOG_LEVEL);
  await runUntilSignalled(logger, () => start(config, logger));
}
