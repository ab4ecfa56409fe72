import type { Logger } from '@renkei/runtime';

/** Query parameters that may carry a credential: their values never reach a log line. */
const SECRET_PARAMETERS = /([?&](?:access_token|token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMETERS, '$1[redacted]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * The logger to hand Fastify: its request lines carry the URL with any
 * `access_token` (browsers' WebSockets put the token there) redacted, and no
 * headers, so a token never appears in a log line.
 */
export function withRedactedRequests(logger: Logger): Logger {
  return logger.child(
    {},
    {
      serializers: {
        req: (request: LoggedRequest) => ({
          method: request.method,
          url: request.url === undefined ? undefined : redactUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
    },
  );
}
