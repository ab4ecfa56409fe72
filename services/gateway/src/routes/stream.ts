import { principalOf } from '@renkei/auth';
import { type HttpServer } from '@renkei/http';
import { RenkeiError } from '@renkei/runtime';
import type { Principal, WelcomeFrame } from '@renkei/schema';
import { CLOSE_CODES, type StreamHub } from '../stream-hub.js';

const HEARTBEAT_MS = 30_000;
/** How often open streams are checked against their token's expiry and the registry. */
export const ACCESS_CHECK_MS = 5_000;

/**
 * `GET /v1/stream`: a WebSocket of JSON text frames. The token is checked on
 * the upgrade request (header or `access_token`), so a bad one gets a plain 401.
 */
export function streamRoutes(
  app: HttpServer,
  {
    hub,
    isDraining,
    stillAllowed,
    accessCheckMs = ACCESS_CHECK_MS,
  }: {
    hub: StreamHub;
    isDraining: () => boolean;
    /** Whether a connected viewer may stay: its token has not expired, its organisation is enabled. */
    stillAllowed: (principal: Principal) => boolean;
    accessCheckMs?: number;
  },
): void {
  // A token that expires, or an organisation disabled, closes its streams
  // within one check (documented close code 4401): the viewer reconnects with a new token.
  const revoke = () => {
    const revoked = hub.revokeWhere(
      stillAllowed,
      CLOSE_CODES.accessRevoked,
      'access revoked: reconnect with a new token',
    );
    if (revoked > 0)
      app.log.info({ revoked, viewers: hub.size }, 'streams closed: token expired or organisation disabled');
  };
  const accessCheck = setInterval(revoke, accessCheckMs);
  accessCheck.unref();
  app.addHook('onClose', async () => clearInterval(accessCheck));

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
