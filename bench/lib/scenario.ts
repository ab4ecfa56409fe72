import type { TopicNames } from '@renkei/bus';
import type { Role, Sector } from '@renkei/schema';
import type { TestDatabase } from '@renkei/testing';
import type { LoadGenerator } from './load.js';
import type { BenchProcess, ProcessSpec } from './processes.js';

/**
 * One benchmark. `npm run bench` runs every registered scenario (bench/scenarios.ts)
 * in one process, one after another, and writes what each returns to the
 * results file and to BENCHMARKS.md. See bench/README.md.
 */
export interface Scenario {
  /** What `--only` selects and the key in the results file: lower-case words and dashes. */
  name: string;
  /** The heading in BENCHMARKS.md. */
  title: string;
  /** The settings it reads with `context.setting`; `--set <name>.<setting>=<value>` overrides one. */
  settings: Record<string, Setting>;
  run(context: BenchContext): Promise<ScenarioResult>;
}

export interface Setting {
  description: string;
  full: number;
  /** The value under `--smoke`: seconds of tiny load, enough to run every step. */
  smoke: number;
}

export interface ScenarioResult {
  /** Machine-readable figures, written to the results file as they are. */
  figures: Record<string, unknown>;
  /** What BENCHMARKS.md shows for the scenario. */
  tables: Table[];
  /** Each goal the issue set, with the figure that decides it. */
  goals: Goal[];
  /** Short sentences under the tables: what was measured, what to read into it. */
  notes?: string[];
}

export interface Table {
  caption?: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export interface Goal {
  goal: string;
  figure: string;
  met: boolean;
}

/** A fresh database and topic prefix, and the services started on them. */
export interface Stack {
  databaseUrl: string;
  prefix: string;
  topics: TopicNames;
  /** The service of that name; throws if the stack was started without it. */
  service(name: ServiceName): BenchProcess;
  processes: BenchProcess[];
}

export type ServiceName = 'ingest' | 'correlator' | 'gateway';

/** What the runner hands every scenario. Whatever it starts is stopped and removed when the run ends. */
export interface BenchContext {
  readonly smoke: boolean;
  /** The scenario's setting, from `--set`, else its smoke or full default. */
  setting(name: string): number;
  /** A progress line on the console (not in the results). */
  log(message: string): void;
  readonly brokers: string;
  token(who: { org: string; sector: Sector; roles: Role[] }): Promise<string>;
  /** The JWKS file the services verify tokens against. */
  readonly jwksFile: string;
  /** A new database with the hub's migrations applied. */
  createDatabase(): Promise<TestDatabase>;
  /** A new topic prefix; its topics are deleted at the end. */
  topicPrefix(): string;
  /** A new database and prefix with these services started on them, each its own process, all ready. */
  startStack(services: ServiceName[], env?: Record<string, string>): Promise<Stack>;
  /**
   * Any entry point as a process of its own (a floor); `port` is chosen for it
   * unless given (to start a process that names another beside it) and passed
   * as `PORT`, and also as `portVariable` when given (a service's own, e.g.
   * `GATEWAY_PORT`).
   */
  startProcess(
    spec: Omit<ProcessSpec, 'port'> & { portVariable?: string; port?: number },
  ): Promise<BenchProcess>;
  /** The run's load process, started on first use and shared by the scenarios (one at a time). */
  load(): Promise<LoadGenerator>;
  /** A load process of the scenario's own, for load that must not share one. */
  startLoad(label: string): Promise<LoadGenerator>;
  /**
   * The same thing for every scenario that asks with this key, made once
   * (e.g. a stack two scenarios measure) with the context `create` is given,
   * and released at the end of the run instead of the scenario's.
   */
  shared<T>(key: string, create: (context: BenchContext) => Promise<T>): Promise<T>;
  /** Runs at the end of the run, last registered first. */
  defer(release: () => Promise<unknown> | unknown): void;
}
