import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createPool } from '@renkei/db';
import { freePort } from '@renkei/testing';

const run = promisify(execFile);
const VERSION = '15';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A PostgreSQL cluster of the fault run's own (pg_createcluster on a free
 * port): the run kills and stops it, which it must never do to the shared one.
 */
export interface PrivateCluster {
  name: string;
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>` without a database. */
  serverUrl: string;
  /** SIGKILL to the postmaster (its backends then exit by themselves). */
  killPostmaster(): Promise<number>;
  stop(): Promise<void>;
  /** Starts it, retrying while the killed postmaster's backends still hold its shared memory. */
  start(): Promise<void>;
  /** Whether a connection and a query succeed now. */
  answers(): Promise<boolean>;
  drop(): Promise<void>;
}

export async function createPrivateCluster(log: (message: string) => void): Promise<PrivateCluster> {
  const name = `renkei-faults-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  await run('pg_createcluster', [VERSION, name, '-p', String(port)], { timeout: 120_000 });
  // Trust, for this machine only: the cluster listens on 127.0.0.1 alone and lives for one run.
  await writeFile(
    `/etc/postgresql/${VERSION}/${name}/pg_hba.conf`,
    'local all all trust\nhost all all 127.0.0.1/32 trust\n',
  );
  await appendFile(
    `/etc/postgresql/${VERSION}/${name}/postgresql.conf`,
    "\nlisten_addresses = '127.0.0.1'\nmax_connections = 200\n",
  );
  const dataDir = `/var/lib/postgresql/${VERSION}/${name}`;
  const serverUrl = `postgres://postgres@127.0.0.1:${port}`;
  const ctl = (action: string, ...extra: string[]) =>
    run('pg_ctlcluster', [VERSION, name, action, ...extra], { timeout: 120_000 });

  const answers = async () => {
    const pool = createPool(`${serverUrl}/postgres`, { max: 1 });
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await pool.end().catch(() => undefined);
    }
  };

  const cluster: PrivateCluster = {
    name,
    port,
    serverUrl,
    async killPostmaster() {
      const pid = Number((await readFile(`${dataDir}/postmaster.pid`, 'utf8')).split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      return pid;
    },
    async stop() {
      await ctl('stop', '-m', 'fast');
    },
    async start() {
      const deadline = Date.now() + 90_000;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await ctl('start');
        } catch (error) {
          // pg_ctlcluster refuses while the dead postmaster's children linger; say why only at the end.
          if (Date.now() > deadline) throw error;
        }
        if (await answers()) return;
        if (Date.now() > deadline) throw new Error(`${name} did not answer within 90 s of its start`);
        await sleep(Math.min(2_000, 250 * attempt));
      }
    },
    answers,
    async drop() {
      await run('pg_dropcluster', ['--stop', VERSION, name], { timeout: 120_000 });
    },
  };
  await cluster.start();
  log(`PostgreSQL cluster ${name} on 127.0.0.1:${port}`);
  return cluster;
}
