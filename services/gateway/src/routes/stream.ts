import { principalOf } from '@renkei/auth';
import { type HttpServer } from '@renkei/http';
import { RenkeiError } from '@renkei/runtime';
import type { WelcomeFrame } from '@renkei/schema';
import type { StreamHub } from '../stream-hub.js';

const HEARTBEAT_MS = 30_000;

/**
 * `GET /v1/stream`: a WebSocket of JSON text frames. The token is checked on
 * the upgrade request (header or `access_token`), so a bad one gets a plain 401.
 */
export function streamRoutes(
  app: HttpServer,
  { hub, isDraining }: { hub: StreamHub; isDraining: () => boolean },
): void {
  app.get(
    '/v1/stream',
    {
      websocket: true,
      // A draining gateway takes no new viewers: they reconnect to another.
      preValidation: async () => {
        if (isDraining()) throw new RenkeiError('RENKEI_UNAVAILABLE', 'the gateway is restarting: reconnect');
      },
      schema: {
        summary: 'Live alerts over a WebSocket (JSON text frames)',
        description:
          'Upgrade with `Authorization: Bearer …` or `?access_token=…`. Frames: `welcome`, then `alert`.',
        tags: ['stream'],
      },
    },
    (socket, request) => {
      const principal = principalOf(request);
      const subscriber = { principal, socket };
      const remove = hub.add(subscriber);
      const log = request.log.child({ subject: principal.subject, organisationId: principal.organisationId });
      log.info({ viewers: hub.size }, 'stream opened');

      const welcome: WelcomeFrame = {
        type: 'welcome',
        protocol: 1,
        principal: {
          subject: principal.subject,
          organisationId: principal.organisationId,
          sector: principal.sector,
          roles: principal.roles,
        },
      };
      hub.send(subscriber, welcome);

      // Pings find connections that died without a close (a laptop lid, a NAT).
      let alive = true;
      socket.on('pong', () => (alive = true));
      const heartbeat = setInterval(() => {
        if (!alive) {
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, HEARTBEAT_MS);

      socket.on('close', () => {
        clearInterval(heartbeat);
        remove();
        log.info({ viewers: hub.size }, 'stream closed');
      });
    },
  );
}
