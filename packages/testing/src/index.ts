export { eventually, sleep } from './eventually.js';
export {
  createMigratedTestDatabase,
  createTestDatabase,
  TEST_SERVER_URL,
  type TestDatabase,
} from './database.js';
export { createPrivateBroker, freePort, type PrivateBroker } from './broker.js';
export { recordLifecycle } from './lifecycle.js';
export { documentedRoutes } from './openapi.js';
export { controllable, type ControllableProducer, type ProducerFault } from './producer.js';
export { createTestKeys, testTokenVerifier, type TestKeys } from './keys.js';
export {
  spawnService,
  spawnServices,
  waitUntilReady,
  TEST_LOG_DIR,
  type LogLine,
  type ServiceName,
  type ServiceProcess,
} from './services.js';
export { openStream, type OpenStreamOptions, type StreamClient } from './stream.js';
export {
  deleteTopicsWithPrefix,
  grantPrefix,
  prepareTestPrefix,
  randomTopicPrefix,
  readWholeTopic,
  sharedKafkaEnv,
  testKafka,
  testKafkaEnv,
  TEST_KAFKA_BROKERS,
  TEST_KAFKA_SECURITY,
} from './kafka.js';
export { alertRecordFixture, contributionFixture, reportEnvelopeFixture } from './fixtures.js';
export { seedAlerts } from './seed-alerts.js';
export { buildConsoleIfMissing, CONSOLE_DIR } from './console.js';
export { registerOrganisations, TEST_ORGANISATIONS, type TestOrganisation } from './organisations.js';
export {
  createTestCertificate,
  startWebhookReceiver,
  type ReceivedRequest,
  type TestCertificate,
  type WebhookReceiver,
} from './webhook-receiver.js';
export {
  callJson,
  mintActorTokens,
  startTestHub,
  submitTestReport,
  type JsonAnswer,
  type TestActors,
  type TestHub,
  type TestHubOptions,
} from './hub.js';
export { drillScenario, type DrillWindows } from './exercise-scenario.js';
