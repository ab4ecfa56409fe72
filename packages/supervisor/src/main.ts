import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { createLogger, REPOSITORY_ROOT, stateDirectory } from '@renkei/runtime';
import { hostSchema, parseEnv, portSchema } from '@renkei/schema';
import { supervisorFiles } from './paths.js';
import { startSupervisor, type SupervisedService } from './supervisor.js';

/**
 * The supervisor of a local hub, as `npm run up` starts it. Every variable
 * it was started with passes to the services, which validate their own.
 */
const env = parseEnv(
  z.object({
    HOST: hostSchema,
    INGEST_PORT: portSchema.default(7400),
    GATEWAY_PORT: portSchema.default(7401),
    CORRELATOR_PORT: portSchema.default(7402),
    SUPERVISOR_STOP_GRACE_MS: z.coerce.number().int().min(1_000).default(25_000),
  }),
  process.env,
);

const files = supervisorFiles(stateDirectory());
mkdirSync(files.runDir, { recursive: true });
mkdirSync(files.logDir, { recursive: true });
const logger = createLogger('supervisor');
const probeHost = env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST === '::' ? '[::1]' : env.HOST;

// Correlator first: ingest and the gateway need nothing of it, but it applies
// the migrations quickest and the others wait on their advisory lock anyway.
const ports = { correlator: env.CORRELATOR_PORT, ingest: env.INGEST_PORT, gateway: env.GATEWAY_PORT };
const services: SupervisedService[] = Object.entries(ports).map(([name, port]) => {
  const logFile = path.join(files.logDir, `${name}.log`);
  // A fresh log per `up`, the previous one kept; restarts within a run append, so a crash's last lines stay.
  if (existsSync(logFile)) renameSync(logFile, `${logFile}.1`);
  return {
    name,
    command: process.execPath,
    args: ['--import', 'tsx', 'src/main.ts'],
    cwd: path.join(REPOSITORY_ROOT, 'services', name),
    env: process.env,
    logFile,
    readyUrl: `http://${probeHost}:${port}/readyz`,
  };
});

const supervisor = startSupervisor({
  services,
  stateFile: files.stateFile,
  runDir: files.runDir,
  logger,
  stopGraceMs: env.SUPERVISOR_STOP_GRACE_MS,
});
logger.info({ services: services.map((service) => service.name) }, 'supervising');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the services');
    supervisor.close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        setImmediate(() => process.exit(0));
      },
      (error: unknown) => {
        logger.error({ err: error }, 'could not stop every service');
        logger.flush();
        setImmediate(() => process.exit(1));
      },
    );
  });
}
// nohup already ignores it; a terminal closing must not take the hub down either.
process.on('SIGHUP', () => undefined);
