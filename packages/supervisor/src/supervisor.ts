import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@renkei/runtime';
import { DEFAULT_BACKOFF, failuresInRow, restartDelay, type BackoffPolicy } from './backoff.js';
import { writeState, type ServiceState, type SupervisorState } from './state.js';

export interface SupervisedService {
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Its stdout and stderr, appended across restarts so a crash's last lines stay beside the next start. */
  logFile: string;
  readyUrl: string | null;
}

export interface SupervisorOptions {
  services: readonly SupervisedService[];
  /** The state `npm run status` reads. */
  stateFile: string;
  /** `<name>.pid` files ("pid start-time", as up.sh always wrote them) for tools and scripts. */
  runDir: string;
  logger: Logger;
  backoff?: BackoffPolicy;
  /** How long a service may drain after SIGTERM before it is killed. */
  stopGraceMs?: number;
}

export interface Supervisor {
  /** Stops every service (SIGTERM, then SIGKILL after the grace), and stops restarting them. */
  close(): Promise<void>;
  state(): SupervisorState;
}

interface Slot {
  spec: SupervisedService;
  state: ServiceState;
  child: ChildProcess | null;
  exited: Promise<void> | null;
  failures: number;
  timer: NodeJS.Timeout | null;
}

/** Clock ticks since boot at which a process started (field 22 of /proc/<pid>/stat); what down.sh compares. */
function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/**
 * Runs each service as a child process and starts it again whenever it stops,
 * after a backoff. The services already exit non-zero when they cannot go on
 * (see ServiceHandle.done); this is what turns that into coming back by
 * itself on a machine without systemd or an orchestrator.
 */
export function startSupervisor({
  services,
  stateFile,
  runDir,
  logger,
  backoff = DEFAULT_BACKOFF,
  stopGraceMs = 25_000,
}: SupervisorOptions): Supervisor {
  const startedAt = new Date().toISOString();
  let closing = false;
  const slots: Slot[] = services.map((spec) => ({
    spec,
    child: null,
    exited: null,
    failures: 0,
    timer: null,
    state: {
      name: spec.name,
      state: 'starting',
      pid: null,
      startedAt: null,
      restarts: 0,
      lastExit: null,
      nextStartAt: null,
      readyUrl: spec.readyUrl,
      logFile: spec.logFile,
    },
  }));

  const snapshot = (): SupervisorState => ({
    pid: process.pid,
    startedAt,
    services: slots.map((slot) => ({ ...slot.state })),
  });
  const save = () => {
    try {
      writeState(stateFile, snapshot());
    } catch (error) {
      logger.warn({ err: error, stateFile }, 'could not write the supervisor state');
    }
  };
  const pidFile = (slot: Slot) => path.join(runDir, `${slot.spec.name}.pid`);

  function start(slot: Slot): void {
    slot.timer = null;
    if (closing) return;
    const log = openSync(slot.spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(slot.spec.command, slot.spec.args, {
        cwd: slot.spec.cwd,
        env: slot.spec.env,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const began = Date.now();
    slot.child = child;
    slot.exited = new Promise((resolve) => {
      // 'error' alone (spawn failed) or 'exit': either way the slot is free again.
      let settled = false;
      const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        stopped(slot, code, signal, Date.now() - began);
        resolve();
      };
      child.once('error', (error) => {
        logger.error({ err: error, service: slot.spec.name }, 'could not start the service');
        onEnd(null, null);
      });
      child.once('exit', onEnd);
    });
    if (child.pid !== undefined) {
      slot.state = {
        ...slot.state,
        state: 'running',
        pid: child.pid,
        startedAt: new Date(began).toISOString(),
        nextStartAt: null,
      };
      writeFileSync(pidFile(slot), `${child.pid} ${processStartTime(child.pid)}\n`);
      logger.info(
        { service: slot.spec.name, pid: child.pid, restarts: slot.state.restarts },
        'service started',
      );
    }
    save();
  }

  function stopped(slot: Slot, code: number | null, signal: NodeJS.Signals | null, uptimeMs: number): void {
    slot.child = null;
    rmSync(pidFile(slot), { force: true });
    const lastExit = { code, signal, at: new Date().toISOString() };
    if (closing) {
      slot.state = { ...slot.state, state: 'stopped', pid: null, startedAt: null, lastExit };
      save();
      return;
    }
    slot.failures = failuresInRow(slot.failures, uptimeMs, backoff);
    const delayMs = restartDelay(slot.failures, backoff);
    slot.state = {
      ...slot.state,
      state: 'waiting',
      pid: null,
      startedAt: null,
      restarts: slot.state.restarts + 1,
      lastExit,
      nextStartAt: new Date(Date.now() + delayMs).toISOString(),
    };
    // One line per restart: what stopped, how, after how long, and when it comes back.
    logger.warn(
      {
        service: slot.spec.name,
        code,
        signal,
        uptimeMs,
        restart: slot.state.restarts,
        failuresInRow: slot.failures,
        delayMs,
        log: slot.spec.logFile,
      },
      'service stopped; restarting it',
    );
    save();
    slot.timer = setTimeout(() => start(slot), delayMs);
  }

  for (const slot of slots) start(slot);

  let closed: Promise<void> | undefined;
  return {
    state: snapshot,
    close() {
      closed ??= (async () => {
        closing = true;
        for (const slot of slots) {
          if (slot.timer) clearTimeout(slot.timer);
          slot.timer = null;
          if (!slot.child) slot.state = { ...slot.state, state: 'stopped', nextStartAt: null };
        }
        save();
        await Promise.all(
          slots.map(async (slot) => {
            const { child, exited } = slot;
            if (!child || !exited) return;
            child.kill('SIGTERM');
            const cut = setTimeout(() => {
              logger.warn(
                { service: slot.spec.name, graceMs: stopGraceMs },
                'service did not drain in time; killing it',
              );
              child.kill('SIGKILL');
            }, stopGraceMs);
            await exited;
            clearTimeout(cut);
          }),
        );
        save();
      })();
      return closed;
    },
  };
}
