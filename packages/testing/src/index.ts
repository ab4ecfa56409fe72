export { eventually, sleep } from './eventually.js';
export { createTestDatabase, TEST_SERVER_URL, type TestDatabase } from './database.js';
export { createTestKeys, type TestKeys } from './keys.js';
export {
  spawnService,
  spawnServices,
  waitUntilReady,
  TEST_LOG_DIR,
  type LogLine,
  type ServiceName,
  type ServiceProcess,
} from './services.js';
export { openStream, type StreamClient } from './stream.js';
export {
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  readWholeTopic,
  testKafka,
  TEST_KAFKA_BROKERS,
} from './kafka.js';
