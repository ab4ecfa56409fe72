import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, quoteIdentifier } from '@renkei/db';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import {
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  TEST_KAFKA_BROKERS,
  TEST_KAFKA_SECURITY,
  testKafkaEnv,
  TEST_LOG_DIR,
  TEST_SERVER_URL,
} from '@renkei/testing';

/**
 * `npm run up` twice and `npm run down` twice on a fresh copy of the working
 * tree, as someone who just cloned it would: on ports, a database and topics
 * of its own, beside the shared broker, which must survive the downs.
 */
const SERVICES = ['ingest', 'gateway', 'correlator'] as const;
type Service = (typeof SERVICES)[number];
const STEP_TIMEOUT_MS = 240_000;

interface Run {
  code: number | null;
  output: string;
  seconds: number;
}

/** The tracked and untracked-but-not-ignored files: the working tree as committed or about to be. */
function copyWorkingTree(into: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPOSITORY_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of new Set(files)) {
    const from = path.join(REPOSITORY_ROOT, file);
    if (!existsSync(from) || !lstatSync(from).isFile()) continue; // deleted but not yet committed
    mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    copyFileSync(from, path.join(into, file)); // keeps the mode: the scripts stay executable
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function readyz(port: number): Promise<number> {
  return fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
    (response) => response.status,
    () => 0,
  );
}

/** Processes running from the copy (by working directory or command line), this one aside. */
function processesOf(directory: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (cwd.startsWith(directory) || command.includes(directory)) found.push(`${pid} ${command}`);
    } catch {
      // gone meanwhile, or not ours to inspect
    }
  }
  return found;
}

