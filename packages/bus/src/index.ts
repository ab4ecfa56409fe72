export {
  TOPICS,
  ensureTopics,
  prepareTopics,
  topicConfig,
  topicNames,
  type EnsureTopicsOptions,
  type TopicKey,
  type TopicNames,
  type TopicSpec,
} from './topics.js';
export { HEADERS, readHeader, reportsTopicMessage } from './headers.js';
export {
  brokerCheck,
  createConsumer,
  createReliableProducer,
  DeadlineExceededError,
  isBrokerUnavailable,
  kafkaClient,
  keepConsuming,
  onFinalCrash,
  withDeadline,
  type Consumer,
  type Kafka,
  type KafkaClientConfig,
  type KeptConsumer,
  type Producer,
} from './kafka.js';
export { watchBroker } from './watch.js';
export { PartitionLanes, type AcknowledgedSender } from './partition-lanes.js';
export {
  aclBindings,
  applyAcls,
  CONSUMER_GROUPS,
  PRINCIPAL_GRANTS,
  SERVICE_PRINCIPALS,
  type AclBinding,
  type AclOperation,
  type ServicePrincipal,
} from './acls.js';
export {
  kafkaCaFile,
  kafkaClientSecurity,
  kafkaCredentialsDirectory,
  type KafkaClientSecurity,
  type KafkaSecurityConfig,
} from './security.js';
