import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  authEnv,
  databaseEnv,
  hostSchema,
  kafkaEnv,
  logEnv,
  parseEnv,
  portSchema,
} from '@renkei/schema';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseEnv defaults', () => {
  it('gives the documented defaults for an empty environment', () => {
    const env = parseEnv(logEnv.extend(databaseEnv.shape).extend(kafkaEnv.shape).extend(authEnv.shape), {});
    expect(env).toEqual({
      LOG_LEVEL: 'info',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/renkei',
      DATABASE_POOL_SIZE: 10,
      DATABASE_ROLE_PREFIX: 'renkei',
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      KAFKA_TOPIC_PREFIX: '',
      KAFKA_REPLICATION_FACTOR: 1,
      KAFKA_SECURITY: 'sasl_ssl',
      AUTH_ISSUER: 'renkei',
      AUTH_AUDIENCE: 'renkei-api',
      AUTH_JWKS_POLL_MS: 1_000,
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: 30 * 24 * 3600,
      AUTH_CLOCK_TOLERANCE_SECONDS: 30,
      REGISTRY_POLL_MS: 5_000,
      RATE_LIMIT_WRITES_MAX: 600,
      RATE_LIMIT_WRITES_WINDOW_MS: 60_000,
      RATE_LIMIT_READS_PER_SECOND: 100,
      RATE_LIMIT_READS_BURST: 1_000,
      RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT: 2,
      RATE_LIMIT_ANALYST_READS_PER_SECOND: 500,
      RATE_LIMIT_ANALYST_READS_BURST: 5_000,
      RATE_LIMIT_ANALYST_EXPENSIVE_READS_IN_FLIGHT: 4,
      AUDIT_REFUSALS_PER_MINUTE: 60,
    });
  });

  it('ignores unrelated variables', () => {
    expect(parseEnv(logEnv, { PATH: '/usr/bin', HOME: '/root' })).toEqual({ LOG_LEVEL: 'info' });
  });
});

