import kafkajs, { type Admin } from 'kafkajs';
import { TOPICS, type TopicKey } from './topics.js';

// Node's CommonJS interop does not see these among kafkajs's named exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** Consumer groups of the hub, under the topic prefix; the services name theirs from here. */
export const CONSUMER_GROUPS = {
  /** Ingest reads back its own reports topic to catch the ledger up after a PostgreSQL outage. */
  ingestLedger: 'renkei-ingest-ledger',
  correlator: 'renkei-correlator',
  /** One group per gateway instance (`renkei-gateway.<GATEWAY_INSTANCE_ID>`), so a prefix. */
  gatewayPrefix: 'renkei-gateway.',
} as const;

/** The hub's principals on a secured broker; `admin` (a super user) creates topics and ACLs. */
export const SERVICE_PRINCIPALS = ['ingest', 'correlator', 'gateway'] as const;
export type ServicePrincipal = (typeof SERVICE_PRINCIPALS)[number];

interface Grants {
  /** Topics the principal consumes or reads metadata and offsets of. */
  reads: readonly TopicKey[];
  /** Topics the principal produces to (idempotently, so also IdempotentWrite on the cluster). */
  writes: readonly TopicKey[];
  /** Topics whose retention the principal keeps in line with the hub's settings (DescribeConfigs, AlterConfigs). */
  configures: readonly TopicKey[];
  groups: readonly { name: string; prefixed: boolean }[];
}

/**
 * Exactly what each service does with Kafka, nothing more. The gateway writes
 * the feed and alerts topics because it runs the feed relay too (one process
 * of the hub leads it); the correlator writes the dead-letter topic.
 */
export const PRINCIPAL_GRANTS: Record<ServicePrincipal, Grants> = {
  ingest: {
    reads: ['reports'],
    writes: ['reports'],
    configures: [],
    groups: [{ name: CONSUMER_GROUPS.ingestLedger, prefixed: false }],
  },
  correlator: {
    reads: ['reports'],
    writes: ['alerts', 'feed', 'reportsDeadLetter'],
    // The retention purge runs in the correlator, so it sets the topics' retention.ms too.
    configures: ['reports', 'alerts', 'feed', 'reportsDeadLetter'],
    groups: [{ name: CONSUMER_GROUPS.correlator, prefixed: false }],
  },
  gateway: {
    reads: ['feed'],
    writes: ['feed', 'alerts'],
    configures: [],
    groups: [{ name: CONSUMER_GROUPS.gatewayPrefix, prefixed: true }],
  },
};

export type AclOperation =
  'READ' | 'WRITE' | 'DESCRIBE' | 'IDEMPOTENT_WRITE' | 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS';

export interface AclBinding {
  principal: `User:${string}`;
  resourceType: 'TOPIC' | 'GROUP' | 'CLUSTER';
  resourceName: string;
  patternType: 'LITERAL' | 'PREFIXED';
  operation: AclOperation;
}

/**
 * The ALLOW bindings of every service principal for the hub whose topics and
 * groups carry `prefix` (empty in production): topics by their literal names,
 * so a principal reaches no other prefix's topics nor topics added later.
 */
export function aclBindings(prefix: string): AclBinding[] {
  const bindings: AclBinding[] = [];
  const seen = new Set<string>();
  const add = (binding: AclBinding) => {
    const key = JSON.stringify(binding);
    if (seen.has(key)) return;
    seen.add(key);
    bindings.push(binding);
  };
  for (const name of SERVICE_PRINCIPALS) {
    const principal = `User:${name}` as const;
    const grants = PRINCIPAL_GRANTS[name];
    const topic = (key: TopicKey, operation: AclOperation) =>
      add({
        principal,
        resourceType: 'TOPIC',
        resourceName: prefix + TOPICS[key].name,
        patternType: 'LITERAL',
        operation,
      });
    for (const key of grants.reads) {
      topic(key, 'READ');
      topic(key, 'DESCRIBE');
    }
    for (const key of grants.writes) {
      topic(key, 'WRITE');
      topic(key, 'DESCRIBE');
    }
    for (const key of grants.configures) {
      topic(key, 'DESCRIBE_CONFIGS');
      topic(key, 'ALTER_CONFIGS');
    }
    if (grants.writes.length > 0) {
      add({
        principal,
        resourceType: 'CLUSTER',
        resourceName: 'kafka-cluster',
        patternType: 'LITERAL',
        operation: 'IDEMPOTENT_WRITE',
      });
    }
    for (const group of grants.groups) {
      for (const operation of ['READ', 'DESCRIBE'] as const) {
        add({
          principal,
          resourceType: 'GROUP',
          resourceName: prefix + group.name,
          patternType: group.prefixed ? 'PREFIXED' : 'LITERAL',
          operation,
        });
      }
    }
  }
  return bindings;
}

/** Creates the bindings (as a principal allowed to: admin); creating an existing one is a no-op. */
export async function applyAcls(
  admin: Admin,
  bindings: readonly AclBinding[],
  { visibleWithinMs = 15_000 }: { visibleWithinMs?: number } = {},
): Promise<void> {
  if (bindings.length === 0) return;
  await admin.createAcls({
    acl: bindings.map((binding) => ({
      principal: binding.principal,
      host: '*',
      resourceType: AclResourceTypes[binding.resourceType],
      resourceName: binding.resourceName,
      resourcePatternType: ResourcePatternTypes[binding.patternType],
      operation: AclOperationTypes[binding.operation],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  });
  // The controller commits new ACLs at once, but a broker's authorizer applies them when it
  // replays the metadata log, a moment later: a service started right after `renkei topics`
  // would be refused its own topics. Return once the broker answering us lists them all.
  const wanted = new Set(bindings.map(bindingKey));
  const deadline = Date.now() + visibleWithinMs;
  for (;;) {
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ALLOW,
    });
    const seen = new Set(
      resources.flatMap((resource) =>
        resource.acls.map((acl) =>
          [
            acl.principal,
            resource.resourceType,
            resource.resourceName,
            resource.resourcePatternType,
            acl.operation,
          ].join(' '),
        ),
      ),
    );
    const missing = [...wanted].filter((key) => !seen.has(key)).length;
    if (missing === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${missing} of ${wanted.size} ACLs were not in force ${visibleWithinMs} ms after they were created`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function bindingKey(binding: AclBinding): string {
  return [
    binding.principal,
    AclResourceTypes[binding.resourceType],
    binding.resourceName,
    ResourcePatternTypes[binding.patternType],
    AclOperationTypes[binding.operation],
  ].join(' ');
}
