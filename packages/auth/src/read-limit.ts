import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { RenkeiError } from '@renkei/runtime';
import type { Principal } from '@renkei/schema';
import { InFlightSlots, TokenBuckets, type BucketRate } from './read-budget.js';

/** What one tier of callers may read, per organisation and process. */
export interface ReadBudget extends BucketRate {
  /** Expensive reads (exports, TAXII pages) one organisation may have in flight at once. */
  expensiveInFlight: number;
}

export interface ReadLimits {
  /** Every member's tokens (reporters, CEPTARs) and anonymous TAXII readers (per address). */
  member: ReadBudget;
  /** Tokens with the analyst or admin role: a larger budget, not an unlimited one. */
  analyst: ReadBudget;
}

/** What a read of one route costs, in read units; `expensive` reads also take an in-flight slot. */
export interface ReadCost {
  /** A number, or one read off the request when its query changes the work (a later page of a walk). */
  cost: number | ((request: FastifyRequest) => number);
  expensive?: boolean;
}

/**
 * Costs by `GET <route pattern>` (the pattern as declared, e.g.
 * `GET /v1/alerts/:id`, never a raw URL), or `POST <pattern>` for a read that
 * takes a body (a route with `config: { read: true }`, such as a bulk
 * lookup). A read not listed costs {@link DEFAULT_READ_COST}.
 */
export type ReadCostTable = Readonly<Record<string, ReadCost>>;

/** One item: the unit every other cost is measured in. */
export const DEFAULT_READ_COST = 1;

const READ_METHODS = new Set(['GET', 'HEAD']);
const TIERED_ROLES = new Set(['analyst', 'admin']);

/** An in-flight slot frees within this, as a rule: an export takes about a second. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * Limits reads (GET, HEAD, and routes marked `config: { read: true }`) per organisation with a token bucket weighted by
 * the route's cost, and caps the expensive reads one organisation has in
 * flight: past either, 429 `RENKEI_RATE_LIMITED` with `Retry-After`. Counting
 * is per process, like the write limit. Public routes (health, metrics, the
 * console's files) and WebSocket upgrades are not counted; anonymous TAXII
 * readers are counted per address on the member budget.
 *
 * Register it before the routes. It wraps each read route's handler rather
 * than hooking the request: the slot of an expensive read is then held from
 * the moment its work starts until its answer has been sent (or the client
 * went away and the work is over), whatever hooks before it refused the
 * request, and a request refused by the in-flight cap is not charged.
 */
export function limitReadsPerOrganisation(
  app: FastifyInstance,
  {
    limits,
    costs = {},
    now = () => performance.now(),
  }: { limits: ReadLimits; costs?: ReadCostTable; now?: () => number },
): void {
  const buckets = new TokenBuckets();
  const slots = new InFlightSlots();

  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    const readWithBody = route.config?.read === true;
    if (!readWithBody && !methods.every((method) => READ_METHODS.has(method))) return;
    if (route.config?.public === true || (route as { websocket?: boolean }).websocket === true) return;
    const key = `${readWithBody ? methods[0] : 'GET'} ${route.url}`;
    const { cost, expensive = false } = costs[key] ?? { cost: DEFAULT_READ_COST };
    const handler = route.handler as RouteHandlerMethod;
    route.handler = async function limited(this: FastifyInstance, request, reply) {
      const { key, budget } = callerOf(request, limits);
      const release = expensive ? slots.tryAcquire(key, budget.expensiveInFlight) : undefined;
      if (expensive && release === undefined) {
        refuse(
          reply,
          IN_FLIGHT_RETRY_AFTER_SECONDS,
          `at most ${budget.expensiveInFlight} exports, TAXII pages or lookups in flight per organisation; retry after ${IN_FLIGHT_RETRY_AFTER_SECONDS} s`,
        );
      }
      const price = typeof cost === 'function' ? cost(request) : cost;
      const taken = buckets.take(key, price, budget, now());
      if (!taken.granted) {
        release?.();
        const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
        refuse(
          reply,
          seconds,
          `this read costs ${price} of the organisation's ${budget.perSecond} read units per second (burst ${budget.burst}); retry after ${seconds} s`,
        );
      }
      try {
        return await handler.call(this, request, reply);
      } finally {
        if (release) releaseWhenAnswered(reply, release);
      }
    } as RouteHandlerMethod;
  });
}

function callerOf(request: FastifyRequest, limits: ReadLimits): { key: string; budget: ReadBudget } {
  const principal: Principal | null = request.principal;
  if (principal === null) return { key: `address:${request.ip}`, budget: limits.member };
  const analyst = principal.roles.some((role) => TIERED_ROLES.has(role));
  // Analysts' tokens spend a bucket of their own: a member token of the same organisation cannot drain it.
  return analyst
    ? { key: `organisation:${principal.organisationId}:analyst`, budget: limits.analyst }
    : { key: `organisation:${principal.organisationId}`, budget: limits.member };
}

function refuse(reply: FastifyReply, retryAfterSeconds: number, message: string): never {
  reply.header('retry-after', String(retryAfterSeconds));
  throw new RenkeiError('RENKEI_RATE_LIMITED', message);
}

/**
 * The handler has returned; its answer may still be on its way (a stream).
 * The slot frees when the response has finished or its connection closed.
 */
function releaseWhenAnswered(reply: FastifyReply, release: () => void): void {
  const response = reply.raw;
  if (response.writableFinished || response.destroyed || reply.request.raw.socket?.destroyed === true) {
    release();
    return;
  }
  response.once('finish', release);
  response.once('close', release);
}