describe('logEnv', () => {
  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts LOG_LEVEL=%s', (level) => {
    expect(parseEnv(logEnv, { LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
  });

  it('names LOG_LEVEL when it is unknown', () => {
    const error = configError(() => parseEnv(logEnv, { LOG_LEVEL: 'verbose' }));
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(/^invalid configuration: LOG_LEVEL: /);
  });
});

describe('databaseEnv', () => {
  it('reads DATABASE_URL and coerces DATABASE_POOL_SIZE', () => {
    expect(
      parseEnv(databaseEnv, {
        DATABASE_URL: 'postgres://u:p@db.internal:6543/hub',
        DATABASE_POOL_SIZE: '25',
      }),
    ).toEqual({
      DATABASE_URL: 'postgres://u:p@db.internal:6543/hub',
      DATABASE_POOL_SIZE: 25,
      DATABASE_ROLE_PREFIX: 'renkei',
    });
  });

  it.each([
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_POOL_SIZE', '101'],
    ['DATABASE_POOL_SIZE', '2.5'],
    ['DATABASE_POOL_SIZE', 'ten'],
    // Role names go into URLs and GRANTs unquoted.
    ['DATABASE_ROLE_PREFIX', 'Renkei'],
    ['DATABASE_ROLE_PREFIX', 'hub-a'],
    ['DATABASE_ROLE_PREFIX', '1hub'],
    ['DATABASE_ROLE_PREFIX', ''],
  ])('names %s=%j', (name, value) => {
    expect(configError(() => parseEnv(databaseEnv, { [name]: value })).message).toContain(`${name}: `);
  });

  it.each(['renkei', 'hub_b', 'staging2'])('accepts DATABASE_ROLE_PREFIX=%s', (value) => {
    expect(parseEnv(databaseEnv, { DATABASE_ROLE_PREFIX: value }).DATABASE_ROLE_PREFIX).toBe(value);
  });

  it.each(['1', '100'])('accepts DATABASE_POOL_SIZE=%s', (value) => {
    expect(parseEnv(databaseEnv, { DATABASE_POOL_SIZE: value }).DATABASE_POOL_SIZE).toBe(Number(value));
  });
});

describe('kafkaEnv', () => {
  it('knows only the plaintext and sasl_ssl Kafka securities, sasl_ssl unless told', () => {
    expect(parseEnv(kafkaEnv, {}).KAFKA_SECURITY).toBe('sasl_ssl');
    expect(parseEnv(kafkaEnv, { KAFKA_SECURITY: 'plaintext' }).KAFKA_SECURITY).toBe('plaintext');
    expect(configError(() => parseEnv(kafkaEnv, { KAFKA_SECURITY: 'ssl' })).message).toContain(
      'KAFKA_SECURITY',
    );
  });

  it('splits KAFKA_BROKERS on commas, trimming and dropping empty entries', () => {
    expect(
      parseEnv(kafkaEnv, { KAFKA_BROKERS: ' kafka-1:9092, kafka-2:9093 ,,kafka-3:9094,' }).KAFKA_BROKERS,
    ).toEqual(['kafka-1:9092', 'kafka-2:9093', 'kafka-3:9094']);
  });

  it('accepts a single broker', () => {
    expect(parseEnv(kafkaEnv, { KAFKA_BROKERS: 'localhost:29092' }).KAFKA_BROKERS).toEqual([
      'localhost:29092',
    ]);
  });

  it.each([
    ['a broker without a port', 'kafka-1'],
    ['a non-numeric port', 'kafka-1:abc'],
    ['only commas', ',,'],
    ['an empty value', ''],
    ['one bad broker among good ones', 'kafka-1:9092,kafka 2:9092'],
  ])('names KAFKA_BROKERS for %s', (_label, value) => {
    const error = configError(() => parseEnv(kafkaEnv, { KAFKA_BROKERS: value }));
    expect(error.message).toContain('KAFKA_BROKERS');
  });

  it('accepts a topic prefix of safe characters', () => {
    expect(parseEnv(kafkaEnv, { KAFKA_TOPIC_PREFIX: 'test-run_1.' }).KAFKA_TOPIC_PREFIX).toBe('test-run_1.');
  });

  it('names KAFKA_TOPIC_PREFIX when it holds unsafe characters', () => {
    expect(configError(() => parseEnv(kafkaEnv, { KAFKA_TOPIC_PREFIX: 'a/b' })).message).toContain(
      'KAFKA_TOPIC_PREFIX: ',
    );
  });

  it.each([
    ['1', true],
    ['5', true],
    ['0', false],
    ['6', false],
  ])('KAFKA_REPLICATION_FACTOR=%s → valid: %s', (value, valid) => {
    const run = () => parseEnv(kafkaEnv, { KAFKA_REPLICATION_FACTOR: value });
    if (valid) expect(run().KAFKA_REPLICATION_FACTOR).toBe(Number(value));
    else expect(configError(run).message).toContain('KAFKA_REPLICATION_FACTOR: ');
  });
});

describe('authEnv', () => {
  it('reads the JWKS file when given', () => {
    expect(parseEnv(authEnv, { AUTH_JWKS_FILE: '/etc/renkei/jwks.json', AUTH_ISSUER: 'hub' })).toEqual({
      AUTH_ISSUER: 'hub',
      AUTH_AUDIENCE: 'renkei-api',
      AUTH_JWKS_FILE: '/etc/renkei/jwks.json',
      AUTH_JWKS_POLL_MS: 1_000,
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: 30 * 24 * 3600,
      AUTH_CLOCK_TOLERANCE_SECONDS: 30,
      REGISTRY_POLL_MS: 5_000,
      RATE_LIMIT_WRITES_MAX: 600,
      RATE_LIMIT_WRITES_WINDOW_MS: 60_000,
      RATE_LIMIT_READS_PER_SECOND: 100,
      RATE_LIMIT_READS_BURST: 1_000,
      RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT: 2,
      RATE_LIMIT_ANALYST_READS_PER_SECOND: 500,
      RATE_LIMIT_ANALYST_READS_BURST: 5_000,
      RATE_LIMIT_ANALYST_EXPENSIVE_READS_IN_FLIGHT: 4,
      AUDIT_REFUSALS_PER_MINUTE: 60,
    });
  });

  it.each([
    ['AUTH_MAX_TOKEN_LIFETIME_SECONDS', '10'],
    ['AUTH_CLOCK_TOLERANCE_SECONDS', '-1'],
    ['RATE_LIMIT_WRITES_MAX', '0'],
    ['RATE_LIMIT_READS_PER_SECOND', '0'],
    ['RATE_LIMIT_READS_BURST', '0.5'],
    ['RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT', '0'],
    ['AUDIT_REFUSALS_PER_MINUTE', 'many'],
  ])('names %s when it is out of range', (name, value) => {
    expect(configError(() => parseEnv(authEnv, { [name]: value })).message).toContain(`${name}: `);
  });

  it.each(['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWKS_FILE'])('names %s when it is empty', (name) => {
    expect(configError(() => parseEnv(authEnv, { [name]: '' })).message).toContain(`${name}: `);
  });
});

describe('host and port', () => {
  it('defaults HOST to loopback', () => {
    expect(hostSchema.parse(undefined)).toBe('127.0.0.1');
  });

  it.each([
    ['0', 0],
    ['8080', 8080],
    ['65535', 65535],
  ])('coerces port %s', (value, port) => {
    expect(portSchema.parse(value)).toBe(port);
  });

  it.each(['-1', '65536', 'http', '80.5'])('rejects port %s', (value) => {
    expect(portSchema.safeParse(value).success).toBe(false);
  });

  it('names a service port variable composed into an env schema', () => {
    const schema = logEnv.extend({ HOST: hostSchema, INGEST_PORT: portSchema.default(8081) });
    expect(parseEnv(schema, {})).toEqual({ LOG_LEVEL: 'info', HOST: '127.0.0.1', INGEST_PORT: 8081 });
    expect(configError(() => parseEnv(schema, { INGEST_PORT: '70000' })).message).toContain('INGEST_PORT: ');
  });
});

describe('ConfigError', () => {
  it('lists every bad variable', () => {
    const error = configError(() =>
      parseEnv(databaseEnv.extend(kafkaEnv.shape), { DATABASE_POOL_SIZE: '0', KAFKA_BROKERS: 'nope' }),
    );
    expect(error.message).toContain('DATABASE_POOL_SIZE: ');
    expect(error.message).toContain('KAFKA_BROKERS');
    expect(error).toBeInstanceOf(Error);
  });
});
