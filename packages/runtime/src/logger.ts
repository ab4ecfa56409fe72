import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout, one logger per process; `service` names the emitter in
 * every line. Writes do not block the request path; pino flushes what is
 * pending when the process exits.
 */
export function createLogger(service: string, level: LoggerOptions['level'] = 'info'): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
