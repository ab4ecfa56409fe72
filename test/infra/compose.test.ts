import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_PRINCIPALS } from '@renkei/bus';
import { REPOSITORY_ROOT } from '@renkei/runtime';

/**
 * No container engine runs on the development machines or in CI, so
 * docker-compose.yml is checked against the Compose Specification's JSON
 * schema, then for what the hub needs of it.
 */
const SCHEMA_FILE = path.join(REPOSITORY_ROOT, 'infra/docker/compose-spec/compose-spec.json');
const COMPOSE_FILE = path.join(REPOSITORY_ROOT, 'docker-compose.yml');
const PORTS = { ingest: 7400, gateway: 7401, correlator: 7402 } as const;

interface ComposeMount {
  type?: string;
  source?: string;
  target?: string;
  read_only?: boolean;
  volume?: { subpath?: string };
}
interface ComposeService {
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, unknown>;
  volumes?: (string | ComposeMount)[];
  ports?: string[];
  healthcheck?: { test?: string | string[]; interval?: string };
  depends_on?: Record<string, { condition?: string }>;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** As `docker compose` reads it: YAML merge keys (`<<: *anchor`) resolved. */
function parseCompose(text: string): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

function compileComposeSchema(): ValidateFunction {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { $schema: string };
  // The upstream schema names draft-07 by an https id Ajv does not know; it is the same meta-schema.
  expect(schema.$schema).toMatch(/json-schema\.org\/draft-07\/schema#?$/);
  const draft07 = createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-07.json') as object;
  // strictTypes off: the upstream schema leaves some `type`s implied, which is valid draft-07.
  const ajv = new Ajv({ allErrors: true, strictTypes: false });
  ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
  // A CommonJS module: under NodeNext its default import is `module.exports`, whose `default` is the plugin.
  ajvFormats.default(ajv);
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  let validate: ValidateFunction;
  let compose: ComposeFile;

  beforeAll(() => {
    validate = compileComposeSchema();
    compose = parseCompose(readFileSync(COMPOSE_FILE, 'utf8'));
  });

  it('is a valid Compose file', () => {
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is rejected by the schema when broken', () => {
    const broken = structuredClone(compose);
    broken.services.ingest!.healthcheck!.interval = 5 as unknown as string;
    (broken.services.gateway as Record<string, unknown>).ports = '7401';
    (broken.services.correlator as Record<string, unknown>).helthcheck = { test: ['CMD', 'true'] };
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((error) => error.instancePath);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/services/ingest/healthcheck/interval',
        '/services/gateway/ports',
        '/services/correlator',
      ]),
    );
    // Unresolved merge keys are not Compose either: the parse above must resolve them.
    expect(validate(parse(readFileSync(COMPOSE_FILE, 'utf8')))).toBe(false);
  });

  it('has the topology of `npm run up`: Kafka, PostgreSQL, the keys, secrets and topics jobs and the three services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'cli',
        'correlator',
        'gateway',
        'ingest',
        'kafka',
        'kafka-2',
        'kafka-3',
        'kafka-secrets',
        'postgres',
        'topics',
      ].sort(),
    );
    // One broker unless the three-brokers profile is on, as `npm run up` unless `--brokers 3`.
    expect(compose.services.kafka!.profiles).toBeUndefined();
    expect(compose.services['kafka-2']!.profiles).toEqual(['three-brokers']);
    expect(compose.services['kafka-3']!.profiles).toEqual(['three-brokers']);
    expect(compose.services.kafka!.healthcheck?.test).toBeDefined();
    expect(compose.services.postgres!.healthcheck?.test).toBeDefined();
    expect(compose.services.cli!.command).toEqual(['keys']);
    expect(compose.services.topics!.command).toEqual(['topics']);
    expect(compose.services.topics!.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
  });

  it.each(Object.entries(PORTS))('runs %s on port %i, healthy when its /readyz answers', (name, port) => {
    const service = compose.services[name]!;
    expect(service.command).toEqual(['node', '--import', 'tsx', `services/${name}/src/main.ts`]);
    expect(String(service.environment?.[`${name.toUpperCase()}_PORT`])).toBe(String(port));
    expect(service.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    // The image (node:20-bookworm-slim) has no curl: node asks.
    const test = service.healthcheck?.test;
    expect(Array.isArray(test) && test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect((test as string[])[3]).toContain(`fetch('http://127.0.0.1:${port}/readyz')`);
    expect(service.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
      cli: { condition: 'service_completed_successfully' },
      // The topics and ACLs exist before a service may use them: none may create a topic.
      topics: { condition: 'service_completed_successfully' },
    });
  });

  it('lets the cli reach the registry the services use (org add, token, keys rotate)', () => {
    const cli = compose.services.cli!;
    expect(cli.environment?.DATABASE_URL).toBeDefined();
    for (const name of Object.keys(PORTS)) {
      expect(cli.environment?.DATABASE_URL).toBe(compose.services[name]!.environment?.DATABASE_URL);
    }
    // `docker compose run --rm cli org add …` starts PostgreSQL first, and its Kafka credentials exist.
    expect(cli.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      'kafka-secrets': { condition: 'service_completed_successfully' },
    });
  });

  it('migrates as the owner and runs each service as its own database role, whose password PostgreSQL was given', () => {
    const postgres = compose.services.postgres!;
    const volumes = (postgres as { volumes?: string[] }).volumes ?? [];
    expect(volumes).toContain(
      './infra/docker/postgres-roles.sh:/docker-entrypoint-initdb.d/10-renkei-roles.sh:ro',
    );
    const script = readFileSync(path.join(REPOSITORY_ROOT, 'infra/docker/postgres-roles.sh'), 'utf8');
    expect(script).toContain('CREATE DATABASE renkei OWNER renkei_owner;');
    expect(script).toMatch(/CREATE ROLE renkei_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE /);

    const owner = new URL(String(compose.services.cli!.environment?.DATABASE_URL));
    expect(owner.username).toBe('renkei_owner');
    expect(decodeURIComponent(owner.password)).toBe(postgres.environment?.RENKEI_OWNER_PASSWORD);
    for (const name of Object.keys(PORTS)) {
      const environment = compose.services[name]!.environment!;
      const own = new URL(String(environment[`${name.toUpperCase()}_DATABASE_URL`]));
      expect(own.username).toBe(`renkei_${name}`);
      // The password the init script gave the role, from the same variable.
      expect(decodeURIComponent(own.password)).toBe(
        postgres.environment?.[`RENKEI_${name.toUpperCase()}_PASSWORD`],
      );
      expect(script).toContain(
        `CREATE ROLE renkei_${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'${name}_password';`,
      );
      expect(script).toContain(`-v ${name}_password="$RENKEI_${name.toUpperCase()}_PASSWORD"`);
      expect([own.host, own.pathname]).toEqual([owner.host, owner.pathname]);
      // No service is handed another's connection.
      for (const other of Object.keys(PORTS).filter((o) => o !== name)) {
        expect(environment[`${other.toUpperCase()}_DATABASE_URL`]).toBeUndefined();
      }
    }
  });

  it('describes the three-broker cluster of `npm run up -- --brokers 3` in its profile', () => {
    const env = Object.fromEntries(
      readFileSync(path.join(REPOSITORY_ROOT, 'infra/docker/three-brokers.env'), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(env.COMPOSE_PROFILES).toBe('three-brokers');
    const nodes = ['kafka', 'kafka-2', 'kafka-3'];
    expect(env.RENKEI_KAFKA_VOTERS).toBe(nodes.map((node, index) => `${index + 1}@${node}:9093`).join(','));
    expect(env.KAFKA_BROKERS).toBe(nodes.map((node) => `${node}:9092`).join(','));
    expect([env.RENKEI_KAFKA_REPLICAS, env.RENKEI_KAFKA_MIN_ISR, env.KAFKA_REPLICATION_FACTOR]).toEqual([
      '3',
      '2',
      '3',
    ]);
    for (const [index, node] of nodes.entries()) {
      const environment = compose.services[node]!.environment!;
      expect(String(environment.KAFKA_NODE_ID)).toBe(String(index + 1));
      expect(environment.KAFKA_ADVERTISED_HOST).toBe(node);
      expect(environment.RENKEI_KAFKA_VOTERS).toBe('${RENKEI_KAFKA_VOTERS:-1@kafka:9093}');
      expect(environment.CLUSTER_ID).toBe(compose.services.kafka!.environment!.CLUSTER_ID);
    }
    for (const name of Object.keys(PORTS)) {
      expect(compose.services[name]!.environment?.KAFKA_BROKERS).toBe('${KAFKA_BROKERS:-kafka:9092}');
    }
  });

  describe('Kafka, secured by default', () => {
    const NODES = ['kafka', 'kafka-2', 'kafka-3'];
    /** What Compose makes of `${NAME:-default}` when NAME is not set (no .env file). */
    const byDefault = (value: unknown) => String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
    const secretMounts = (service: ComposeService) =>
      (service.volumes ?? []).filter((mount) =>
        typeof mount === 'string' ? mount.startsWith('kafka-secrets:') : mount.source === 'kafka-secrets',
      );
    const CLIENTS: Record<string, string> = {
      ingest: 'ingest',
      correlator: 'correlator',
      gateway: 'gateway',
      cli: 'admin',
      topics: 'admin',
    };

    it('gives every Kafka client its own principal, password and CA, and no other principal’s', () => {
      expect(Object.values(CLIENTS).filter((p) => p !== 'admin')).toEqual([...SERVICE_PRINCIPALS]);
      for (const [name, principal] of Object.entries(CLIENTS)) {
        const service = compose.services[name]!;
        const environment = service.environment!;
        expect(byDefault(environment.KAFKA_SECURITY), name).toBe('sasl_ssl');
        expect(environment.KAFKA_SASL_USERNAME, name).toBe(principal);
        expect(environment.KAFKA_SASL_PASSWORD, name).toBeUndefined();
        // Exactly one mount of the secrets: its own principal's folder, read-only.
        expect(secretMounts(service), name).toEqual([
          {
            type: 'volume',
            source: 'kafka-secrets',
            target: '/run/secrets/kafka',
            read_only: true,
            volume: { subpath: `clients/${principal}` },
          },
        ]);
        expect(environment.KAFKA_SASL_PASSWORD_FILE, name).toBe('/run/secrets/kafka/password');
        expect(environment.KAFKA_TLS_CA_FILE, name).toBe('/run/secrets/kafka/ca.pem');
      }
      // Nothing else that runs the hub's image reaches Kafka without them.
      for (const [name, service] of Object.entries(compose.services)) {
        if (service.environment?.KAFKA_BROKERS !== undefined) expect(CLIENTS[name], name).toBeDefined();
      }
    });

    it('makes those files in a one-shot job, with the code kafka.sh uses, before any node starts', () => {
      const job = compose.services['kafka-secrets']!;
      expect(job.entrypoint).toEqual(['bash', 'infra/kafka/secrets.sh']);
      expect(job.volumes).toEqual(['kafka-secrets:/secrets']);
      for (const node of NODES) {
        expect(compose.services[node]!.depends_on).toEqual({
          'kafka-secrets': { condition: 'service_completed_successfully' },
        });
      }
      // Run here as the job runs: every client's folder holds its password (owner only) and the CA.
      const dir = mkdtempSync(path.join(tmpdir(), 'renkei-compose-secrets-'));
      try {
        const run = spawnSync('bash', [path.join(REPOSITORY_ROOT, 'infra/kafka/secrets.sh')], {
          env: {
            ...process.env,
            KAFKA_SECRETS_DIR: dir,
            KAFKA_TLS_HOSTNAMES: String(job.environment?.KAFKA_TLS_HOSTNAMES),
          },
          encoding: 'utf8',
        });
        expect(run.status, run.stderr).toBe(0);
        for (const principal of new Set(Object.values(CLIENTS))) {
          const password = path.join(dir, 'clients', principal, 'password');
          expect(readFileSync(password, 'utf8').trim()).toMatch(/^[0-9a-f]{48}$/);
          expect(statSync(password).mode & 0o077).toBe(0);
          expect(readFileSync(path.join(dir, 'clients', principal, 'ca.pem'), 'utf8')).toContain(
            'BEGIN CERTIFICATE',
          );
        }
        // The broker's own password is for the nodes only.
        expect(existsSync(path.join(dir, 'clients', 'broker'))).toBe(false);
        const san = spawnSync(
          'openssl',
          ['x509', '-in', path.join(dir, 'tls/broker.crt'), '-noout', '-ext', 'subjectAltName'],
          {
            encoding: 'utf8',
          },
        );
        for (const node of NODES) expect(san.stdout).toContain(`DNS:${node}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('exposes no plaintext listener by default, and publishes no Kafka port at all', () => {
      const text = readFileSync(COMPOSE_FILE, 'utf8');
      expect(text).not.toMatch(/PLAINTEXT:\/\/|:PLAINTEXT/);
      for (const [index, node] of NODES.entries()) {
        const service = compose.services[node]!;
        expect(service.ports, node).toBeUndefined();
        expect(service.entrypoint).toEqual(['bash', '/renkei/kafka/compose-node.sh', 'start']);
        expect(byDefault(service.environment?.KAFKA_SECURITY), node).toBe('sasl_ssl');
        expect(secretMounts(service)).toEqual(['kafka-secrets:/secrets:ro']);
        // What the node's script renders from those settings, with secrets the job made.
        const dir = mkdtempSync(path.join(tmpdir(), 'renkei-compose-node-'));
        try {
          const script = (name: string) => path.join(REPOSITORY_ROOT, 'infra/kafka', name);
          const env = {
            ...process.env,
            KAFKA_SECRETS_DIR: dir,
            KAFKA_PROPS: path.join(dir, 'server.properties'),
            ...Object.fromEntries(
              Object.entries(service.environment ?? {}).map(([name, value]) => [name, byDefault(value)]),
            ),
          };
          expect(spawnSync('bash', [script('secrets.sh')], { env }).status).toBe(0);
          const rendered = spawnSync('bash', [script('compose-node.sh'), 'render'], {
            env,
            encoding: 'utf8',
          });
          expect(rendered.status, rendered.stderr).toBe(0);
          const props = readFileSync(env.KAFKA_PROPS, 'utf8');
          expect(props).toContain('listeners=CLIENT://:9092,CONTROLLER://:9093');
          expect(props).toContain(`advertised.listeners=CLIENT://${node}:9092`);
          expect(props).toContain('listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SSL');
          expect(props).toContain('listener.name.controller.ssl.client.auth=required');
          expect(props).toContain(
            'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
          );
          expect(props).toContain('allow.everyone.if.no.acl.found=false');
          expect(props).toContain(`node.id=${index + 1}`);
          expect(props).not.toMatch(/PLAINTEXT/);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      // Plaintext only through the development override file.
      const override = readFileSync(path.join(REPOSITORY_ROOT, 'infra/docker/plaintext.env'), 'utf8');
      expect(override).toMatch(/^KAFKA_SECURITY=plaintext$/m);
      expect(override).toMatch(/[Dd]evelopment only/);
    });
  });

  it('starts without development mode: no demo sign-in, on a HOST beyond loopback', () => {
    expect(compose.services.gateway!.environment?.GATEWAY_DEV_MODE).toBe('false');
    for (const [name, service] of Object.entries(compose.services))
      expect(service.environment?.GATEWAY_DEV_MODE ?? 'false', name).toBe('false');
    // The gateway also ignores GATEWAY_DEV_MODE on a non-loopback HOST, which is the image's.
    const dockerfile = readFileSync(path.join(REPOSITORY_ROOT, 'infra/docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/ENV HOST=0\.0\.0\.0/);
    expect(dockerfile).not.toContain('GATEWAY_DEV_MODE');
  });

  it('uses the ports `npm run up` uses by default', () => {
    const up = readFileSync(path.join(REPOSITORY_ROOT, 'infra/scripts/up.sh'), 'utf8');
    for (const [name, port] of Object.entries(PORTS)) {
      const variable = `${name.toUpperCase()}_PORT`;
      expect(up).toContain(`${variable}="\${${variable}:-${port}}"`);
    }
  });
});
