import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@renkei/runtime';

/**
 * kafka.sh secures a broker unless told otherwise, and a state dir keeps the
 * security it was formatted with: `kafka.sh security` says which (npm test and
 * npm run up follow it), and a start that asks for the other one is refused
 * before anything runs, naming the ways out. No broker is started here.
 */
const KAFKA_SH = path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh');

describe('kafka.sh and the security of its state dir', () => {
  let state: string;

  beforeEach(() => {
    state = mkdtempSync(path.join(tmpdir(), 'renkei-kafka-security-'));
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  const kafkaSh = (args: string[], env: Record<string, string> = {}) => {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('KAFKA_')),
    );
    // Ports nobody listens on: the refusal must come before any start.
    return spawnSync(KAFKA_SH, args, {
      env: { ...inherited, KAFKA_STATE_DIR: state, KAFKA_PORT: '1', KAFKA_CONTROLLER_PORT: '3', ...env },
      encoding: 'utf8',
    });
  };
  /** A state dir as `format` leaves it; without a security file, as formatted before it existed. */
  const formatted = (security?: string) => {
    mkdirSync(path.join(state, 'data'), { recursive: true });
    writeFileSync(path.join(state, 'data', 'meta.properties'), 'version=1\n');
    if (security) writeFileSync(path.join(state, 'security'), `${security}\n`);
  };

  it('says nothing of a state dir not formatted yet', () => {
    const run = kafkaSh(['security']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
  });

  it('prints the security a state dir was formatted with', () => {
    formatted('sasl_ssl');
    expect(kafkaSh(['security']).stdout).toBe('sasl_ssl\n');
  });

  it('reads a state dir formatted before the file existed as plaintext', () => {
    formatted();
    expect(kafkaSh(['security']).stdout).toBe('plaintext\n');
  });

  it('refuses to start a plaintext state dir by default, naming reset and KAFKA_SECURITY=plaintext', () => {
    formatted('plaintext');
    const run = kafkaSh(['start']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('formatted plaintext');
    expect(run.stderr).toContain('reset');
    expect(run.stderr).toContain('KAFKA_SECURITY=plaintext');
  });

  it('refuses a KAFKA_SECURITY other than the one the state dir was formatted with', () => {
    formatted('sasl_ssl');
    const run = kafkaSh(['start'], { KAFKA_SECURITY: 'plaintext' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('formatted with KAFKA_SECURITY=sasl_ssl');
  });

  it('knows only plaintext and sasl_ssl', () => {
    const run = kafkaSh(['start'], { KAFKA_SECURITY: 'ssl' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('KAFKA_SECURITY must be plaintext or sasl_ssl');
  });
});
