import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import path from 'node:path';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { GSOC_ONLY_ROLES, mintToken } from '@renkei/auth';
import type { Queryable } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import type { OrganisationRegistry } from '@renkei/registry';
import { RenkeiError, type Logger } from '@renkei/runtime';
import {
  demoRoleSchema,
  organisationIdSchema,
  sectorSchema,
  organisationKindSchema,
  type DemoRole,
} from '@renkei/schema';

export interface ConsoleSettings {
  /** The built console (`services/console/dist`). */
  distDir: string;
  /** Where the console's pages submit reports: ingest, as browsers reach it. */
  ingestUrl: string;
  /**
   * Local development only (`npm run up`): the page may mint demo tokens
   * with the hub's own signing key, found beside the public key set.
   */
  devMode: { signingKeyFile: string; issuer: string; audience: string } | null;
}

/** What the page needs to know before anyone signs in; served as JSON so no script is inlined. */
export const consoleConfigSchema = z.strictObject({
  ingestUrl: z.string(),
  devMode: z.boolean(),
  /** How often the stream sends `heartbeat`: the page says "Live" only while one came within two of these. */
  heartbeatMs: z.number().int().positive(),
});

const devTokenRequestSchema = z.strictObject({
  organisationId: organisationIdSchema,
  role: demoRoleSchema,
});
const devTokenReplySchema = z.strictObject({ token: z.string() });
const demoIdentitySchema = z.strictObject({
  organisationId: organisationIdSchema,
  name: z.string(),
  sector: sectorSchema,
  kind: organisationKindSchema,
  roles: z.array(demoRoleSchema),
});
const demoIdentitiesSchema = z.strictObject({ items: z.array(demoIdentitySchema) });

const DEMO_TOKEN_TTL = '8h';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.ico': 'image/x-icon',
};

/**
 * The page's policy: scripts and styles only from this origin (no inline
 * script, so text that slips into HTML still cannot run), connections to
 * this gateway (HTTP and its WebSocket) and to ingest for submissions.
 */
export function contentSecurityPolicy(ingestUrl: string): string {
  const ingest = new URL(ingestUrl).origin;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    // 'self' covers this origin's WebSocket too (ws: beside http:, wss: beside https:).
    `connect-src 'self' ${ingest}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Whether a listening address is reachable from this machine only: the one place demo sign-in is offered. */
export function isLoopbackHost(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host.toLowerCase());
}

/**
 * Whether a peer address is this machine's loopback interface (127.0.0.0/8,
 * `::1`, or either written IPv4-mapped). Only the socket's own address counts.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  if (isIPv4(address)) return address.startsWith('127.');
  if (!isIPv6(address)) return false;
  // The URL parser writes IPv6 canonically: `::1`, and `::ffff:7f00:1` for 127.0.0.1 mapped.
  const canonical = hostnameOf(`http://[${address}]`);
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical ?? '');
}

