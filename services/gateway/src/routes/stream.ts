import { principalOf } from '@renkei/auth';
import type { Queryable } from '@renkei/db';
import { feedBounds } from '@renkei/feed';
import { errorReplies, invalidField, type HttpServer } from '@renkei/http';
import { RenkeiError } from '@renkei/runtime';
import { streamQuerySchema, type Principal, type StreamFilter, type WelcomeFrame } from '@renkei/schema';
import { isEmptyFilter } from '../stream-filter.js';
import type { StreamHub } from '../stream-hub.js';

export interface StreamRouteDeps {
  hub: StreamHub;
  pool: Queryable;
  isDraining: () => boolean;
  /** Whether a browser page of this origin may open the stream; `undefined`: no `Origin` sent. */
  isOriginAllowed: (origin: string | undefined) => boolean;
  /** Asked of every open connection every `accessRecheckMs`; false closes it (4401). */
  isStillAllowed: (principal: Principal) => boolean | Promise<boolean>;
  heartbeatMs: number;
  accessRecheckMs: number;
}

/** A token past its expiry no longer watches, whatever else is known. */
export function tokenStillValid(principal: Principal, now = Date.now()): boolean {
  return principal.expiresAt === undefined || Date.parse(principal.expiresAt) > now;
}

/**
 * `GET /v1/stream`: a WebSocket of JSON text frames. The token is checked on
 * the upgrade request (header or `access_token`), and so are the origin and
 * the query, so a refused upgrade gets a plain HTTP error.
 */
export function streamRoutes(app: HttpServer, deps: StreamRouteDeps): void {
  const { hub } = deps;
  app.get(
    '/v1/stream',
    {
      websocket: true,
      preValidation: async (request) => {
        const origin = request.headers.origin;
        if (!deps.isOriginAllowed(origin)) {
          request.log.warn({ origin }, 'stream refused: origin not allowed');
          throw new RenkeiError('RENKEI_FORBIDDEN', `pages from ${origin} may not open the stream`);
        }
        // A draining gateway takes no new viewers: they reconnect to another.
        if (deps.isDraining())
          throw new RenkeiError('RENKEI_UNAVAILABLE', 'the gateway is restarting: reconnect');
      },
      preHandler: async (request) => {
        const { after } = request.query;
        if (after === undefined) return;
        const position = hub.cursors.open(after);
        // Never says why, nor where the feed is: a cursor is only ever one this hub gave out.
        if (position === undefined) throw invalidField('after', 'is not a cursor this hub gave out');
        // Ahead of this gateway's hub is fine (another gateway may be further along), ahead of the feed is not.
        if (position > BigInt(hub.position)) {
          const { head } = await feedBounds(deps.pool);
          if (position > BigInt(head)) throw invalidField('after', 'is not a cursor this hub gave out');
        }
      },
      schema: {
        summary: 'The live feed over a WebSocket (JSON text frames), resumable by cursor',
        description:
          'Upgrade with `Authorization: Bearer …` or `?access_token=…`. Frames: `welcome`, `subscribed` when a filter was given, ' +
          '`gap` when `after` is older than the feed keeps, then every event after `after` the caller may see (`alert`, `alert-update`, ' +
          '`warning`, `warning-ack`), replayed then live. Send `{"type":"subscribe","filter":{…}}` to change the filter at any time. ' +
          'Close codes are listed in docs/STREAM.md.',
        tags: ['stream'],
        querystring: streamQuerySchema,
        response: errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
      },
    },
    (socket, request) => {
      const principal = principalOf(request);
      const { after, access_token: _token, ...filter } = request.query;
      const log = request.log.child({ subject: principal.subject, organisationId: principal.organisationId });
      const welcome: WelcomeFrame = {
        type: 'welcome',
        protocol: 1,
        principal: {
          subject: principal.subject,
          organisationId: principal.organisationId,
          sector: principal.sector,
          roles: principal.roles,
        },
        heartbeatMs: deps.heartbeatMs,
      };
      const connection = hub.connect(principal, socket, {
        // The socket the upgrade came on is the one ws writes to.
        raw: request.raw.socket,
        first: [welcome],
        // The preHandler opened it already: it opens again to the same position.
        ...(after === undefined ? {} : { after: hub.cursors.open(after)!.toString() }),
        ...(isEmptyFilter(filter) ? {} : { filter: filter as StreamFilter }),
      });
      // Refused at once (the organisation's cap): the hub closed it and never counted it.
      if (connection.state === 'closed') return;
      log.info({ viewers: hub.size, after }, 'stream opened');

      socket.on('message', (data, isBinary) => hub.receive(connection, data, isBinary));
      socket.on('pong', () => (connection.alive = true));
      // Errors (a frame over the limit, which ws answers with 1009 itself) are logged by the HTTP layer.
      socket.on('close', (code) => {
        hub.disconnect(connection);
        log.info({ viewers: hub.size, code }, 'stream closed');
      });
    },
  );

  // One timer for all connections, not one per socket.
  const heartbeat = setInterval(() => hub.heartbeat(), deps.heartbeatMs);
  // A slow registry must not pile one re-check on another.
  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    void hub.recheckAccess(deps.isStillAllowed).finally(() => (rechecking = false));
  }, deps.accessRecheckMs);
  heartbeat.unref();
  recheck.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    clearInterval(recheck);
  });
}
