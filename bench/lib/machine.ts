import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool } from '@renkei/db';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { TEST_SERVER_URL } from '@renkei/testing';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  kafka: string;
  postgres: string;
  /** One-minute load average when the run started: how busy the shared machine already was. */
  loadAverageAtStart: number;
  commit: string;
  note: string;
}

export async function describeMachine(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    kafka: kafkaVersion(),
    postgres: await postgresVersion(),
    loadAverageAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
    commit: gitCommit(),
    note:
      'The Kafka broker (one node) and PostgreSQL run on this same machine, beside the services, ' +
      'the floors and the load processes, and beside other engineers’ work: absolute figures are ' +
      'noisy, so every goal is a ratio against a floor measured in the same run, or a latency.',
  };
}

/**
 * The version of the broker that answers: read from the jar path of a running
 * Kafka JVM on this machine (the shared broker may come from another checkout),
 * else the version infra/kafka/pom.xml pins.
 */
function kafkaVersion(): string {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!commandLine.includes('kafka.Kafka')) continue;
    const version = /kafka_[\d.]+-([\d.]+)\.jar|libs-([\d.]+)/.exec(commandLine);
    if (version) return version[1] ?? version[2]!;
  }
  const pom = readFileSync(path.join(REPOSITORY_ROOT, 'infra/kafka/pom.xml'), 'utf8');
  return `${/<kafka\.version>([^<]+)</.exec(pom)?.[1] ?? 'unknown'} (pinned; no running broker found)`;
}

async function postgresVersion(): Promise<string> {
  const pool = createPool(`${TEST_SERVER_URL}/postgres`, { max: 1 });
  try {
    const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
    return rows[0]!.server_version;
  } finally {
    await pool.end();
  }
}

function gitCommit(): string {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: REPOSITORY_ROOT }).toString().trim();
    const commit = run(['rev-parse', '--short', 'HEAD']);
    return run(['status', '--porcelain', '--untracked-files=no']) ? `${commit} (with local changes)` : commit;
  } catch {
    return 'unknown';
  }
}