describe('npm run up and npm run down, each twice, on a fresh copy', () => {
  let copy: string;
  let env: Record<string, string>;
  let databaseName: string;
  let prefix: string;
  let ports: Record<Service, number>;
  let transcript: ReturnType<typeof createWriteStream>;

  function npmRun(script: 'up' | 'down'): Promise<Run> {
    const started = Date.now();
    transcript.write(`\n===== npm run ${script} =====\n`);
    // Its own process group, so a step that hangs can be killed with everything it started.
    const child = spawn('npm', ['run', script], {
      cwd: copy,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        transcript.write(chunk);
      });
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, STEP_TIMEOUT_MS);
    return new Promise((resolve) => {
      child.once('close', (code) => {
        clearTimeout(timer);
        const seconds = (Date.now() - started) / 1000;
        console.log(`npm run ${script}: exit ${code} in ${seconds.toFixed(1)} s`);
        resolve({ code, output, seconds });
      });
    });
  }

  function recordedPids(): Record<Service, number> {
    return Object.fromEntries(
      SERVICES.map((name) => {
        const line = readFileSync(path.join(copy, '.renkei/run', `${name}.pid`), 'utf8');
        return [name, Number(line.split(' ')[0])];
      }),
    ) as Record<Service, number>;
  }

  async function registeredOrganisations(): Promise<{ id: string; sector: string; kind: string }[]> {
    const pool = createPool(env.DATABASE_URL!, { max: 1 });
    try {
      return (
        await pool.query<{ id: string; sector: string; kind: string }>(
          'SELECT id, sector, kind FROM organisations ORDER BY id',
        )
      ).rows;
    } finally {
      await pool.end();
    }
  }

  async function expectAllReady(): Promise<void> {
    for (const name of SERVICES) expect(await readyz(ports[name]), `${name} /readyz`).toBe(200);
  }

  beforeAll(async () => {
    copy = realpathSync(mkdtempSync(path.join(tmpdir(), 'renkei-updown-')));
    copyWorkingTree(copy);
    // The copy's hub uses the shared broker, so it holds that broker's CA and passwords where
    // kafka.sh would have made them (.renkei/), as a clone whose broker is already up would.
    if (TEST_KAFKA_SECURITY === 'sasl_ssl') {
      const { KAFKA_SASL_PASSWORD_FILE, KAFKA_TLS_CA_FILE } = testKafkaEnv('admin');
      cpSync(path.dirname(KAFKA_SASL_PASSWORD_FILE!), path.join(copy, '.renkei/kafka-credentials'), {
        recursive: true,
      });
      mkdirSync(path.join(copy, '.renkei/kafka-tls'), { recursive: true });
      copyFileSync(KAFKA_TLS_CA_FILE!, path.join(copy, '.renkei/kafka-tls/ca.pem'));
    }
    databaseName = `renkei_updown_${randomBytes(6).toString('hex')}`;
    prefix = randomTopicPrefix();
    const [ingest, gateway, correlator] = [await freePort(), await freePort(), await freePort()];
    ports = { ingest: ingest!, gateway: gateway!, correlator: correlator! };
    // A shell as a user would have it: no npm or vitest variables, the state inside the copy.
    env = Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined && !/^(npm_|VITEST|RENKEI_STATE_DIR$)/i.test(entry[0]),
      ),
    );
    Object.assign(env, {
      DATABASE_URL: `${TEST_SERVER_URL}/${databaseName}`,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_SECURITY: TEST_KAFKA_SECURITY,
      HOST: '127.0.0.1',
      INGEST_PORT: String(ports.ingest),
      GATEWAY_PORT: String(ports.gateway),
      CORRELATOR_PORT: String(ports.correlator),
    });
    mkdirSync(TEST_LOG_DIR, { recursive: true });
    transcript = createWriteStream(path.join(TEST_LOG_DIR, `up-down-${Date.now()}.log`));
  });

  afterAll(async () => {
    if (copy) {
      // Whatever a failed step left behind goes, and the copy with it.
      spawnSync('bash', [path.join(copy, 'infra/scripts/down.sh'), '--services-only'], {
        env,
        stdio: 'ignore',
      });
      for (const entry of processesOf(copy)) {
        try {
          process.kill(Number(entry.split(' ')[0]), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(copy, { recursive: true, force: true });
    }
    transcript?.end();
    if (databaseName) {
      const admin = createPool(`${TEST_SERVER_URL}/postgres`, { max: 1 });
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(databaseName)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  it(
    'up starts every service under a supervisor, ready on /readyz; up again keeps them; a killed one comes back',
    async () => {
      const first = await npmRun('up');
      expect(first.code, first.output.slice(-4_000)).toBe(0);
      await expectAllReady();
      const firstPids = recordedPids();
      // The demo organisations are registered, and up says how to mint a token for each.
      const demo = await registeredOrganisations();
      expect(demo.map((o) => o.kind).sort()).toEqual([
        'agency',
        'agency',
        'ceptar',
        'ceptar',
        'gsoc',
        'operator',
      ]);
      const ceptarSectors = demo.filter((o) => o.kind === 'ceptar').map((o) => o.sector);
      expect(new Set(ceptarSectors).size).toBe(2);
      for (const { id } of demo) expect(first.output).toContain(`renkei token --org ${id} --role`);
      // The console was built from the fresh copy and is served at /, with demo sign-in (development mode).
      const page = await fetch(`http://127.0.0.1:${ports.gateway}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<script type="module" crossorigin src="\/assets\/[\w-]+\.js">/);
      const identities = await fetch(`http://127.0.0.1:${ports.gateway}/v1/dev/identities`);
      expect(identities.status).toBe(200);
      // up says plainly that development mode is on, and how to start without it; admin is never minted.
      expect(first.output).toContain('DEVELOPMENT MODE IS ON');
      expect(first.output).toContain('GATEWAY_DEV_MODE=false npm run up');
      const admin = await fetch(`http://127.0.0.1:${ports.gateway}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ organisationId: 'gsoc', role: 'admin' }),
      });
      expect(admin.status).toBe(400);
      const preflight = await fetch(`http://127.0.0.1:${ports.ingest}/v1/reports`, {
        method: 'OPTIONS',
        headers: {
          origin: `http://127.0.0.1:${ports.gateway}`,
          'access-control-request-method': 'POST',
        },
      });
      expect(preflight.status).toBe(204);

      // Again on a running hub: nothing to install or build, and the services keep running (and their clients).
      const second = await npmRun('up');
      expect(second.code, second.output.slice(-4_000)).toBe(0);
      expect(second.output).toContain('Dependencies unchanged since the last install');
      expect(second.output).toContain('Console unchanged since the last build');
      expect(second.output).toContain('The hub is already up');
      await expectAllReady();
      expect(await registeredOrganisations()).toEqual(demo);
      expect(recordedPids()).toEqual(firstPids);
      const running = processesOf(copy);
      expect(running.filter((entry) => entry.includes('src/main.ts'))).toHaveLength(4); // the supervisor and three services

      // A service killed outright is started again by the supervisor, and status says so.
      process.kill(firstPids.ingest, 'SIGKILL');
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const pid = existsSync(path.join(copy, '.renkei/run/ingest.pid')) ? recordedPids().ingest : 0;
        if (pid && pid !== firstPids.ingest && (await readyz(ports.ingest)) === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(await readyz(ports.ingest), 'ingest is back').toBe(200);
      expect(recordedPids().ingest).not.toBe(firstPids.ingest);
      expect(recordedPids().gateway, 'the others were left alone').toBe(firstPids.gateway);
      const status = spawnSync('npm', ['run', '--silent', 'status'], { cwd: copy, env, encoding: 'utf8' });
      expect(status.status, status.stdout + status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^ingest\s+running\s+\d+\s+\S+.*\s1\s+yes\s+SIGKILL at /m);
      expect(status.stdout).toMatch(/^gateway\s+running\s+\d+\s+\S+.*\s0\s+yes\s+-$/m);
      const supervisorLog = readFileSync(path.join(copy, '.renkei/logs/supervisor.log'), 'utf8');
      expect(supervisorLog).toMatch(
        /"service":"ingest".*"signal":"SIGKILL".*"msg":"service stopped; restarting it"/,
      );
    },
    2 * STEP_TIMEOUT_MS,
  );

  it(
    'down stops them all and leaves the shared broker running; down again is a quiet no-op',
    async () => {
      const first = await npmRun('down');
      expect(first.code, first.output.slice(-4_000)).toBe(0);
      for (const name of SERVICES)
        expect(await answers('127.0.0.1', ports[name]), `${name} port`).toBe(false);
      expect(processesOf(copy)).toEqual([]);
      expect(readdirSync(path.join(copy, '.renkei/run'))).toEqual([]);
      // Each drained on SIGTERM, the restarted ingest too: it was still joining its ledger
      // group (which waits out its killed predecessor's session) and must not wait for that.
      for (const name of SERVICES)
        expect(readFileSync(path.join(copy, '.renkei/logs', `${name}.log`), 'utf8'), name).not.toContain(
          'closing took too long',
        );
      expect(readFileSync(path.join(copy, '.renkei/logs/supervisor.log'), 'utf8')).not.toContain(
        'did not drain in time',
      );
      const [brokerHost, brokerPort] = TEST_KAFKA_BROKERS.split(',')[0]!.split(':');
      expect(await answers(brokerHost!, Number(brokerPort)), 'the shared broker').toBe(true);

      const second = await npmRun('down');
      expect(second.code, second.output.slice(-4_000)).toBe(0);
      expect(second.output).not.toMatch(/Stopping (ingest|gateway|correlator)|error/i);
      expect(await answers(brokerHost!, Number(brokerPort)), 'the shared broker').toBe(true);
    },
    2 * STEP_TIMEOUT_MS,
  );
});
