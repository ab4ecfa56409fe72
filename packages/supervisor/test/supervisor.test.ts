import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readState } from '../src/state.js';
import { startSupervisor, type Supervisor } from '../src/supervisor.js';

/** Real child processes (plain node scripts): the supervisor's job is processes, nothing else. */
function setUp(script: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'renkei-supervisor-'));
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const supervisor = startSupervisor({
    services: [
      {
        name: 'worker',
        command: process.execPath,
        args: ['-e', script],
        cwd: dir,
        env: { ...process.env, MARKER: path.join(dir, 'starts') },
        logFile: path.join(dir, 'worker.log'),
        readyUrl: null,
      },
    ],
    stateFile: path.join(dir, 'supervisor.json'),
    runDir: dir,
    logger,
    backoff: { baseMs: 50, maxMs: 400, stableMs: 10_000 },
    stopGraceMs: 2_000,
  });
  return { dir, lines, supervisor };
}

/** The child has run its script's first lines (its handlers are installed) once its log says so. */
const logSays = (dir: string, text: string) => () =>
  readFileSync(path.join(dir, 'worker.log'), 'utf8').includes(text) ? true : undefined;

async function until<T>(read: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = read();
    } catch {
      // not written yet
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let running: Supervisor | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('supervisor', () => {
  it('restarts a service that is killed, with a log line, a new pid and the restart counted', async () => {
    const { dir, lines, supervisor } = setUp(
      "require('fs').appendFileSync(process.env.MARKER, 'x'); console.log('up'); setInterval(() => {}, 1000)",
    );
    running = supervisor;
    const first = await until(
      () => readState(path.join(dir, 'supervisor.json'))?.services[0]?.pid ?? undefined,
    );
    expect(readFileSync(path.join(dir, 'worker.pid'), 'utf8')).toMatch(new RegExp(`^${first} \\d+\\n$`));
    await until(logSays(dir, 'up'));
    process.kill(first, 'SIGKILL');
    const second = await until(() => {
      const service = readState(path.join(dir, 'supervisor.json'))?.services[0];
      return service?.state === 'running' && service.pid !== first ? service : undefined;
    });
    expect(second.restarts).toBe(1);
    expect(second.lastExit).toMatchObject({ code: null, signal: 'SIGKILL' });
    const restartLine = lines.find((line) => line.msg === 'service stopped; restarting it');
    expect(restartLine).toMatchObject({ service: 'worker', signal: 'SIGKILL', restart: 1, delayMs: 50 });
    // Both runs wrote to the same log: a crash's last lines stay beside the next start.
    await until(() => (readFileSync(path.join(dir, 'starts'), 'utf8') === 'xx' ? true : undefined));
    await until(() => (readFileSync(path.join(dir, 'worker.log'), 'utf8') === 'up\nup\n' ? true : undefined));
  });

  it('backs off a service that keeps failing at once', async () => {
    const { dir, lines, supervisor } = setUp(
      "require('fs').appendFileSync(process.env.MARKER, 'x'); process.exit(3)",
    );
    running = supervisor;
    await until(() =>
      lines.filter((line) => line.msg === 'service stopped; restarting it').length >= 4 ? true : undefined,
    );
    const delays = lines
      .filter((line) => line.msg === 'service stopped; restarting it')
      .map((line) => line.delayMs);
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
    const state = readState(path.join(dir, 'supervisor.json'))!.services[0]!;
    expect(state.lastExit).toMatchObject({ code: 3, signal: null });
  });

  it('stops its services with SIGTERM on close and starts none again', async () => {
    const { dir, supervisor } = setUp(
      "process.on('SIGTERM', () => { require('fs').appendFileSync(process.env.MARKER + '.term', 'x'); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000)",
    );
    const pid = await until(
      () => readState(path.join(dir, 'supervisor.json'))?.services[0]?.pid ?? undefined,
    );
    await until(logSays(dir, 'up'));
    await supervisor.close();
    expect(readFileSync(path.join(dir, 'starts.term'), 'utf8')).toBe('x');
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(path.join(dir, 'worker.pid'))).toBe(false);
    const state = readState(path.join(dir, 'supervisor.json'))!.services[0]!;
    expect(state).toMatchObject({ state: 'stopped', pid: null, restarts: 0 });
  });

  it('kills a service that does not drain within the grace', async () => {
    const { dir, supervisor } = setUp(
      "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)",
    );
    const pid = await until(
      () => readState(path.join(dir, 'supervisor.json'))?.services[0]?.pid ?? undefined,
    );
    await until(logSays(dir, 'up'));
    const started = Date.now();
    await supervisor.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(readState(path.join(dir, 'supervisor.json'))!.services[0]!.lastExit).toMatchObject({
      signal: 'SIGKILL',
    });
  });
});
