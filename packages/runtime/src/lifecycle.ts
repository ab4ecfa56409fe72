import diagnostics from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { isRenkeiError } from './errors.js';
import { createLogger } from './logger.js';

export type Release = () => Promise<void> | void;

/** What every long-running part of the hub hands back: a way to stop it. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * A running service. `done` settles when the service has stopped: it resolves
 * after `close()`, and rejects as soon as the service fails on its own (a
 * consumer crashed, a dependency stayed away too long), so `main` can exit
 * non-zero and a supervisor can restart it instead of a process that looks
 * alive and does nothing.
 */
export interface ServiceHandle extends Closable {
  readonly done: Promise<void>;
}

/** One step of a service's start or shutdown, published on {@link LIFECYCLE_CHANNEL}. */
export interface LifecycleStep {
  service: string;
  step: string;
}

/**
 * Shutdown steps are published here as they happen, so tests (and tracing) can
 * see their order without the services knowing who listens.
 */
export const LIFECYCLE_CHANNEL = 'renkei:lifecycle';
const lifecycle = diagnostics.channel(LIFECYCLE_CHANNEL);

export function publishLifecycleStep(service: string, step: string): void {
  if (lifecycle.hasSubscribers) lifecycle.publish({ service, step } satisfies LifecycleStep);
}

/**
 * Resources are released in the reverse of the order they were acquired, and
 * every release runs even when an earlier one fails; the first error wins.
 * A release given a name announces it on the lifecycle channel as it starts.
 */
export class ReleaseStack implements Closable {
  readonly #service: string;
  readonly #releases: { name: string | undefined; release: Release }[] = [];
  #closing: Promise<void> | undefined;

  constructor(service = 'renkei') {
    this.#service = service;
  }

  defer(release: Release, name?: string): void {
    if (this.#closing) throw new Error('cannot add a release to a closing stack');
    this.#releases.push({ name, release });
  }

  /** Acquires a resource and registers its release in one step. */
  async use<T>(
    acquire: () => Promise<T> | T,
    release: (resource: T) => Promise<void> | void,
    name?: string,
  ): Promise<T> {
    const resource = await acquire();
    this.defer(() => release(resource), name);
    return resource;
  }

  get closing(): boolean {
    return this.#closing !== undefined;
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
      const { name, release } = this.#releases.pop()!;
      if (name) publishLifecycleStep(this.#service, name);
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
 * The `done` side of a {@link ServiceHandle}: parts of a service call `fail`
 * when they cannot go on; the first failure wins. `settle` is for a normal close.
 */
export class ServiceOutcome {
  readonly done: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;
  #settled = false;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may be awaiting yet; the rejection is still delivered to those who do.
    this.done.catch(() => undefined);
  }

  get settled(): boolean {
    return this.#settled;
  }

  fail = (error: unknown): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  };

  settle = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve();
  };
}

/**
 * Builds a service handle from its resources: `close()` releases them (once)
 * and settles `done`; a failure reported to `outcome` rejects `done`.
 */
export function serviceHandle<Extra extends object>(
  resources: ReleaseStack,
  outcome: ServiceOutcome,
  extra: Extra = {} as Extra,
): ServiceHandle & Extra {
  let closing: Promise<void> | undefined;
  return {
    ...extra,
    done: outcome.done,
    close() {
      closing ??= resources.close().finally(() => outcome.settle());
      return closing;
    },
  };
}

export interface RunOptions {
  /** A close that takes longer than this exits at once. */
  forceAfterMs?: number;
  /** Where a process exits; tests replace it. */
  exit?: (code: number) => void;
  /** Signals are taken from here; tests pass an emitter of their own. */
  signals?: Pick<NodeJS.Process, 'on'>;
}

/**
 * Runs a service until SIGTERM or SIGINT, or until it fails on its own. The
 * first signal closes it gracefully; a second one, or a close that takes
 * longer than `forceAfterMs`, exits at once. A failure closes what can still
 * be closed and exits 1, so a supervisor restarts the process.
 */
export async function runUntilSignalled(
  logger: Logger,
  start: () => Promise<ServiceHandle>,
  { forceAfterMs = 20_000, exit = (code) => process.exit(code), signals = process }: RunOptions = {},
): Promise<void> {
  let service: ServiceHandle;
  try {
    service = await start();
  } catch (error) {
    logger.fatal({ err: error, code: codeOf(error) }, 'start-up failed');
    exit(1);
    return;
  }

  let stopping = false;
  // Once closed, the process exits with the code: a library that leaves a
  // timer or socket behind (a consumer mid-restart) must not keep it alive.
  const stop = (reason: string, exitCode: number) => {
    stopping = true;
    const force = setTimeout(
      () => exitNow(exit, () => logger.error({ forceAfterMs }, `${reason}: closing took too long, exiting`)),
      forceAfterMs,
    );
    force.unref();
    service.close().then(
      () => {
        clearTimeout(force);
        logger.info({ exitCode }, 'stopped');
        exit(exitCode);
      },
      (error: unknown) => {
        clearTimeout(force);
        logger.error({ err: error }, 'error while closing');
        exit(1);
      },
    );
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      exitNow(exit, () => logger.warn({ signal }, 'second signal: exiting without draining'));
      return;
    }
    logger.info({ signal }, 'draining');
    stop('drain', 0);
  };
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);

  service.done.catch((error: unknown) => {
    logger.fatal({ err: error, code: codeOf(error) }, 'service failed: closing and exiting non-zero');
    if (!stopping) stop('failure', 1);
  });
}

function codeOf(error: unknown): string | undefined {
  return isRenkeiError(error) ? error.code : undefined;
}

/** Exits even when the last words cannot be written (stdout closed under us). */
function exitNow(exit: (code: number) => void, lastWords: () => void): void {
  try {
    lastWords();
  } finally {
    exit(1);
  }
}

/**
 * The whole of a service's main.ts: validate the configuration once, make the
 * logger, start, and stop on a signal or a failure. A bad variable ends the
 * process with a log line naming it instead of a stack trace.
 */
export async function runService<Config extends { LOG_LEVEL: string }>(
  service: string,
  loadConfig: () => Config,
  start: (config: Config, logger: Logger) => Promise<ServiceHandle>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    createLogger(service).fatal(
      // A ConfigError's message names the variable; a stack would only bury it.
      {
        code: 'RENKEI_CONFIG_INVALID',
        ...(error instanceof Error && error.name === 'ConfigError' ? {} : { err: error }),
      },
      error instanceof Error ? error.message : 'invalid configuration',
    );
    process.exitCode = 1;
    return;
  }
  const logger = createLogger(service, config.LOG_LEVEL);
  await runUntilSignalled(logger, () => start(config, logger));
}
