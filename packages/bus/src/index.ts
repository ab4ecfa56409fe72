export {
  TOPICS,
  ensureTopics,
  prepareTopics,
  topicNames,
  type TopicKey,
  type TopicNames,
  type TopicSpec,
} from './topics.js';
export { HEADERS, readHeader } from './headers.js';
export {
  createConsumer,
  createKafka,
  createReliableProducer,
  withDeadline,
  type Consumer,
  type Kafka,
  type Producer,
} from './kafka.js';
