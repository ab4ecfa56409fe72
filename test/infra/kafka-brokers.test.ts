import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@renkei/runtime';

/**
 * The services and the CLI read one variable, KAFKA_BROKERS. The scripts
 * (`npm run up`, `npm test`) derive it from KAFKA_PORT, the port kafka.sh
 * starts the broker on, when only that is set; an explicit list wins.
 */
const LIB = path.join(REPOSITORY_ROOT, 'infra/scripts/lib.sh');

function brokersSeenBy(env: Record<string, string>): string {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'KAFKA_BROKERS' && name !== 'KAFKA_PORT'),
  );
  const run = spawnSync('bash', ['-c', `source "${LIB}" && node -p 'process.env.KAFKA_BROKERS ?? "unset"'`], {
    env: { ...inherited, ...env },
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  return run.stdout.trim();
}

describe('the broker list the scripts hand to the services and the CLI', () => {
  it('comes from KAFKA_PORT when only that is set', () => {
    expect(brokersSeenBy({ KAFKA_PORT: '19092' })).toBe('127.0.0.1:19092');
  });

  it('is KAFKA_BROKERS when that is set, whatever KAFKA_PORT says', () => {
    expect(brokersSeenBy({ KAFKA_PORT: '19092', KAFKA_BROKERS: 'kafka-a:9092,kafka-b:9092' })).toBe(
      'kafka-a:9092,kafka-b:9092',
    );
  });

  it('is left to the services’ default when neither is set', () => {
    expect(brokersSeenBy({})).toBe('unset');
  });
});