/** What demo sign-in looks at in a request: the peer's address and a few headers. */
export interface DemoSignInRequest {
  /** The TCP peer of the request's socket; never a header. */
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/**
 * Why demo sign-in refuses this request, or null when it may answer. It asks
 * for no credential, so it answers only a client on this machine: the peer
 * must be the loopback interface. Headers can only refuse, never admit: a
 * forwarding header means a local proxy relayed someone else's request; a
 * Host or Origin that is not a loopback name means a page reached
 * 127.0.0.1 through a name it controls (DNS rebinding).
 */
export function demoSignInRefusal(request: DemoSignInRequest): string | null {
  if (!isLoopbackAddress(request.remoteAddress))
    return 'demo sign-in answers only requests from this machine (the loopback interface)';
  if (FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined))
    return 'demo sign-in does not answer requests relayed by a proxy';
  const host = request.headers.host;
  if (typeof host !== 'string' || !isLoopbackName(hostnameOf(`http://${host}`)))
    return 'demo sign-in answers only on a loopback address (127.0.0.1, localhost, [::1])';
  const origin = request.headers.origin;
  if (origin !== undefined && (typeof origin !== 'string' || !isLoopbackName(hostnameOf(origin))))
    return 'demo sign-in answers only pages served from a loopback address';
  return null;
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function isLoopbackName(hostname: string | undefined): boolean {
  if (hostname === undefined) return false;
  if (hostname.toLowerCase() === 'localhost') return true;
  return isLoopbackAddress(hostname.replace(/^\[(.*)\]$/, '$1'));
}

/** Roles a demo organisation of this kind may sign in with; never admin (see {@link demoRoleSchema}). */
export function demoRolesFor(kind: z.infer<typeof organisationKindSchema>): DemoRole[] {
  if (kind === 'gsoc') return ['analyst'];
  if (kind === 'ceptar') return ['ceptar'];
  return ['reporter'];
}

/**
 * The console at `/` (static files from its build) and, in local development
 * only, the demo sign-in. A gateway whose console was never built says how
 * to build it instead of answering 404.
 */
export function consoleRoutes(
  app: HttpServer,
  deps: {
    console?: ConsoleSettings;
    registry: OrganisationRegistry;
    logger: Logger;
    pool: Queryable;
    heartbeatMs?: number;
  },
): void {
  const settings = deps.console;
  if (!settings) return;
  const policy = contentSecurityPolicy(settings.ingestUrl);
  const dist = path.resolve(settings.distDir);

  const sendFile = async (file: string, reply: FastifyReply) => {
    const resolved = path.resolve(dist, file);
    // Never outside the build folder, whatever the path asks for.
    if (!resolved.startsWith(dist + path.sep)) throw new RenkeiError('RENKEI_NOT_FOUND', 'no such file');
    let body: Buffer;
    try {
      body = await readFile(resolved);
    } catch {
      if (file === 'index.html') {
        return reply
          .status(503)
          .header('content-type', 'text/plain; charset=utf-8')
          .header('content-security-policy', policy)
          .send(
            'The console has not been built. Build it with:\n  npx pnpm@12.4.2 --filter @renkei/console build\n' +
              '(npm run up and npm test build it too), then reload.\n',
          );
      }
      throw new RenkeiError('RENKEI_NOT_FOUND', `no file ${file}`);
    }
    return reply
      .header('content-type', CONTENT_TYPES[path.extname(resolved)] ?? 'application/octet-stream')
      .header('content-security-policy', policy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header(
        'cache-control',
        file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .send(body);
  };

  const hidden = { hide: true } as const;
  app.get('/', { config: { public: true }, schema: hidden }, (_request, reply) =>
    sendFile('index.html', reply),
  );
  app.get(
    '/assets/:file',
    { config: { public: true }, schema: { ...hidden, params: z.object({ file: z.string() }) } },
    (request, reply) => {
      // Vite names its output `name-hash.ext`: anything else, a path above all, is not ours.
      if (!/^[\w-]+(\.[\w-]+)+$/.test(request.params.file))
        throw new RenkeiError('RENKEI_NOT_FOUND', 'no such file');
      return sendFile(`assets/${request.params.file}`, reply);
    },
  );
  const devMode = settings.devMode;
  const refusalOf = (request: FastifyRequest) =>
    demoSignInRefusal({ remoteAddress: request.raw.socket.remoteAddress, headers: request.headers });
  // A page opened from elsewhere is not offered a sign-in that would refuse it.
  app.get('/console-config.json', { config: { public: true }, schema: hidden }, (request) =>
    consoleConfigSchema.parse({
      ingestUrl: settings.ingestUrl,
      devMode: devMode !== null && refusalOf(request) === null,
      heartbeatMs: deps.heartbeatMs ?? 30_000,
    }),
  );

  const refuseUnlessDev = (request: FastifyRequest) => {
    if (!devMode)
      throw new RenkeiError('RENKEI_NOT_FOUND', 'demo sign-in exists only in local development mode');
    const refusal = refusalOf(request);
    if (refusal) {
      deps.logger.warn(
        { remoteAddress: request.raw.socket.remoteAddress, url: request.routeOptions.url, refusal },
        'demo sign-in refused',
      );
      throw new RenkeiError('RENKEI_FORBIDDEN', refusal);
    }
    return devMode;
  };
  app.get(
    '/v1/dev/identities',
    {
      config: { public: true },
      schema: {
        summary:
          'Demo organisations and roles to sign in as (local development mode only, 404 otherwise; ' +
          'from this machine only, 403 otherwise)',
        tags: ['development'],
        response: { 200: demoIdentitiesSchema, ...errorReplies('RENKEI_FORBIDDEN', 'RENKEI_NOT_FOUND') },
      },
    },
    (request) => {
      refuseUnlessDev(request);
      return {
        items: deps.registry
          .list()
          .filter((organisation) => organisation.enabled)
          .map((organisation) => ({
            organisationId: organisation.id,
            name: organisation.name,
            sector: organisation.sector,
            kind: organisation.kind,
            roles: demoRolesFor(organisation.kind),
          })),
      };
    },
  );
  app.post(
    '/v1/dev/token',
    {
      config: { public: true },
      schema: {
        summary:
          'Mint an 8-hour demo token, never admin (local development mode only, 404 otherwise; ' +
          'from this machine only, 403 otherwise). Every mint is audited (`token.minted`).',
        tags: ['development'],
        body: devTokenRequestSchema,
        response: {
          200: devTokenReplySchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_NOT_FOUND'),
        },
      },
    },
    async (request) => {
      const dev = refuseUnlessDev(request);
      const { organisationId, role } = request.body;
      const organisation = deps.registry.get(organisationId);
      if (!organisation?.enabled)
        throw new RenkeiError('RENKEI_NOT_FOUND', `no organisation ${organisationId}`);
      if (GSOC_ONLY_ROLES.includes(role) && organisation.kind !== 'gsoc')
        throw new RenkeiError('RENKEI_FORBIDDEN', `${role} is for GSOC organisations only`);
      const signingKey = JSON.parse(await readFile(dev.signingKeyFile, 'utf8')) as Parameters<
        typeof mintToken
      >[0];
      const subject = `${organisationId}-${role}-demo`;
      const token = await mintToken(
        signingKey,
        { sub: subject, org: organisationId, sector: organisation.sector, roles: [role] },
        { issuer: dev.issuer, audience: dev.audience, ttl: DEMO_TOKEN_TTL },
      );
      // Recorded before the token leaves: a mint the log does not hold is never handed out.
      await recordAudit(deps.pool, {
        kind: 'token.minted',
        actor: null,
        organisationId,
        object: subject,
        outcome: 'success',
        details: {
          via: 'demo sign-in',
          role,
          ttl: DEMO_TOKEN_TTL,
          remoteAddress: request.raw.socket.remoteAddress ?? null,
        },
      });
      deps.logger.info({ organisationId, role }, 'demo token minted (development mode)');
      return { token };
    },
  );
}
