import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@renkei/runtime';

/**
 * down.sh signals the pid in a pid file only if that process is still the
 * service up.sh started; a pid reused by another process is left alone. These
 * cases need no services: the state directory is a temporary one.
 */
const DOWN = path.join(REPOSITORY_ROOT, 'infra/scripts/down.sh');

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19]!;
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('down.sh and pid files', () => {
  let stateDir: string;
  let runDir: string;
  const children: ChildProcess[] = [];

  /** A long-running process; `asService` makes it look like ingest: same folder, `src/main.ts` on its command line. */
  function startProcess(asService: boolean): ChildProcess {
    const child = asService
      ? spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'src/main.ts'], {
          cwd: path.join(REPOSITORY_ROOT, 'services/ingest'),
          stdio: 'ignore',
        })
      : spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(child);
    return child;
  }

  function down(): { status: number | null; output: string } {
    const result = spawnSync('bash', [DOWN, '--services-only'], {
      env: { ...process.env, RENKEI_STATE_DIR: stateDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: result.status, output: result.stdout + result.stderr };
  }

  beforeEach(() => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'renkei-down-'));
    runDir = path.join(stateDir, 'run');
    mkdirSync(runDir);
  });

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('with nothing recorded, does nothing and succeeds', () => {
    expect(down()).toEqual({ status: 0, output: '' });
  });

  it('leaves a process that only reuses the pid alone, and removes the stale pid files', () => {
    const stranger = startProcess(false);
    // Written as an older up.sh did, without the start time: the command line and folder still tell.
    writeFileSync(path.join(runDir, 'gateway.pid'), `${stranger.pid}\n`);
    writeFileSync(path.join(runDir, 'correlator.pid'), '999999999 1\n');
    writeFileSync(path.join(runDir, 'ingest.pid'), 'not a pid\n');

    expect(down()).toEqual({ status: 0, output: '' });
    expect(stranger.exitCode).toBeNull();
    expect(() => process.kill(stranger.pid!, 0)).not.toThrow();
    for (const name of ['gateway', 'correlator', 'ingest']) {
      expect(existsSync(path.join(runDir, `${name}.pid`))).toBe(false);
    }
  });

  it('leaves a look-alike started at another time alone', () => {
    const lookAlike = startProcess(true);
    const recorded = String(Number(startTime(lookAlike.pid!)) - 1);
    writeFileSync(path.join(runDir, 'ingest.pid'), `${lookAlike.pid} ${recorded}\n`);

    expect(down()).toEqual({ status: 0, output: '' });
    expect(() => process.kill(lookAlike.pid!, 0)).not.toThrow();
    expect(existsSync(path.join(runDir, 'ingest.pid'))).toBe(false);
  });

  it('stops the process it recorded with SIGTERM', async () => {
    const service = startProcess(true);
    writeFileSync(path.join(runDir, 'ingest.pid'), `${service.pid} ${startTime(service.pid!)}\n`);

    const result = down();
    expect(result.status).toBe(0);
    expect(result.output).toContain(`Stopping ingest (pid ${service.pid})`);
    expect(await exited(service)).toBe('SIGTERM');
    expect(existsSync(path.join(runDir, 'ingest.pid'))).toBe(false);
  });
});
