import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';

export const BENCH_STATE_DIR = path.join(REPOSITORY_ROOT, '.renkei', 'bench');
const LOG_DIR = path.join(BENCH_STATE_DIR, 'logs');

/** What /proc says a process has used so far. */
export interface ProcessUsage {
  /** User plus system CPU time since the process started. */
  cpuSeconds: number;
  rssBytes: number;
  /** The high-water mark of the resident set (VmHWM): the peak since the process started. */
  peakRssBytes: number;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export function processUsage(pid: number): ProcessUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    rssBytes: kilobytes('VmRSS') * 1024,
    peakRssBytes: kilobytes('VmHWM') * 1024,
  };
}

export interface BenchProcess {
  label: string;
  pid: number;
  /** Where it answers HTTP (`/readyz` at least). */
  url: string;
  /** Where a service serves `GET /metrics` (its own listener), when it was given one. */
  metricsUrl: string | undefined;
  logFile: string;
  usage(): ProcessUsage;
  /** Resolves to the exit code (null after a signal) when the process ends. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited within 30 s. Resolves to the exit code. */
  stop(): Promise<number | null>;
}

export interface ProcessSpec {
  /** Names the log file and the figures. */
  label: string;
  /** A TypeScript entry point, relative to the repository root. */
  script: string;
  env: Record<string, string>;
  /** The port it was told to listen on; `/readyz` there must answer 200. */
  port: number;
  /** A service's metrics port (`METRICS_PORT`), when it was given one. */
  metricsPort?: number;
  readyTimeoutMs?: number;
}

/**
 * Starts a TypeScript entry point as a process of its own (node with the tsx
 * loader in-process, so the pid is the service itself and /proc describes it).
 * Its output goes straight to a log file: piping it through this process would
 * spend the benchmark's CPU on reading the services' log lines.
 */
export async function startProcess(spec: ProcessSpec): Promise<BenchProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${spec.label}-${Date.now()}.log`);
  const output = openSync(logFile, 'a');
  // BENCH_PROFILE=<dir> writes a CPU profile of every process started here (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`]
    : [];
  // BENCH_NODE_FLAGS adds node flags to every process started here (for example --trace-gc).
  const flags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...profile, ...flags, '--import', 'tsx', spec.script], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...spec.env },
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  running.add(child.pid!);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child.pid!);
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${spec.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(force);
    return code;
  };
  try {
    await waitForReady(url, exited, spec.readyTimeoutMs ?? 90_000, spec.label, logFile);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    label: spec.label,
    pid: child.pid!,
    url,
    metricsUrl: spec.metricsPort === undefined ? undefined : `http://127.0.0.1:${spec.metricsPort}`,
    logFile,
    usage: () => processUsage(child.pid!),
    exited,
    stop,
  };
}

// Whatever happens to the run, no process it started outlives it.
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

async function waitForReady(
  url: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  label: string,
  logFile: string,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`${label} exited with code ${exitCode} (see ${logFile}):\n${logTail(logFile)}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline)
      throw new Error(`${label} was not ready within ${timeoutMs} ms (see ${logFile}):\n${logTail(logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// CI keeps the runner's output, not the log files: the last lines say why.
function logTail(logFile: string, lines = 12): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
